from odoo import api, models


class CrmPrivacyEngine(models.AbstractModel):
    """The engagement ledger is personal data: exported with the person, deleted
    when they are erased, and their scores wiped with it."""

    _inherit = "crm.privacy.engine"

    @api.model
    def _privacy_specs(self):
        return super()._privacy_specs() + [
            {
                "model": "crm.marketing.engagement.event",
                "partner_field": "partner_id",
                "export": ["date", "rule_id", "description", "points", "lead_id"],
                "erase": "delete",
            }
        ]

    @api.model
    def _erase(self, partners, sweep=True, with_contacts=True):
        subject = self._erasure_subject(partners, with_contacts)
        report = super()._erase(partners, sweep=sweep, with_contacts=with_contacts)
        # Their events are gone: scores and reasons drawn from them go too.
        # sudo: the erased person's leads, whoever owns them; officers only.
        leads = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            .search([("partner_id", "in", subject.ids)])
        )
        Event = self.env["crm.marketing.engagement.event"]
        Event._recompute_scores(subject)
        Event._recompute_scores(leads)
        return report
