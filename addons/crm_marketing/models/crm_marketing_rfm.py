from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

RFM_CELLS = [
    ("champions", "Champions"),
    ("loyal", "Loyal"),
    ("potential_loyalist", "Potential Loyalist"),
    ("new_customer", "New Customer"),
    ("promising", "Promising"),
    ("need_attention", "Need Attention"),
    ("about_to_sleep", "About to Sleep"),
    ("at_risk", "At Risk"),
    ("cant_lose", "Can't Lose Them"),
    ("hibernating", "Hibernating"),
    ("lost", "Lost"),
]
# The named cell of each (recency score, FM score), where FM is the average of
# the frequency and monetary scores rounded half up. Rows are R from 5 (bought
# most recently) down to 1, columns FM from 1 to 5.
RFM_GRID = {
    5: ("new_customer", "potential_loyalist", "loyal", "champions", "champions"),
    4: ("promising", "potential_loyalist", "loyal", "champions", "champions"),
    3: ("about_to_sleep", "need_attention", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    1: ("lost", "lost", "at_risk", "cant_lose", "cant_lose"),
}
RFM_CELL_MAP = {
    (recency, fm): cell
    for recency, row in RFM_GRID.items()
    for fm, cell in enumerate(row, start=1)
}
# Lifecycle of a customer in one company, the first that applies:
#   lapsed    last posted invoice more than LAPSED_DAYS ago;
#   at_risk   crm_core's churn flag is up for that company;
#   new       first posted invoice within NEW_DAYS;
#   active    last posted invoice within LAPSED_DAYS;
#   lead      no posted invoice and an open lead or opportunity (segments work it
#             out on the fly: such customers have no row here).
LIFECYCLE_STAGES = [
    ("lead", "Lead"),
    ("new", "New Customer"),
    ("active", "Active"),
    ("at_risk", "At Risk"),
    ("lapsed", "Lapsed"),
]
NEW_DAYS = 90
LAPSED_DAYS = 365
MONEY_GROUPS = "crm_marketing.group_marketing_manager,account.group_account_invoice"


class CrmMarketingRfm(models.Model):
    """Recency, frequency and monetary value of each customer of a company.

    One row per (company, commercial entity) that has at least one posted
    customer invoice with the company (people who restricted processing or were
    erased are left out), rebuilt from the posted invoices and
    credit notes by ``_refresh`` in one statement per company. Scores run from 1
    to 5 by quintile within the company: a customer scores by the share of the
    company's customers strictly below them, so equal values share a score (a
    plain NTILE would split equal customers between scores at random).
    """

    _name = "crm.marketing.rfm"
    _description = "Customer RFM Analysis"
    _order = "company_id, recency_score desc, frequency_score desc, id"
    _rec_name = "partner_id"
    # A snapshot rebuilt in SQL: who wrote a row says nothing, and the user
    # foreign keys would double the cost of writing it.
    _log_access = False

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    first_invoice_date = fields.Date(string="First Invoice", readonly=True)
    last_invoice_date = fields.Date(string="Last Invoice", readonly=True)
    # Not stored: a stored age would rewrite every row every day.
    recency_days = fields.Integer(
        string="Days Since Last Invoice", compute="_compute_recency_days"
    )
    frequency = fields.Integer(
        string="Invoices",
        readonly=True,
        aggregator="avg",
        help="Posted customer invoices (credit notes do not count).",
    )
    monetary = fields.Monetary(
        string="Net Invoiced",
        readonly=True,
        groups=MONEY_GROUPS,
        help="Untaxed amount of the posted invoices less the posted credit notes, "
        "in the company's currency.",
    )
    recency_score = fields.Integer(string="R", readonly=True, aggregator="avg")
    frequency_score = fields.Integer(string="F", readonly=True, aggregator="avg")
    monetary_score = fields.Integer(string="M", readonly=True, aggregator="avg")
    rfm_code = fields.Char(string="RFM", readonly=True, help="R, F and M scores.")
    cell = fields.Selection(RFM_CELLS, string="RFM Cell", readonly=True)
    lifecycle = fields.Selection(LIFECYCLE_STAGES, string="Lifecycle", readonly=True)

    _sql_constraints = [
        (
            "company_partner_unique",
            "UNIQUE(company_id, partner_id)",
            "A customer has one RFM row per company.",
        )
    ]

    @api.depends("last_invoice_date")
    @api.depends_context("tz")
    def _compute_recency_days(self):
        today = fields.Date.context_today(self)
        for row in self:
            last = row.last_invoice_date
            row.recency_days = (today - last).days if last else 0

    @api.model
    def _cell_values_sql(self):
        """The named cells as a VALUES list (recency, fm, cell) to join on."""
        return SQL(", ").join(
            SQL("(%s, %s, %s)", recency, fm, cell)
            for (recency, fm), cell in sorted(RFM_CELL_MAP.items())
        )

    @api.model
    def _refresh(self, companies=None):
        """Rebuild the rows of ``companies`` (default: every company with posted
        customer invoices) from their posted invoices, one statement each.

        Rows whose figures did not change are left alone; customers who no longer
        have a posted invoice lose their row.
        """
        self.env["account.move"].flush_model(
            [
                "company_id",
                "commercial_partner_id",
                "move_type",
                "state",
                "invoice_date",
                "amount_untaxed_signed",
            ]
        )
        self.env["res.partner"].flush_model(
            ["churn_at_risk", "privacy_restricted", "privacy_erased"]
        )
        self.flush_model()
        if companies is None:
            company_ids = [
                company_id
                for (company_id,) in self.env.execute_query(
                    SQL(
                        "SELECT DISTINCT company_id FROM account_move "
                        "WHERE move_type = 'out_invoice' AND state = 'posted'"
                    )
                )
            ]
            companies = self.env["res.company"].browse(company_ids)
        today = fields.Date.context_today(self)
        for company in companies:
            self.env.execute_query(self._refresh_sql(company, today))
        self.invalidate_model()

    @api.model
    def _refresh_sql(self, company, today):
        return SQL(
            """
        WITH invoiced AS (
            SELECT move.commercial_partner_id AS partner_id,
                   MIN(move.invoice_date)
                       FILTER (WHERE move.move_type = 'out_invoice') AS first_date,
                   MAX(move.invoice_date)
                       FILTER (WHERE move.move_type = 'out_invoice') AS last_date,
                   COUNT(*) FILTER (WHERE move.move_type = 'out_invoice') AS frequency,
                   COALESCE(SUM(move.amount_untaxed_signed), 0) AS monetary
              FROM account_move move
             WHERE move.company_id = %(company)s
               AND move.move_type IN ('out_invoice', 'out_refund')
               AND move.state = 'posted'
               AND move.commercial_partner_id IS NOT NULL
             GROUP BY move.commercial_partner_id
        ),
        scored AS (
            SELECT invoiced.*, partner.churn_at_risk,
                   1 + 5 * (RANK() OVER (ORDER BY last_date) - 1)
                       / COUNT(*) OVER () AS r,
                   1 + 5 * (RANK() OVER (ORDER BY frequency) - 1)
                       / COUNT(*) OVER () AS f,
                   1 + 5 * (RANK() OVER (ORDER BY monetary) - 1)
                       / COUNT(*) OVER () AS m
              FROM invoiced
              JOIN res_partner partner ON partner.id = invoiced.partner_id
             WHERE invoiced.frequency > 0
               -- People who restricted processing, or were erased, are not profiled.
               AND partner.privacy_restricted IS NOT TRUE
               AND partner.privacy_erased IS NOT TRUE
        ),
        computed AS (
            SELECT scored.partner_id, scored.first_date, scored.last_date,
                   scored.frequency, scored.monetary, scored.r, scored.f, scored.m,
                   grid.cell,
                   CASE WHEN scored.last_date < %(lapsed)s THEN 'lapsed'
                        WHEN COALESCE(
                            (scored.churn_at_risk ->> %(company_key)s)::boolean,
                            FALSE) THEN 'at_risk'
                        WHEN scored.first_date >= %(new)s THEN 'new'
                        ELSE 'active'
                   END AS lifecycle
              FROM scored
              JOIN (VALUES %(grid)s) AS grid(r, fm, cell)
                ON grid.r = scored.r AND grid.fm = (scored.f + scored.m + 1) / 2
        ),
        changed AS (
            SELECT computed.*
              FROM computed
              LEFT JOIN crm_marketing_rfm rfm
                ON rfm.company_id = %(company)s
               AND rfm.partner_id = computed.partner_id
             WHERE rfm.id IS NULL
                OR (rfm.first_invoice_date, rfm.last_invoice_date, rfm.frequency,
                    rfm.monetary, rfm.rfm_code, rfm.cell, rfm.lifecycle)
                   IS DISTINCT FROM
                   (computed.first_date, computed.last_date, computed.frequency,
                    computed.monetary,
                    computed.r::text || computed.f::text || computed.m::text,
                    computed.cell::varchar, computed.lifecycle::varchar)
        ),
        upserted AS (
            INSERT INTO crm_marketing_rfm AS rfm (
                company_id, partner_id, first_invoice_date, last_invoice_date,
                frequency, monetary, recency_score, frequency_score,
                monetary_score, rfm_code, cell, lifecycle)
            SELECT %(company)s, partner_id, first_date, last_date, frequency,
                   monetary, r, f, m, r::text || f::text || m::text, cell,
                   lifecycle
              FROM changed
            ON CONFLICT (company_id, partner_id) DO UPDATE
               SET first_invoice_date = EXCLUDED.first_invoice_date,
                   last_invoice_date = EXCLUDED.last_invoice_date,
                   frequency = EXCLUDED.frequency,
                   monetary = EXCLUDED.monetary,
                   recency_score = EXCLUDED.recency_score,
                   frequency_score = EXCLUDED.frequency_score,
                   monetary_score = EXCLUDED.monetary_score,
                   rfm_code = EXCLUDED.rfm_code,
                   cell = EXCLUDED.cell,
                   lifecycle = EXCLUDED.lifecycle
            RETURNING 1
        )
        DELETE FROM crm_marketing_rfm rfm
         WHERE rfm.company_id = %(company)s
           AND NOT EXISTS (
               SELECT 1 FROM computed WHERE computed.partner_id = rfm.partner_id)
        """,
            company=company.id,
            company_key=str(company.id),
            lapsed=today - timedelta(days=LAPSED_DAYS),
            new=today - timedelta(days=NEW_DAYS),
            grid=self._cell_values_sql(),
        )

    @api.model
    def _cron_refresh(self):
        self._refresh()
