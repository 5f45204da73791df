from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import TableKind, drop_view_if_exists, table_kind

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

    A report view over the posted customer invoices and credit notes, like
    Odoo's invoice analysis: always current, nothing to rebuild. One row per
    (company, commercial entity) with at least one posted customer invoice with
    the company; people who restricted processing or were erased are left out,
    and do not count in the quintiles either. Scores run from 1 to 5 by quintile
    within the company: a customer scores by the share of the company's
    customers strictly below them, so equal values share a score (a plain NTILE
    would split equal customers between scores at random).

    Every window is partitioned by company, so PostgreSQL computes only the
    company a query asks for (segments always do).
    """

    _name = "crm.marketing.rfm"
    _description = "Customer RFM Analysis"
    _order = "company_id, recency_score desc, frequency_score desc, id"
    _rec_name = "partner_id"
    _auto = False
    _log_access = False
    # What the view reads: queries on it flush pending changes of these first.
    _depends = {
        "account.move": [
            "company_id",
            "commercial_partner_id",
            "move_type",
            "state",
            "invoice_date",
            "amount_untaxed_signed",
        ],
        "res.partner": ["churn_at_risk", "privacy_restricted", "privacy_erased"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    first_invoice_date = fields.Date(string="First Invoice", readonly=True)
    last_invoice_date = fields.Date(string="Last Invoice", readonly=True)
    # Not in the view: an age depends on the reader's time zone.
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
    def _query(self):
        # The row's id is the last posted move of the customer with the
        # company: each move belongs to exactly one row. Lifecycle dates are
        # UTC days, like fields.Date.today().
        return SQL(
            """
        SELECT scored.id, scored.company_id, scored.partner_id,
               scored.first_invoice_date, scored.last_invoice_date,
               scored.frequency, scored.monetary,
               scored.r AS recency_score, scored.f AS frequency_score,
               scored.m AS monetary_score,
               scored.r::text || scored.f::text || scored.m::text AS rfm_code,
               grid.cell::varchar AS cell,
               (CASE WHEN scored.last_invoice_date
                          < (NOW() AT TIME ZONE 'UTC')::date - %(lapsed)s
                     THEN 'lapsed'
                     WHEN COALESCE(
                         (scored.churn_at_risk ->> scored.company_id::text)::boolean,
                         FALSE) THEN 'at_risk'
                     WHEN scored.first_invoice_date
                          >= (NOW() AT TIME ZONE 'UTC')::date - %(new)s
                     THEN 'new'
                     ELSE 'active'
                END)::varchar AS lifecycle
          FROM (
            SELECT invoiced.*, partner.churn_at_risk,
                   1 + 5 * (RANK() OVER (PARTITION BY invoiced.company_id
                                         ORDER BY invoiced.last_invoice_date) - 1)
                       / COUNT(*) OVER (PARTITION BY invoiced.company_id) AS r,
                   1 + 5 * (RANK() OVER (PARTITION BY invoiced.company_id
                                         ORDER BY invoiced.frequency) - 1)
                       / COUNT(*) OVER (PARTITION BY invoiced.company_id) AS f,
                   1 + 5 * (RANK() OVER (PARTITION BY invoiced.company_id
                                         ORDER BY invoiced.monetary) - 1)
                       / COUNT(*) OVER (PARTITION BY invoiced.company_id) AS m
              FROM (
                SELECT MAX(move.id) AS id,
                       move.company_id,
                       move.commercial_partner_id AS partner_id,
                       MIN(move.invoice_date) FILTER (
                           WHERE move.move_type = 'out_invoice') AS first_invoice_date,
                       MAX(move.invoice_date) FILTER (
                           WHERE move.move_type = 'out_invoice') AS last_invoice_date,
                       COUNT(*) FILTER (
                           WHERE move.move_type = 'out_invoice') AS frequency,
                       COALESCE(SUM(move.amount_untaxed_signed), 0) AS monetary
                  FROM account_move move
                 WHERE move.move_type IN ('out_invoice', 'out_refund')
                   AND move.state = 'posted'
                   AND move.commercial_partner_id IS NOT NULL
                 GROUP BY move.company_id, move.commercial_partner_id
                HAVING COUNT(*) FILTER (WHERE move.move_type = 'out_invoice') > 0
              ) AS invoiced
              JOIN res_partner partner ON partner.id = invoiced.partner_id
             -- People who restricted processing, or were erased, are not profiled.
             WHERE partner.privacy_restricted IS NOT TRUE
               AND partner.privacy_erased IS NOT TRUE
          ) AS scored
          JOIN (VALUES %(grid)s) AS grid(r, fm, cell)
            ON grid.r = scored.r AND grid.fm = (scored.f + scored.m + 1) / 2
        """,
            lapsed=LAPSED_DAYS,
            new=NEW_DAYS,
            grid=self._cell_values_sql(),
        )

    def init(self):
        # Before it was a view, the analysis was a table rebuilt by a cron.
        if table_kind(self.env.cr, self._table) == TableKind.Regular:
            self.env.cr.execute(
                SQL("DROP TABLE %s CASCADE", SQL.identifier(self._table))
            )
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._query(),
            )
        )
