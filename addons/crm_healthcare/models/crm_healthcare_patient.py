import logging

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

_logger = logging.getLogger(__name__)

try:
    from cryptography.fernet import Fernet, InvalidToken
except ImportError:  # an Odoo requirement; guarded for linters only
    Fernet = InvalidToken = None

# Demographics and insurance: the front desk books and invoices with them.
DEMOGRAPHIC_GROUPS = (
    "crm_healthcare.group_healthcare_front_desk,"
    "crm_healthcare.group_healthcare_clinician"
)
# Clinical data: clinicians (managers imply them) only.
CLINICAL_GROUPS = "crm_healthcare.group_healthcare_clinician"
KEY_PARAMETER = "crm_healthcare_key"


class CrmHealthcarePatient(models.Model):
    """A patient: the health side of a contact.

    The contact (``partner_id``) keeps only what any employee may see: name,
    phone, email, address. Everything else here is protected health
    information, tagged ``phi=True`` and restricted by ``groups``; none of it
    is tracked in the chatter nor part of the display name. The clinical note
    is encrypted at rest with a key from the server configuration.
    """

    _name = "crm.healthcare.patient"
    _description = "Patient"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "name, id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        required=True,
        ondelete="restrict",
        index=True,
        tracking=True,
    )
    name = fields.Char(related="partner_id.name", store=True, index="trigram")
    phone = fields.Char(related="partner_id.phone", readonly=False)
    email = fields.Char(related="partner_id.email", readonly=False)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)

    # Protected health information.
    date_of_birth = fields.Date(phi=True, groups=DEMOGRAPHIC_GROUPS)
    medical_record_number = fields.Char(
        string="Medical Record Number",
        phi=True,
        groups=DEMOGRAPHIC_GROUPS,
        copy=False,
        index=True,
        help="Given by the clinic's sequence when the patient is created.",
    )
    insurer_id = fields.Many2one(
        "res.partner",
        string="Insurer",
        phi=True,
        groups=DEMOGRAPHIC_GROUPS,
        domain=[("is_company", "=", True)],
        index="btree_not_null",
    )
    policy_number = fields.Char(phi=True, groups=DEMOGRAPHIC_GROUPS)
    coverage_percent = fields.Float(
        string="Coverage (%)",
        phi=True,
        groups=DEMOGRAPHIC_GROUPS,
        help="Share of a visit paid by the insurer.",
    )
    allergies = fields.Text(phi=True, groups=CLINICAL_GROUPS)
    # Ciphertext only (Fernet token): never searched, prefetched or exported.
    clinical_note_encrypted = fields.Text(
        groups=CLINICAL_GROUPS, prefetch=False, copy=False, exportable=False
    )
    clinical_note = fields.Text(
        phi=True,
        groups=CLINICAL_GROUPS,
        compute="_compute_clinical_note",
        inverse="_inverse_clinical_note",
        exportable=False,
        help="Encrypted at rest with the key crm_healthcare_key of the server "
        "configuration.",
    )

    primary_provider_id = fields.Many2one(
        "crm.healthcare.provider",
        string="Primary Provider",
        check_company=True,
        index="btree_not_null",
        tracking=True,
    )
    appointment_ids = fields.One2many(
        "crm.healthcare.appointment", "patient_id", string="Appointments"
    )
    appointment_count = fields.Integer(compute="_compute_appointment_count")
    no_show_count = fields.Integer(
        string="No-Shows", readonly=True, copy=False, help="Appointments missed."
    )
    reminder_channel = fields.Selection(
        [("email", "Email"), ("sms", "SMS"), ("none", "No Reminders")],
        required=True,
        default="email",
        help="How the patient asked to be reminded of appointments; their consent "
        "for health reminders must allow that channel too.",
    )

    _sql_constraints = [
        (
            "medical_record_number_unique",
            "UNIQUE(company_id, medical_record_number)",
            "Another patient of this company has this medical record number.",
        ),
        (
            "partner_company_unique",
            "UNIQUE(partner_id, company_id)",
            "This contact is already a patient of this company.",
        ),
    ]

    def _compute_appointment_count(self):
        counts = dict(
            self.env["crm.healthcare.appointment"]._read_group(
                [("patient_id", "in", self.ids)], ["patient_id"], ["__count"]
            )
        )
        for patient in self:
            patient.appointment_count = counts.get(patient, 0)

    @api.model
    def _crm_fernet(self):
        """The cipher of clinical notes, or None when no key is configured."""
        key = tools.config.get(KEY_PARAMETER)
        if not key:
            return None
        return Fernet(key.encode() if isinstance(key, str) else key)

    @api.depends("clinical_note_encrypted")
    def _compute_clinical_note(self):
        fernet = self._crm_fernet()
        for patient in self:
            token = patient.clinical_note_encrypted
            if not token or fernet is None:
                patient.clinical_note = False
                continue
            try:
                patient.clinical_note = fernet.decrypt(token.encode()).decode()
            except InvalidToken:
                # Another key than the one that encrypted it: never guess.
                _logger.warning(
                    "Clinical note of patient %s cannot be decrypted with the "
                    "configured %s.",
                    patient.id,
                    KEY_PARAMETER,
                )
                patient.clinical_note = False

    def _inverse_clinical_note(self):
        fernet = self._crm_fernet()
        if fernet is None:
            raise UserError(
                self.env._(
                    "Set crm_healthcare_key in the server configuration (a Fernet "
                    "key: python3 -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())')"
                )
            )
        for patient in self:
            note = patient.clinical_note
            patient.clinical_note_encrypted = (
                fernet.encrypt(note.encode()).decode() if note else False
            )

    @api.constrains("coverage_percent")
    def _check_coverage_percent(self):
        for patient in self:
            if not 0 <= patient.coverage_percent <= 100:
                raise ValidationError(
                    self.env._(
                        "The insurer's coverage is a percentage between 0 and 100."
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("medical_record_number"):
                company = self.env["res.company"].browse(
                    vals.get("company_id") or self.env.company.id
                )
                vals["medical_record_number"] = (
                    self.env["ir.sequence"]
                    .with_company(company)
                    .next_by_code("crm.healthcare.patient")
                )
        return super().create(vals_list)

    def action_open_appointments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_healthcare.crm_healthcare_appointment_action"
        )
        action["domain"] = [("patient_id", "=", self.id)]
        action["context"] = {
            "default_patient_id": self.id,
            "default_provider_id": self.primary_provider_id.id,
        }
        return action
