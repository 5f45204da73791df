from collections import defaultdict

from odoo import fields, models


class LoyaltyCardUpdateBalance(models.TransientModel):
    _inherit = "loyalty.card.update.balance"

    def action_update_card_point(self):
        """A manual change of an invoice-earning card goes through its lots: points
        added form a lot that expires like earned ones, points removed leave the
        oldest lots first."""
        card = self.card_id
        if not card.program_id.crm_earn_from_invoices:
            return super().action_update_card_point()
        card._crm_lock()
        difference = self.new_balance - card.points
        res = super().action_update_card_point()
        today = fields.Date.context_today(self)
        if difference > 0:
            # sudo: the ledger follows the balance the loyalty manager just set.
            Lot = self.env["crm.retail.loyalty.lot"].sudo()
            Lot.create(
                {
                    "card_id": card.id,
                    "date": today,
                    "expiry_date": Lot._expiry_for(card.program_id, today),
                    "points": difference,
                }
            )
        elif difference < 0:
            # sudo: the ledger follows the balance the loyalty manager just set.
            self.env["crm.retail.loyalty.consumption"].sudo().create(
                card._crm_take(-difference, "adjust", defaultdict(float), date=today)
            )
        return res
