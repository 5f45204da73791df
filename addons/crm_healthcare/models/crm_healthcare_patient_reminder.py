from odoo import api, fields, models


class CrmHealthcarePatient(models.Model):
    """The patient's first name, all a reminder may call them by."""

    _inherit = "crm.healthcare.patient"

    first_name = fields.Char(
        compute="_compute_first_name",
        help="Taken from the contact's name; what reminders greet the patient with.",
    )

    @api.depends("partner_id.name")
    def _compute_first_name(self):
        for patient in self:
            patient.first_name = self._crm_first_name(patient.partner_id.name)

    @api.model
    def _crm_first_name(self, full_name):
        """The first name in ``full_name``: "Jordan Settings" and "Settings,
        Jordan" give "Jordan"; empty for an empty name."""
        full_name = (full_name or "").strip()
        if "," in full_name:
            # "Last, First" as some clinics file their patients.
            full_name = full_name.split(",", 1)[1].strip() or full_name
        return full_name.split()[0] if full_name.split() else ""
