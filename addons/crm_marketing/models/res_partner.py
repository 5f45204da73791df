from odoo import api, models


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "crm.engagement.mixin"]

    # Batch "recompute_contact_scores" (crm.batch): contacts whose score decays.

    @api.model
    def _batch_recompute_contact_scores_domain(self):
        Event = self.env["crm.marketing.engagement.event"]
        return Event._decaying_domain("res.partner")

    def _batch_recompute_contact_scores_process(self):
        # The batch browses with active_test off; the scoring reads as it does
        # outside a batch.
        contacts = self.with_context(active_test=True)
        contacts.env["crm.marketing.engagement.event"]._recompute_scores(contacts)
