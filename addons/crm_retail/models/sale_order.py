from collections import defaultdict

from odoo import models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _program_check_compute_points(self, programs):
        """Programs earning on invoices give no points on the order: its invoice
        will. They stay applicable, so their rewards can still be claimed here."""
        result = super()._program_check_compute_points(programs)
        for program, status in result.items():
            if program.crm_earn_from_invoices and "points" in status:
                status["points"] = [0] * len(status["points"]) or [0]
        return result

    def _update_programs_and_rewards(self):
        """Points earned on invoices sit on the card of the customer's company:
        an order of one of its contacts can spend them too."""
        for order in self:
            commercial = order.partner_id.commercial_partner_id
            if commercial == order.partner_id or not order._allow_nominative_programs():
                continue
            cards = self.env["loyalty.card"].search(
                [
                    ("partner_id", "=", commercial.id),
                    ("points", ">", 0),
                    ("program_id.crm_earn_from_invoices", "=", True),
                    ("id", "not in", order.applied_coupon_ids.ids),
                ]
            )
            if cards:
                order.applied_coupon_ids += cards
        return super()._update_programs_and_rewards()

    def _try_apply_program(self, program, coupon=None):
        # The card of an invoice-earning program is the company's (see above).
        if not coupon and program.crm_earn_from_invoices:
            commercial = self.partner_id.commercial_partner_id
            if commercial != self.partner_id:
                coupon = (
                    self.env["loyalty.card"].search(
                        [
                            ("partner_id", "=", commercial.id),
                            ("program_id", "=", program.id),
                        ],
                        limit=1,
                    )
                    or None
                )
        return super()._try_apply_program(program, coupon=coupon)

    def action_confirm(self):
        drafts = self.filtered(lambda order: order.state != "sale")
        res = super().action_confirm()
        drafts._crm_loyalty_redeem()
        return res

    def _action_cancel(self):
        confirmed = self.filtered(lambda order: order.state == "sale")
        res = super()._action_cancel()
        # sale_loyalty gave the points back to the card; the lots get theirs back.
        # sudo: cancelling an order releases its own ledger lines, whoever does it.
        self.env["crm.retail.loyalty.consumption"].sudo().search(
            [("order_id", "in", confirmed.ids), ("kind", "=", "redeem")]
        ).unlink()
        return res

    def _crm_loyalty_redeem(self):
        """Points spent on rewards of invoice-earning programs leave the card's
        lots oldest first, like points redeemed on an invoice."""
        cost = defaultdict(float)
        for line in self.order_line:
            if line.coupon_id.program_id.crm_earn_from_invoices and line.points_cost:
                cost[line.order_id, line.coupon_id] += line.points_cost
        if not cost:
            return
        # sudo: confirming an order spends its customer's points, whoever confirms it.
        env = self.sudo().env
        cards = env["loyalty.card"]
        for _order, card in cost:
            cards |= card
        cards._crm_lock()
        Consumption = env["crm.retail.loyalty.consumption"]
        done = {
            (c.order_id, c.card_id)
            for c in Consumption.search(
                [("order_id", "in", self.ids), ("kind", "=", "redeem")]
            )
        }
        pending = defaultdict(float)
        values = []
        for (order, card), points in cost.items():
            if (order, card) not in done:
                values += card.with_env(env)._crm_take(
                    points, "redeem", pending, order=order
                )
        Consumption.create(values)
