from odoo import api, models


class CrmLead(models.Model):
    _name = "crm.lead"
    _inherit = ["crm.lead", "crm.engagement.mixin"]

    # Batch "recompute_lead_scores" (crm.batch): leads whose score decays.

    @api.model
    def _batch_recompute_lead_scores_domain(self):
        Event = self.env["crm.marketing.engagement.event"]
        return Event._decaying_domain("crm.lead")

    def _batch_recompute_lead_scores_process(self):
        # The batch browses with active_test off; the scoring and qualification
        # read as they do outside a batch (archived leads are not qualified).
        leads = self.with_context(active_test=True)
        leads.env["crm.marketing.engagement.event"]._recompute_scores(leads)
