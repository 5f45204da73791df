from odoo import fields, models


class CrmRetailTier(models.Model):
    """A level of a loyalty program (Bronze, Silver, Gold...), reached on the
    customer's paid revenue over the last twelve months."""

    _name = "crm.retail.tier"
    _description = "Loyalty Tier"
    _order = "program_id, threshold, id"

    name = fields.Char(required=True, translate=True)
    program_id = fields.Many2one(
        "loyalty.program", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="program_id.company_id", store=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    threshold = fields.Monetary(
        string="Paid Revenue from",
        currency_field="currency_id",
        help="Paid revenue over the last 12 months (payments reconciled with posted "
        "invoices, net of refunds) from which a customer reaches this tier.",
    )
    multiplier = fields.Float(
        string="Earn Multiplier",
        default=1.0,
        digits=(16, 2),
        help="Points earned on an invoice are multiplied by this factor.",
    )
    benefits = fields.Html(translate=True)
    color = fields.Integer()
    card_count = fields.Integer(compute="_compute_card_count")

    _sql_constraints = [
        (
            "threshold_unique",
            "UNIQUE(program_id, threshold)",
            "Two tiers of a program cannot start at the same paid revenue.",
        ),
        (
            "threshold_positive",
            "CHECK(threshold >= 0)",
            "A tier's paid revenue threshold cannot be negative.",
        ),
        (
            "multiplier_positive",
            "CHECK(multiplier > 0)",
            "A tier's earn multiplier must be greater than zero.",
        ),
    ]

    def _compute_card_count(self):
        counts = dict(
            self.env["loyalty.card"]._read_group(
                [("crm_tier_id", "in", self.ids)], ["crm_tier_id"], ["__count"]
            )
        )
        for tier in self:
            tier.card_count = counts.get(tier, 0)
