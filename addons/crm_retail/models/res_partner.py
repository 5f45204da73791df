from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression

RETAIL_GROUPS = "crm_retail.group_retail_user"


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Stored recommendations of the commercial entity, searchable from partners
    # (crm_marketing's segments filter partners with a domain on it).
    crm_retail_recommendation_ids = fields.One2many(
        "crm.retail.recommendation", "partner_id", string="Product Recommendations"
    )

    # Customer 360°: the loyalty card of the commercial entity in the current
    # company's invoice-earning program, so that a company and each of its
    # contacts show the same card. Store staff only: points and tiers are money.
    crm_retail_card_id = fields.Many2one(
        "loyalty.card",
        string="Loyalty Card",
        compute="_compute_crm_retail_loyalty",
        groups=RETAIL_GROUPS,
    )
    crm_retail_tier_id = fields.Many2one(
        "crm.retail.tier",
        string="Loyalty Tier",
        compute="_compute_crm_retail_loyalty",
        search="_search_crm_retail_tier_id",
        groups=RETAIL_GROUPS,
    )
    crm_retail_points = fields.Float(
        string="Loyalty Points",
        compute="_compute_crm_retail_loyalty",
        groups=RETAIL_GROUPS,
    )
    crm_retail_points_expiring = fields.Float(
        string="Points Expiring Soon",
        compute="_compute_crm_retail_loyalty",
        groups=RETAIL_GROUPS,
        help="Points that expire within the program's expiry notice period.",
    )
    crm_retail_next_expiry = fields.Date(
        string="Next Expiry",
        compute="_compute_crm_retail_loyalty",
        groups=RETAIL_GROUPS,
        help="Date on which the card's next points expire.",
    )
    crm_retail_last_purchase = fields.Date(
        string="Last Purchase",
        compute="_compute_crm_retail_last_purchase",
        groups=RETAIL_GROUPS,
        help="Date of the last posted customer invoice with the current company.",
    )
    crm_retail_recommendation_line_ids = fields.Many2many(
        "crm.retail.recommendation",
        string="Recommended Products",
        compute="_compute_crm_retail_recommendation_line_ids",
        groups=RETAIL_GROUPS,
        help="The best recommendations of products in stock for the customer.",
    )

    @api.depends("commercial_partner_id")
    @api.depends_context("company", "uid")
    def _compute_crm_retail_loyalty(self):
        cards = self._crm_retail_cards()
        empty = self.env["loyalty.card"]
        for partner in self:
            card = cards.get(partner.commercial_partner_id._origin.id, empty)
            partner.crm_retail_card_id = card
            partner.crm_retail_tier_id = card.crm_tier_id
            partner.crm_retail_points = card.points
            # One read of the lots for all the cards found (their prefetch set).
            partner.crm_retail_points_expiring = card.crm_points_expiring
            partner.crm_retail_next_expiry = card.crm_next_expiry_date

    def _search_crm_retail_tier_id(self, operator, value):
        """Partners whose company holds a card in such a tier (segments filter on
        it); "no tier" is not searchable, it would also match non-customers."""
        if operator in expression.NEGATIVE_TERM_OPERATORS or not value:
            raise UserError(
                self.env._("Filter on the tiers customers have, not on their absence.")
            )
        cards = self.env["loyalty.card"]._search(
            [
                ("crm_tier_id", operator, value),
                ("program_id.crm_earn_from_invoices", "=", True),
            ]
        )
        return [("commercial_partner_id", "in", cards.subselect("partner_id"))]

    @api.depends("commercial_partner_id")
    @api.depends_context("company")
    def _compute_crm_retail_last_purchase(self):
        # Store staff rarely hold accounting rights: read the posted invoices as
        # superuser, of the current company only; the field is for store staff.
        last = {
            partner.id: date
            for partner, date in self.env["account.move"]
            # sudo: see above, posted invoices of the current company only.
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", self.commercial_partner_id.ids),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("company_id", "=", self.env.company.id),
                ],
                ["commercial_partner_id"],
                ["invoice_date:max"],
            )
        }
        for partner in self:
            partner.crm_retail_last_purchase = last.get(
                partner.commercial_partner_id._origin.id, False
            )

    @api.depends("commercial_partner_id")
    @api.depends_context("company", "uid")
    def _compute_crm_retail_recommendation_line_ids(self):
        Recommendation = self.env["crm.retail.recommendation"]
        commercial = self.commercial_partner_id._origin
        # The best recommendations per customer, their stock checked again for
        # all the customers at once.
        by_partner = (
            Recommendation._for_partners(commercial, limit=5) if commercial else {}
        )
        for partner in self:
            recommendations = (
                by_partner.get(partner.commercial_partner_id._origin.id) or ()
            )
            partner.crm_retail_recommendation_line_ids = Recommendation.browse(
                [recommendation.id for recommendation in recommendations]
            )

    def _crm_retail_cards(self):
        """{commercial partner id: card} in the current company's invoice-earning
        program (the first by sequence when there are several)."""
        commercial = self.commercial_partner_id._origin
        programs = self.env["loyalty.program"]._crm_invoice_programs(self.env.company)
        if not commercial or not programs:
            return {}
        cards = self.env["loyalty.card"].search(
            [("partner_id", "in", commercial.ids), ("program_id", "in", programs.ids)],
            order="program_id, id",
        )
        result = {}
        for card in cards:
            result.setdefault(card.partner_id.id, card)
        return result

    def action_view_crm_retail_card(self):
        """Open the customer's loyalty card in the current company."""
        self.ensure_one()
        card = self.crm_retail_card_id
        if not card:
            return False
        return {
            "type": "ir.actions.act_window",
            "name": card.program_id.name,
            "res_model": "loyalty.card",
            "res_id": card.id,
            "views": [(False, "form")],
            "target": "current",
        }

    # Batch "recommendations" (crm.batch): the recommendations are refreshed a
    # chunk of customers at a time, customers being the unit a refresh replaces.
    # Rows: the commercial entities with posted customer invoices, or with
    # recommendations left from invoices since cancelled. Every run goes over all
    # of them, as the daily refresh did; a chunk refreshed twice gives the same.

    @api.model
    def _batch_recommendations_domain(self):
        invoiced = self.env["account.move"]._search(
            [("move_type", "=", "out_invoice"), ("state", "=", "posted")]
        )
        recommended = self.env["crm.retail.recommendation"]._search([])
        return [
            "|",
            ("id", "in", invoiced.subselect("commercial_partner_id")),
            ("id", "in", recommended.subselect("partner_id")),
        ]

    def _batch_recommendations_process(self):
        self.env["crm.retail.recommendation"]._refresh_partners(self)
