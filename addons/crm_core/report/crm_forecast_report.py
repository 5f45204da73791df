from odoo import fields, models, tools
from odoo.tools import SQL


class CrmForecastReport(models.Model):
    """Weighted pipeline by expected closing date against invoiced revenue.

    One row per open opportunity (the forecast) and one per posted customer
    invoice or credit note (the actuals), so that a pivot by month, quarter, team
    or salesperson shows both side by side.
    """

    _name = "crm.forecast.report"
    _description = "Sales Forecast Analysis"
    _auto = False
    _order = "date desc"
    _rec_name = "name"

    name = fields.Char(readonly=True)
    kind = fields.Selection(
        [("pipeline", "Pipeline"), ("actual", "Invoiced")], readonly=True
    )
    date = fields.Date(string="Period Date", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    expected_revenue = fields.Monetary(readonly=True)
    stage_probability = fields.Float(
        string="Probability (%)", readonly=True, aggregator="avg"
    )
    win_rate = fields.Float(
        string="Historical Win Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the team's closed leads that reached this stage and were won.",
    )
    weighted_revenue = fields.Monetary(
        string="Weighted Pipeline",
        readonly=True,
        help="Expected revenue times probability.",
    )
    forecast_revenue = fields.Monetary(
        string="Forecast",
        readonly=True,
        help="Expected revenue times the historical win rate of its stage in its team "
        "(the probability when there is no history yet).",
    )
    invoiced_revenue = fields.Monetary(
        string="Invoiced",
        readonly=True,
        help="Posted invoices net of credit notes, untaxed.",
    )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._query(),
            )
        )

    def _query(self):
        # Odoo's predictive lead scoring keeps, per team and stage, how many leads
        # that reached the stage were won and lost: that is the historical win rate.
        return SQL(
            """
            SELECT lead.id * 2 AS id,
                   lead.name AS name,
                   'pipeline' AS kind,
                   lead.date_deadline AS date,
                   lead.company_id,
                   company.currency_id,
                   lead.team_id,
                   lead.user_id,
                   lead.id AS lead_id,
                   NULL::integer AS move_id,
                   lead.stage_id,
                   lead.expected_revenue,
                   lead.probability AS stage_probability,
                   100 * COALESCE(history.win_rate, lead.probability / 100) AS win_rate,
                   lead.expected_revenue * lead.probability / 100 AS weighted_revenue,
                   lead.expected_revenue
                       * COALESCE(history.win_rate, lead.probability / 100)
                       AS forecast_revenue,
                   0 AS invoiced_revenue
              FROM crm_lead lead
              LEFT JOIN res_company company ON company.id = lead.company_id
              LEFT JOIN LATERAL (
                   SELECT frequency.won_count
                          / NULLIF(frequency.won_count + frequency.lost_count, 0)
                          AS win_rate
                     FROM crm_lead_scoring_frequency frequency
                    WHERE frequency.variable = 'stage_id'
                      AND frequency.value = lead.stage_id::text
                      AND frequency.team_id = lead.team_id
                    LIMIT 1
              ) history ON TRUE
             WHERE lead.type = 'opportunity'
               AND lead.active
               AND lead.probability < 100
            UNION ALL
            SELECT move.id * 2 + 1 AS id,
                   move.name AS name,
                   'actual' AS kind,
                   move.invoice_date AS date,
                   move.company_id,
                   company.currency_id,
                   membership.crm_team_id AS team_id,
                   seller.user_id,
                   NULL::integer AS lead_id,
                   move.id AS move_id,
                   NULL::integer AS stage_id,
                   0 AS expected_revenue,
                   NULL AS stage_probability,
                   NULL AS win_rate,
                   0 AS weighted_revenue,
                   0 AS forecast_revenue,
                   move.amount_untaxed_signed AS invoiced_revenue
              FROM account_move move
              JOIN res_company company ON company.id = move.company_id
              -- A credit note counts against whoever sold the invoice it reverses,
              -- not whoever issued the credit note.
              LEFT JOIN account_move origin ON origin.id = move.reversed_entry_id
              CROSS JOIN LATERAL (
                   SELECT COALESCE(origin.invoice_user_id, move.invoice_user_id)
                          AS user_id
              ) seller
              LEFT JOIN LATERAL (
                   SELECT member.crm_team_id
                     FROM crm_team_member member
                     JOIN crm_team team ON team.id = member.crm_team_id
                    WHERE member.user_id = seller.user_id
                      AND member.active AND team.active
                      AND (team.company_id IS NULL OR team.company_id = move.company_id)
                    ORDER BY member.id
                    LIMIT 1
              ) membership ON TRUE
             WHERE move.move_type IN ('out_invoice', 'out_refund')
               AND move.state = 'posted'
            """
        )
