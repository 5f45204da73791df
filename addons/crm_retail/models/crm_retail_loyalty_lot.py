from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

CONSUMPTION_KINDS = [
    ("refund", "Credit note"),
    ("redeem", "Redeemed"),
    ("expire", "Expired"),
    ("adjust", "Manual adjustment"),
]


class CrmRetailLoyaltyLot(models.Model):
    """Points earned at one time (one posted invoice, one manual top-up), with the
    date they expire. Points leave the card oldest lot first; what each lot gave
    is in its consumptions, so that every reversal puts back exactly what it took.

    Written only by the posting, reset and expiry flows, never by hand."""

    _name = "crm.retail.loyalty.lot"
    _description = "Points Lot"
    _order = "date desc, id desc"
    _rec_name = "card_id"

    card_id = fields.Many2one(
        "loyalty.card", required=True, ondelete="cascade", index=True, readonly=True
    )
    program_id = fields.Many2one(related="card_id.program_id", store=True)
    partner_id = fields.Many2one(related="card_id.partner_id", store=True, index=True)
    company_id = fields.Many2one(related="card_id.company_id", store=True)
    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        ondelete="set null",
        index="btree_not_null",
        readonly=True,
    )
    date = fields.Date(string="Earned on", required=True, readonly=True)
    expiry_date = fields.Date(string="Expires on", readonly=True, index=True)
    points = fields.Float(string="Earned", readonly=True)
    points_remaining = fields.Float(
        string="Remaining", compute="_compute_points_remaining", store=True
    )
    state = fields.Selection(
        [("active", "Active"), ("reversed", "Reversed")],
        default="active",
        required=True,
        readonly=True,
        help="Reversed: its invoice went back to draft or was cancelled.",
    )
    expiry_notice_sent = fields.Boolean(readonly=True, copy=False)
    consumption_ids = fields.One2many(
        "crm.retail.loyalty.consumption", "lot_id", readonly=True
    )

    _sql_constraints = [
        (
            "invoice_earns_once",
            "UNIQUE(card_id, move_id)",
            "An invoice earns points once on a card.",
        ),
    ]

    @api.depends("points", "state", "consumption_ids.points")
    def _compute_points_remaining(self):
        for lot in self:
            if lot.state != "active":
                lot.points_remaining = 0.0
            else:
                taken = sum(lot.consumption_ids.mapped("points"))
                lot.points_remaining = lot.card_id.currency_id.round(lot.points - taken)

    def _crm_refundable(self, refund, pending):
        """Points a credit note of this lot's invoice takes back: in proportion to
        the amount refunded, never more than the invoice earned in all."""
        self.ensure_one()
        origin = self.move_id
        ratio = 1.0
        if origin.amount_total_signed:
            ratio = min(
                1.0, abs(refund.amount_total_signed / origin.amount_total_signed)
            )
        refunded = sum(
            self.env["crm.retail.loyalty.consumption"]
            # sudo: what earlier credit notes took back, whoever posted them.
            .sudo()
            .search([("origin_lot_id", "=", self.id), ("kind", "=", "refund")])
            .mapped("points")
        )
        left = self.points - refunded - pending[self.id]
        return max(0.0, min(self.points * ratio, left))

    @api.model
    def _expiry_for(self, program, date):
        months = program.crm_points_validity_months
        return date + relativedelta(months=months) if months else False


class CrmRetailLoyaltyConsumption(models.Model):
    """Points that left a card: from which lot, why, and for which document.
    A consumption without a lot is what the card lacked (it went below zero)."""

    _name = "crm.retail.loyalty.consumption"
    _description = "Points Taken from a Lot"
    _order = "id desc"

    lot_id = fields.Many2one(
        "crm.retail.loyalty.lot", ondelete="cascade", index=True, readonly=True
    )
    card_id = fields.Many2one(
        "loyalty.card", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="card_id.company_id", store=True)
    kind = fields.Selection(CONSUMPTION_KINDS, required=True, readonly=True)
    points = fields.Float(readonly=True)
    date = fields.Date(required=True, readonly=True, default=fields.Date.context_today)
    move_id = fields.Many2one(
        "account.move", ondelete="set null", index="btree_not_null", readonly=True
    )
    order_id = fields.Many2one(
        "sale.order", ondelete="set null", index="btree_not_null", readonly=True
    )
    origin_lot_id = fields.Many2one(
        "crm.retail.loyalty.lot",
        string="Refunded Lot",
        ondelete="cascade",
        index="btree_not_null",
        readonly=True,
        help="For a credit note: the lot of the invoice it refunds.",
    )

    _sql_constraints = [
        ("points_positive", "CHECK(points > 0)", "A consumption takes points."),
    ]
