import uuid

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, consteq

CHANNELS = [
    ("all", "All Channels"),
    ("email", "Email"),
    ("sms", "SMS"),
    ("phone", "Phone"),
    ("post", "Post"),
]
# Recorded only by the website's own flows (the web form, the emailed link).
SYSTEM_SOURCES = ("web_form", "double_opt_in")


class CrmConsent(models.Model):
    """One entry of the consent ledger.

    The ledger is append-only: a change of mind adds an entry, and the latest
    entry for a person, purpose and channel is what holds, by the order of
    recording (the id), whatever a clock said. An entry is dated the moment it
    is recorded and signed by whoever recorded it. Nobody edits or deletes
    entries through the ORM; only an erasure anonymises them.
    """

    _name = "crm.consent"
    _description = "Consent Record"
    _order = "id desc"
    _rec_name = "purpose_id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", string="Person", required=True, index=True, ondelete="restrict"
    )
    purpose_id = fields.Many2one(
        "crm.consent.purpose", required=True, index=True, ondelete="restrict"
    )
    channel = fields.Selection(CHANNELS, required=True, default="all")
    state = fields.Selection(
        [
            ("granted", "Granted"),
            ("withdrawn", "Withdrawn"),
            ("pending", "Pending Confirmation"),
        ],
        required=True,
        default="granted",
    )
    legal_basis = fields.Selection(
        [
            ("consent", "Consent"),
            ("contract", "Contract"),
            ("legal_obligation", "Legal Obligation"),
            ("vital_interest", "Vital Interest"),
            ("public_task", "Public Task"),
            ("legitimate_interest", "Legitimate Interest"),
        ],
        required=True,
        default="consent",
    )
    source = fields.Selection(
        [
            ("web_form", "Web Form"),
            ("double_opt_in", "Double Opt-in Link"),
            ("email", "Email"),
            ("phone", "Phone Call"),
            ("in_person", "In Person"),
            ("paper", "Signed Document"),
            ("import", "Import"),
            ("api", "API"),
            ("privacy_request", "Data-Subject Request"),
        ],
        required=True,
        default="in_person",
    )
    proof = fields.Text(help="What the person agreed to, and how we know.")
    ip_address = fields.Char(string="IP Address")
    document = fields.Binary(attachment=True, help="Signed form or recording.")
    document_name = fields.Char()
    user_id = fields.Many2one(
        "res.users",
        string="Recorded By",
        readonly=True,
        default=lambda self: self.env.user,
        help="Who recorded the entry; set by the system.",
    )
    date = fields.Datetime(
        required=True,
        readonly=True,
        default=fields.Datetime.now,
        index=True,
        help="When the entry was recorded; set by the system.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    access_token = fields.Char(copy=False, groups="base.group_system")

    @api.model_create_multi
    def create(self, vals_list):
        now = fields.Datetime.now()
        # Defaults count too: a caller may pass them in the context.
        defaults = self.default_get(["state", "source"])
        for vals in vals_list:
            for name, value in defaults.items():
                vals.setdefault(name, value)
            pending = vals["state"] == "pending"
            # Only the system's flows run in superuser mode: RPC callers never do.
            if (pending or vals["source"] in SYSTEM_SOURCES) and not self.env.su:
                raise AccessError(
                    self.env._(
                        "Pending consents and consents from the web form or the "
                        "emailed confirmation link are recorded by the website "
                        "only; record what the person told you with another source "
                        "(email, phone call, in person, signed document)."
                    )
                )
            # The ledger's order is the order of recording: no backdating.
            vals["date"] = now
            vals["user_id"] = self.env.uid
            # The confirmation link's token is the system's, never the caller's.
            vals["access_token"] = uuid.uuid4().hex if pending else False
        return super().create(vals_list)

    def write(self, vals):
        # Only the erasure engine (in superuser mode) anonymises entries.
        if not (self.env.su and self.env.context.get("crm_privacy_erasure")):
            raise UserError(
                self.env._(
                    "Consent history cannot be changed: record a new entry instead "
                    "(a withdrawal, a renewal)."
                )
            )
        return super().write(vals)

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(
            self.env._(
                "Consent history cannot be deleted; it is the proof of what each "
                "person agreed to."
            )
        )

    # ------------------------------------------------------------
    # The API other addons call before contacting someone
    # ------------------------------------------------------------

    @api.model
    def _current_states(self, partners, purpose, channel):
        """Return {partner id: state} of the latest entry that applies."""
        if not partners:
            return {}
        self.flush_model()
        return dict(
            self.env.execute_query(
                SQL(
                    """
            SELECT DISTINCT ON (partner_id) partner_id, state
              FROM crm_consent
             WHERE partner_id IN %(partners)s
               AND purpose_id = %(purpose)s
               AND channel IN %(channels)s
             ORDER BY partner_id, id DESC
            """,
                    partners=tuple(partners.ids),
                    purpose=purpose.id,
                    channels=("all", channel),
                )
            )
        )

    @api.model
    def _get_purpose(self, code):
        purpose = (
            self.env["crm.consent.purpose"]
            .sudo()
            .with_context(active_test=False)
            .search([("code", "=", code)], limit=1)
        )
        if not purpose:
            raise UserError(
                self.env._(
                    "There is no consent purpose with the code “%(code)s”; create it "
                    "in CRM > Configuration > Consent Purposes.",
                    code=code,
                )
            )
        return purpose

    @api.model
    def _request_double_opt_in(
        self, partners, purpose_code, source="web_form", ip=None
    ):
        """Record a pending consent per partner and email each the link to confirm."""
        purpose = self._get_purpose(purpose_code)
        entries = self.sudo().create(
            [
                {
                    "partner_id": partner.id,
                    "purpose_id": purpose.id,
                    "channel": "email",
                    "state": "pending",
                    "source": source,
                    "ip_address": ip,
                    "legal_basis": "consent",
                }
                for partner in partners
            ]
        )
        template = self.env.ref("crm_core.mail_template_consent_double_opt_in")
        template.sudo().send_mail_batch(entries.ids)
        return entries

    def _is_confirmable(self, token):
        """A pending entry, its token, and not confirmed yet."""
        self.ensure_one()
        entry = self.sudo()
        if (
            entry.state != "pending"
            or not entry.access_token
            or not consteq(entry.access_token, token or "")
        ):
            return False
        return not entry.search_count(
            [
                ("partner_id", "=", entry.partner_id.id),
                ("purpose_id", "=", entry.purpose_id.id),
                ("source", "=", "double_opt_in"),
                ("id", ">", entry.id),
            ],
            limit=1,
        )

    def _confirm_double_opt_in(self, token, ip=None):
        """Confirm a pending entry from its link: a granted entry is appended."""
        self.ensure_one()
        if not self._is_confirmable(token):
            return self.browse()
        entry = self.sudo()
        return entry.create(
            {
                "partner_id": entry.partner_id.id,
                "purpose_id": entry.purpose_id.id,
                "channel": entry.channel,
                "state": "granted",
                "source": "double_opt_in",
                "legal_basis": "consent",
                "ip_address": ip,
                "company_id": entry.company_id.id,
                "proof": self.env._(
                    "Confirmed by the link emailed for the request of %(date)s.",
                    date=entry.date,
                ),
            }
        )

    def get_confirmation_url(self):
        self.ensure_one()
        base = self.get_base_url()
        return f"{base}/crm/consent/confirm/{self.id}/{self.sudo().access_token}"
