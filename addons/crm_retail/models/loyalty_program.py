from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_round


class LoyaltyProgram(models.Model):
    _inherit = "loyalty.program"

    crm_earn_from_invoices = fields.Boolean(
        string="Earn on Invoices",
        help="Points are earned when a customer invoice is posted, on the card of the "
        "customer's company, and taken back by its credit notes. Orders no longer "
        "earn points for this program, so nothing is counted twice; rewards are "
        "still claimed on orders.",
    )
    crm_refund_without_origin = fields.Selection(
        [("ignore", "Ignore"), ("deduct", "Deduct by amount")],
        string="Credit Note Without Invoice",
        default="deduct",
        required=True,
        help="A credit note that does not refund a known invoice either takes points "
        "back as the rules would have given them on its amount, or is ignored.",
    )
    crm_points_validity_months = fields.Integer(
        string="Points Expire After",
        help="Months after the invoice date at which points expire, oldest first. "
        "0: points never expire.",
    )
    crm_expiry_notice_days = fields.Integer(
        string="Expiry Notice",
        default=30,
        help="Days before points expire at which the customer is told by email.",
    )
    crm_point_value = fields.Monetary(
        string="Value of a Point",
        currency_field="currency_id",
        help="What one point costs the shop when redeemed, for the liability report.",
    )
    crm_tier_ids = fields.One2many("crm.retail.tier", "program_id", string="Tiers")
    crm_tier_review_months = fields.Integer(
        string="Tier Review After",
        default=12,
        help="Months after reaching a tier at which it is reviewed; only then can the "
        "customer move down.",
    )
    crm_tier_grace_days = fields.Integer(
        string="Grace Period",
        default=30,
        help="Days after the review date during which a customer below the tier's "
        "threshold keeps it, to give them time to buy again.",
    )

    @api.constrains(
        "crm_earn_from_invoices",
        "program_type",
        "crm_points_validity_months",
        "crm_tier_review_months",
        "crm_tier_grace_days",
        "crm_expiry_notice_days",
    )
    def _check_crm_invoice_settings(self):
        for program in self.filtered("crm_earn_from_invoices"):
            if program.program_type != "loyalty":
                raise ValidationError(
                    self.env._(
                        "Only loyalty card programs can earn on invoices; %(name)s is "
                        "not one. Change its type or untick Earn on Invoices.",
                        name=program.name,
                    )
                )
            if (
                min(
                    program.crm_points_validity_months,
                    program.crm_tier_review_months,
                    program.crm_tier_grace_days,
                    program.crm_expiry_notice_days,
                )
                < 0
            ):
                raise ValidationError(
                    self.env._(
                        "The expiry, notice, review and grace periods of %(name)s "
                        "cannot be negative.",
                        name=program.name,
                    )
                )

    @api.model
    def _crm_invoice_programs(self, companies):
        """Active programs earning on invoices for ``companies``."""
        domain = [
            ("crm_earn_from_invoices", "=", True),
            ("active", "=", True),
            ("company_id", "in", [*companies.ids, False]),
        ]
        return self.search(domain)

    def _crm_applies_on(self, move):
        self.ensure_one()
        date = move.invoice_date or move.date
        return (
            (not self.company_id or self.company_id == move.company_id)
            and (not self.date_from or self.date_from <= date)
            and (not self.date_to or date <= self.date_to)
        )

    def _crm_points_for_moves(self, moves):
        """Points the rules of these programs give on each move, before any tier
        multiplier: {(program, move): points}. Credit notes get positive points
        too, computed on their own lines. Lines of loyalty rewards (redeemed points,
        discounts claimed on the order) neither earn nor count towards a minimum."""
        lines_by_move = defaultdict(lambda: self.env["account.move.line"])
        for line in moves.invoice_line_ids:
            if (
                line.display_type == "product"
                and not line.crm_loyalty_card_id
                and not line.sale_line_ids.reward_id
            ):
                lines_by_move[line.move_id] |= line
        all_products = moves.invoice_line_ids.product_id
        result = {}
        for program in self:
            products_per_rule = program._get_valid_products(all_products)
            for move in moves:
                if not program._crm_applies_on(move):
                    continue
                lines = lines_by_move[move]
                date = move.invoice_date or move.date
                points = 0.0
                for rule in program.rule_ids.filtered(lambda r: r.mode == "auto"):
                    if rule._get_valid_product_domain():
                        rule_products = products_per_rule.get(rule)
                        rule_lines = lines.filtered(
                            lambda ln, p=rule_products: ln.product_id in p
                        )
                    else:
                        # A rule on no product in particular counts every line,
                        # those without a product too.
                        rule_lines = lines
                    if not rule_lines:
                        continue
                    untaxed = sum(rule_lines.mapped("price_subtotal"))
                    total = sum(rule_lines.mapped("price_total"))
                    minimum = rule.currency_id._convert(
                        rule.minimum_amount, move.currency_id, move.company_id, date
                    )
                    base = total if rule.minimum_amount_tax_mode == "incl" else untaxed
                    if minimum > base:
                        continue
                    quantity = sum(
                        ln.product_uom_id._compute_quantity(
                            ln.quantity, ln.product_id.uom_id
                        )
                        if ln.product_id and ln.product_uom_id
                        else ln.quantity
                        for ln in rule_lines
                    )
                    if quantity < rule.minimum_qty:
                        continue
                    if rule.reward_point_mode == "order":
                        points += rule.reward_point_amount
                    elif rule.reward_point_mode == "unit":
                        points += rule.reward_point_amount * quantity
                    else:
                        # Per unit of the program's currency paid, taxes included.
                        paid = move.currency_id._convert(
                            total, program.currency_id, move.company_id, date
                        )
                        points += float_round(
                            rule.reward_point_amount * paid,
                            precision_digits=2,
                            rounding_method="DOWN",
                        )
                if points > 0:
                    result[program, move] = points
        return result
