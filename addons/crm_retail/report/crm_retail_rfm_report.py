from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists

SEGMENTS = [
    ("champions", "Champions"),
    ("loyal", "Loyal"),
    ("new", "New"),
    ("promising", "Promising"),
    ("need_attention", "Needs Attention"),
    ("cant_lose", "Can't Lose Them"),
    ("at_risk", "At Risk"),
    ("hibernating", "Hibernating"),
    ("lost", "Lost"),
]


class CrmRetailRfmReport(models.Model):
    """Recency, frequency and monetary value of the shop's customers, with their
    loyalty tier and points: what a store manager looks at to decide whom to
    thank, whom to win back and whom to let go.

    One row per (company, commercial entity) with at least one posted customer
    invoice with the company, from its posted invoices and credit notes:

    - recency: days since the last posted invoice (credit notes are not
      purchases); frequency: posted invoices; monetary: untaxed amount of the
      invoices less the credit notes, in the company's currency;
    - R, F and M scores from 1 to 5 by NTILE(5) over the company's customers (the
      most recent, most frequent, highest spending score 5). Customers with equal
      values share the lowest score NTILE gives them, so that two customers with
      one invoice each never score differently. Below five customers the top
      score is the number of customers;
    - a segment derived from R and FM (the average of F and M, rounded half up),
      the first that applies: Champions (R>=4, FM>=4), Loyal (R>=3, FM>=3), New
      (R>=4, one invoice), Promising (R>=4), Needs Attention (R=3), Can't Lose
      Them (FM>=4), At Risk (FM=3), Hibernating (R=2), Lost;
    - the tier and points balance of the customer's card in the company's
      invoice-earning loyalty program (the first by sequence if there are
      several); empty without a card.

    People who restricted processing, or were erased, are left out and do not
    count in the scores.

    crm_marketing (which this addon does not depend on) has its own RFM,
    ``crm.marketing.rfm``, which feeds marketing segments and journeys with a
    lifecycle stage and the churn flag. This one is the store's report: it is
    installed without marketing, is read by store managers rather than
    marketers, and shows what only this addon knows, the customer's loyalty tier
    and points, next to the scores.
    """

    _name = "crm.retail.rfm.report"
    _description = "Retail RFM Analysis"
    _auto = False
    _log_access = False
    _order = "company_id, monetary desc, id"
    _rec_name = "partner_id"
    # What the view reads: searches on it flush pending changes of these first.
    _depends = {
        "account.move": [
            "amount_untaxed_signed",
            "commercial_partner_id",
            "company_id",
            "invoice_date",
            "move_type",
            "state",
        ],
        "loyalty.card": ["crm_tier_id", "partner_id", "points", "program_id"],
        "loyalty.program": [
            "active",
            "company_id",
            "crm_earn_from_invoices",
            "sequence",
        ],
        "res.partner": ["privacy_erased", "privacy_restricted"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    last_purchase_date = fields.Date(string="Last Purchase", readonly=True)
    recency_days = fields.Integer(
        string="Days Since Last Purchase",
        readonly=True,
        aggregator="avg",
        help="Days between the last posted invoice and today (UTC).",
    )
    frequency = fields.Integer(
        string="Invoices",
        readonly=True,
        aggregator="avg",
        help="Posted customer invoices; credit notes do not count.",
    )
    monetary = fields.Monetary(
        string="Net Invoiced",
        readonly=True,
        help="Untaxed amount of the posted invoices less the posted credit notes, in "
        "the company's currency.",
    )
    recency_score = fields.Integer(string="R", readonly=True, aggregator="avg")
    frequency_score = fields.Integer(string="F", readonly=True, aggregator="avg")
    monetary_score = fields.Integer(string="M", readonly=True, aggregator="avg")
    rfm_code = fields.Char(string="RFM", readonly=True, help="R, F and M scores.")
    segment = fields.Selection(SEGMENTS, readonly=True)
    card_id = fields.Many2one("loyalty.card", string="Loyalty Card", readonly=True)
    program_id = fields.Many2one(
        "loyalty.program", string="Loyalty Program", readonly=True
    )
    tier_id = fields.Many2one("crm.retail.tier", string="Tier", readonly=True)
    points = fields.Float(string="Points Balance", readonly=True)

    def _query(self):
        # The row's id is the customer's last posted move with the company: each
        # move belongs to exactly one row.
        return SQL(
            """
        WITH invoiced AS (
            SELECT MAX(move.id) AS id,
                   move.company_id,
                   move.commercial_partner_id AS partner_id,
                   MAX(move.invoice_date) FILTER (
                       WHERE move.move_type = 'out_invoice') AS last_purchase_date,
                   COUNT(*) FILTER (WHERE move.move_type = 'out_invoice') AS frequency,
                   COALESCE(SUM(move.amount_untaxed_signed), 0) AS monetary
              FROM account_move move
              JOIN res_partner partner ON partner.id = move.commercial_partner_id
             WHERE move.move_type IN ('out_invoice', 'out_refund')
               AND move.state = 'posted'
               -- People who restricted processing, or were erased, are not profiled.
               AND partner.privacy_restricted IS NOT TRUE
               AND partner.privacy_erased IS NOT TRUE
             GROUP BY move.company_id, move.commercial_partner_id
            HAVING COUNT(*) FILTER (WHERE move.move_type = 'out_invoice') > 0
        ), tiled AS (
            SELECT invoiced.*,
                   NTILE(5) OVER (PARTITION BY company_id
                                  ORDER BY last_purchase_date, partner_id) AS r_tile,
                   NTILE(5) OVER (PARTITION BY company_id
                                  ORDER BY frequency, partner_id) AS f_tile,
                   NTILE(5) OVER (PARTITION BY company_id
                                  ORDER BY monetary, partner_id) AS m_tile
              FROM invoiced
        ), scored AS (
            -- Equal values, equal scores: the lowest tile of the tied customers.
            SELECT tiled.*,
                   MIN(r_tile) OVER (PARTITION BY company_id, last_purchase_date) AS r,
                   MIN(f_tile) OVER (PARTITION BY company_id, frequency) AS f,
                   MIN(m_tile) OVER (PARTITION BY company_id, monetary) AS m
              FROM tiled
        )
        SELECT scored.id,
               scored.company_id,
               scored.partner_id,
               scored.last_purchase_date,
               (NOW() AT TIME ZONE 'UTC')::date - scored.last_purchase_date
                   AS recency_days,
               scored.frequency,
               scored.monetary,
               scored.r AS recency_score,
               scored.f AS frequency_score,
               scored.m AS monetary_score,
               scored.r::text || scored.f::text || scored.m::text AS rfm_code,
               (CASE WHEN scored.r >= 4 AND (scored.f + scored.m + 1) / 2 >= 4
                     THEN 'champions'
                     WHEN scored.r >= 3 AND (scored.f + scored.m + 1) / 2 >= 3
                     THEN 'loyal'
                     WHEN scored.r >= 4 AND scored.frequency = 1 THEN 'new'
                     WHEN scored.r >= 4 THEN 'promising'
                     WHEN scored.r = 3 THEN 'need_attention'
                     WHEN (scored.f + scored.m + 1) / 2 >= 4 THEN 'cant_lose'
                     WHEN (scored.f + scored.m + 1) / 2 >= 3 THEN 'at_risk'
                     WHEN scored.r = 2 THEN 'hibernating'
                     ELSE 'lost'
                END)::varchar AS segment,
               card.id AS card_id,
               card.program_id,
               card.crm_tier_id AS tier_id,
               card.points
          FROM scored
          LEFT JOIN LATERAL (
               SELECT card.id, card.program_id, card.crm_tier_id, card.points
                 FROM loyalty_card card
                 JOIN loyalty_program program ON program.id = card.program_id
                WHERE card.partner_id = scored.partner_id
                  AND program.crm_earn_from_invoices
                  AND program.active
                  AND (program.company_id IS NULL
                       OR program.company_id = scored.company_id)
                ORDER BY program.sequence, program.id, card.id
                LIMIT 1
          ) card ON TRUE
        """
        )

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._query(),
            )
        )
