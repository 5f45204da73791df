from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmRetailRedeemWizard(models.TransientModel):
    """Pay part of a draft invoice with loyalty points: a discount line of the
    reward's product, whose points leave the card when the invoice is posted."""

    _name = "crm.retail.redeem.wizard"
    _description = "Redeem Loyalty Points on an Invoice"

    move_id = fields.Many2one("account.move", required=True, readonly=True)
    partner_id = fields.Many2one(related="move_id.commercial_partner_id")
    currency_id = fields.Many2one(related="move_id.currency_id")
    card_id = fields.Many2one(
        "loyalty.card",
        string="Loyalty Card",
        required=True,
        domain="[('partner_id', '=', partner_id),"
        " ('crm_earn_from_invoices', '=', True), ('points', '>', 0)]",
    )
    card_points = fields.Float(related="card_id.points", string="Available Points")
    reward_id = fields.Many2one(
        "loyalty.reward",
        required=True,
        domain="[('program_id', '=', program_id), ('reward_type', '=', 'discount'),"
        " ('discount_mode', 'in', ('per_point', 'per_order'))]",
    )
    program_id = fields.Many2one(related="card_id.program_id")
    points = fields.Float(string="Points to Redeem", required=True)
    amount = fields.Monetary(
        string="Discount", compute="_compute_amount", currency_field="currency_id"
    )

    @api.onchange("card_id")
    def _onchange_card_id(self):
        self.reward_id = self.card_id.program_id.reward_ids.filtered(
            lambda r: (
                r.reward_type == "discount"
                and r.discount_mode in ("per_point", "per_order")
            )
        )[:1]

    @api.onchange("reward_id")
    def _onchange_reward_id(self):
        if self.reward_id:
            self.points = self.reward_id.required_points

    @api.depends("reward_id", "points", "move_id")
    def _compute_amount(self):
        for wizard in self:
            wizard.amount = wizard._discount_for(wizard.points)

    def _discount_for(self, points):
        self.ensure_one()
        reward = self.reward_id
        if not reward or points <= 0:
            return 0.0
        if reward.discount_mode == "per_point":
            amount = reward.discount * points
        else:
            count = (
                int(points // reward.required_points) if reward.required_points else 1
            )
            amount = reward.discount * count
        if reward.discount_max_amount:
            amount = min(amount, reward.discount_max_amount)
        move = self.move_id
        amount = reward.currency_id._convert(
            amount, move.currency_id, move.company_id, move.invoice_date or move.date
        )
        return min(amount, move.amount_total)

    def action_redeem(self):
        self.ensure_one()
        move = self.move_id
        _ = self.env._
        if move.state != "draft" or move.move_type != "out_invoice":
            raise UserError(
                _("Points can only be redeemed on a draft customer invoice.")
            )
        if self.card_id.partner_id != move.commercial_partner_id:
            raise UserError(_("The loyalty card must belong to the invoiced customer."))
        if self.points <= 0:
            raise UserError(_("Enter the number of points to redeem."))
        if (
            self.reward_id.required_points
            and self.points < self.reward_id.required_points
        ):
            raise UserError(
                _(
                    "This reward needs at least %(points)s points.",
                    points=self.reward_id.required_points,
                )
            )
        reward = self.reward_id
        if (
            reward.discount_mode == "per_order"
            and reward.required_points
            and self.points % reward.required_points
        ):
            raise UserError(
                _(
                    "This reward is given per %(points)s points: redeem a multiple of "
                    "%(points)s points.",
                    points=format(reward.required_points, "g"),
                )
            )
        already = sum(
            move.invoice_line_ids.filtered(
                lambda ln: ln.crm_loyalty_card_id == self.card_id
            ).mapped("crm_loyalty_points")
        )
        if self.points + already > self.card_id.points:
            raise UserError(
                _(
                    "The card holds %(available)s points; %(asked)s are asked on this "
                    "invoice. Redeem fewer points.",
                    available=self.card_id.points,
                    asked=self.points + already,
                )
            )
        amount = self._discount_for(self.points)
        if amount <= 0:
            raise UserError(_("These points give no discount on this invoice."))
        product = self.reward_id.discount_line_product_id
        move.write(
            {
                "invoice_line_ids": [
                    fields.Command.create(
                        {
                            "product_id": product.id,
                            "name": _(
                                "%(reward)s: %(points)s points",
                                reward=self.reward_id.description,
                                points=self.points,
                            ),
                            "quantity": 1,
                            "price_unit": -amount,
                            "tax_ids": [fields.Command.clear()],
                            "crm_loyalty_card_id": self.card_id.id,
                            "crm_loyalty_points": self.points,
                        }
                    )
                ]
            }
        )
        return {"type": "ir.actions.act_window_close"}
