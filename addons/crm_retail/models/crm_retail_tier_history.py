from odoo import fields, models


class CrmRetailTierHistory(models.Model):
    """One tier change of a loyalty card, written by the tier review."""

    _name = "crm.retail.tier.history"
    _description = "Loyalty Tier Change"
    _order = "date desc, id desc"

    card_id = fields.Many2one(
        "loyalty.card", required=True, ondelete="cascade", index=True, readonly=True
    )
    partner_id = fields.Many2one(related="card_id.partner_id", store=True)
    program_id = fields.Many2one(related="card_id.program_id", store=True)
    company_id = fields.Many2one(related="card_id.company_id", store=True)
    currency_id = fields.Many2one(related="card_id.currency_id")
    date = fields.Date(required=True, readonly=True, default=fields.Date.context_today)
    old_tier_id = fields.Many2one("crm.retail.tier", string="From", readonly=True)
    new_tier_id = fields.Many2one("crm.retail.tier", string="To", readonly=True)
    direction = fields.Selection(
        [("up", "Upgrade"), ("down", "Downgrade")], required=True, readonly=True
    )
    paid_revenue = fields.Monetary(currency_field="currency_id", readonly=True)
    reason = fields.Char(required=True, readonly=True)
