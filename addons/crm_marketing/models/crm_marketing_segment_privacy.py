from odoo import api, models


class CrmPrivacyEngine(models.AbstractModel):
    """RFM rows and segment memberships are profiling of a person: exported with
    their data; memberships are deleted when they are erased, and the RFM
    analysis leaves erased people out by itself."""

    _inherit = "crm.privacy.engine"

    @api.model
    def _privacy_specs(self):
        return super()._privacy_specs() + [
            {
                "model": "crm.marketing.rfm",
                "partner_field": "partner_id",
                "export": [
                    "company_id",
                    "last_invoice_date",
                    "frequency",
                    "monetary",
                    "rfm_code",
                    "cell",
                    "lifecycle",
                ],
                "erase": "derived",
            },
            {
                "model": "crm.marketing.segment.member",
                "partner_field": "partner_id",
                "export": ["segment_id", "date_joined"],
                "erase": "delete",
            },
            {
                "model": "crm.marketing.segment.member",
                "partner_field": "lead_id.partner_id",
                "export": ["segment_id", "lead_id", "date_joined"],
                "erase": "delete",
            },
        ]
