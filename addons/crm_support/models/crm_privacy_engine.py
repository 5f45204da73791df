from odoo import api, models


class CrmPrivacyEngine(models.AbstractModel):
    _inherit = "crm.privacy.engine"

    @api.model
    def _privacy_specs(self):
        return super()._privacy_specs() + [
            {
                "model": "crm.ticket",
                "partner_field": "partner_id",
                "export": [
                    "number",
                    "name",
                    "description",
                    "partner_email",
                    "channel",
                    "stage_id",
                    "create_date",
                    "date_closed",
                ],
                "erase": "anonymize",
                "values": {
                    "name": self.env._("Erased ticket"),
                    "description": False,
                    "partner_email": False,
                    "partner_name": False,
                    "email_cc": False,
                    "web_sender_ip": False,
                },
            }
        ]

    @api.model
    def _privacy_text_fields(self):
        # Other customers' tickets quoting the person: subject, body, copies.
        return super()._privacy_text_fields() + [
            ("crm.ticket", "name"),
            ("crm.ticket", "description"),
            ("crm.ticket", "email_cc"),
        ]
