from odoo import api, models


class CrmPrivacyEngine(models.AbstractModel):
    """Patients in data-subject requests.

    Export hands over the patient record's administrative fields and the
    appointments; clinical data (allergies, clinical notes) is released
    through the clinic's medical-record access procedure, where a clinician
    reviews it, not in a CRM export. Erasure keeps the medical records, as
    medical-record retention law requires, and says so in the report; the
    contact's name, email and phone are erased as for anyone else.
    """

    _inherit = "crm.privacy.engine"

    @api.model
    def _privacy_specs(self):
        reason = self.env._(
            "medical records must be kept for the retention period of "
            "medical-record law (for instance national health-record retention "
            "rules, which GDPR art. 17(3)(b) and (c) exempt from erasure): "
            "medical record number, visits, care plans and clinical data stay; "
            "the contact's name, email and phone shown on them are erased"
        )
        return super()._privacy_specs() + [
            {
                "model": "crm.healthcare.patient",
                "partner_field": "partner_id",
                "export": [
                    "name",
                    "email",
                    "phone",
                    "date_of_birth",
                    "medical_record_number",
                    "insurer_id",
                    "policy_number",
                    "coverage_percent",
                    "primary_provider_id",
                    "reminder_channel",
                    "no_show_count",
                    "create_date",
                ],
                "erase": "keep",
                "reason": reason,
            },
            {
                "model": "crm.healthcare.appointment",
                "partner_field": "patient_id.partner_id",
                "export": [
                    "name",
                    "start",
                    "stop",
                    "appointment_type_id",
                    "provider_id",
                    "room_id",
                    "state",
                ],
                "erase": "keep",
                "reason": reason,
            },
            {
                "model": "crm.healthcare.care.plan.step",
                "partner_field": "patient_id.partner_id",
                "export": ["name", "kind", "due_date", "state"],
                "erase": "keep",
                "reason": reason,
            },
        ]
