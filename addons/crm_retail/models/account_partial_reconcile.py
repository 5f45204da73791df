from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._crm_upgrade_tiers()
        return partials

    def _crm_upgrade_tiers(self):
        """A payment reconciled with a customer invoice can lift its customer to
        a higher tier at once; going down waits for the tier review."""
        moves = (self.debit_move_id | self.credit_move_id).move_id
        partners = moves.filtered(
            lambda m: m.move_type == "out_invoice" and m.state == "posted"
        ).commercial_partner_id
        if not partners:
            return
        cards = (
            self.env["loyalty.card"]
            # sudo: whoever registers a payment moves the customer's tier.
            .sudo()
            .search(
                [
                    ("partner_id", "in", partners.ids),
                    ("program_id.crm_tier_ids", "!=", False),
                    ("program_id.active", "=", True),
                ]
            )
        )
        cards._crm_review_tiers(upgrade_only=True)
