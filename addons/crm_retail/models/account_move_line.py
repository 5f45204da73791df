from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    # Set by the redemption wizard: the discount line pays with these points,
    # which leave the card when the invoice is posted.
    crm_loyalty_card_id = fields.Many2one(
        "loyalty.card",
        string="Loyalty Card",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    crm_loyalty_points = fields.Float(
        string="Points Redeemed", readonly=True, copy=False
    )
