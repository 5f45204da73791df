from odoo import fields, models, tools
from odoo.tools import SQL

MONEY_GROUPS = "crm_marketing.group_marketing_manager"


class CrmMarketingRoiReport(models.Model):
    """Return on investment of campaigns on invoiced margin, per campaign, medium,
    source, month and company.

    - Revenue: untaxed amount, in company currency, of the product lines of posted
      customer invoices net of credit notes, in the month of their invoice date.
    - Cost of goods: the cost captured on those lines when they were posted.
    - Attribution of a line: the first of these that names a campaign, medium or
      source: its invoice, the invoice a credit note reverses, the line's sale
      order, that order's opportunity. Lines none of them reaches are left out.
    - Marketing cost: the campaign's cost lines in the month of their date, plus its
      SMS mailings' SMS sent in the month they were sent, at the campaign's cost per
      SMS in the company of the mailing's responsible.
    - ROI (%): 100 * (margin - marketing cost) / marketing cost, computed on the
      sums of each group (not an average of the rows' ratios); empty without cost.
    """

    _name = "crm.marketing.roi.report"
    _description = "Campaign ROI Analysis"
    _auto = False
    _order = "date desc, campaign_id"
    _rec_name = "campaign_id"
    _depends = {
        "account.move": [
            "campaign_id",
            "medium_id",
            "source_id",
            "invoice_date",
            "move_type",
            "reversed_entry_id",
            "state",
        ],
        "account.move.line": [
            "balance",
            "company_id",
            "crm_cost_at_posting",
            "display_type",
            "move_id",
            "parent_state",
            "sale_line_ids",
        ],
        "crm.lead": ["campaign_id", "medium_id", "source_id"],
        "crm.marketing.campaign.cost": [
            "amount",
            "campaign_id",
            "company_id",
            "date",
            "medium_id",
            "source_id",
        ],
        "mailing.mailing": ["medium_id", "source_id", "user_id"],
        "mailing.trace": [
            "campaign_id",
            "mass_mailing_id",
            "sent_datetime",
            "trace_status",
            "trace_type",
        ],
        "res.users": ["company_id"],
        "sale.order": ["campaign_id", "medium_id", "opportunity_id", "source_id"],
        "sale.order.line": ["order_id"],
        "utm.campaign": ["crm_sms_unit_cost"],
    }

    date = fields.Date(string="Month", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", string="Campaign", readonly=True)
    medium_id = fields.Many2one("utm.medium", string="Medium", readonly=True)
    source_id = fields.Many2one("utm.source", string="Source", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    currency_id = fields.Many2one("res.currency", string="Currency", readonly=True)
    revenue = fields.Monetary(
        string="Invoiced Revenue",
        readonly=True,
        groups=MONEY_GROUPS,
        help="Untaxed, net of credit notes.",
    )
    goods_cost = fields.Monetary(
        string="Cost of Goods Sold",
        readonly=True,
        groups=MONEY_GROUPS,
        help="Product costs as they were when the invoices were posted.",
    )
    margin = fields.Monetary(string="Margin", readonly=True, groups=MONEY_GROUPS)
    cost_line_amount = fields.Monetary(
        string="Cost Lines", readonly=True, groups=MONEY_GROUPS
    )
    sms_count = fields.Integer(string="SMS Sent", readonly=True, groups=MONEY_GROUPS)
    sms_cost = fields.Monetary(string="SMS Cost", readonly=True, groups=MONEY_GROUPS)
    marketing_cost = fields.Monetary(
        string="Marketing Cost",
        readonly=True,
        groups=MONEY_GROUPS,
        help="Cost lines plus SMS sent.",
    )
    roi = fields.Float(
        string="ROI (%)",
        readonly=True,
        aggregator="sum",
        digits=(16, 1),
        groups=MONEY_GROUPS,
        help="(Margin - marketing cost) / marketing cost, on the totals of each "
        "group; empty when there is no marketing cost.",
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

    def _read_group_select(self, aggregate_spec, query):
        # A group's ROI is the ratio of its sums, whatever aggregate is asked for.
        if aggregate_spec.split(":")[0] == "roi":
            self.check_field_access_rights("read", ["roi"])
            margin = self._field_to_sql(self._table, "margin", query)
            cost = self._field_to_sql(self._table, "marketing_cost", query)
            return SQL(
                "100 * (SUM(%(margin)s) - SUM(%(cost)s)) / NULLIF(SUM(%(cost)s), 0)",
                margin=margin,
                cost=cost,
            )
        return super()._read_group_select(aggregate_spec, query)

    def _query(self):
        return SQL(
            """
            WITH invoiced AS (
                SELECT MIN(line.id) * 3 AS key,
                       line.company_id,
                       DATE_TRUNC('month', move.invoice_date)::date AS date,
                       attribution.campaign_id,
                       attribution.medium_id,
                       attribution.source_id,
                       SUM(-line.balance) AS revenue,
                       SUM(COALESCE(line.crm_cost_at_posting, 0)) AS goods_cost
                  FROM account_move_line line
                  JOIN account_move move ON move.id = line.move_id
                  LEFT JOIN account_move origin ON origin.id = move.reversed_entry_id
                  LEFT JOIN LATERAL (
                       SELECT order_line.order_id
                         FROM sale_order_line_invoice_rel rel
                         JOIN sale_order_line order_line
                           ON order_line.id = rel.order_line_id
                        WHERE rel.invoice_line_id = line.id
                        ORDER BY order_line.order_id
                        LIMIT 1
                  ) ordered ON TRUE
                  LEFT JOIN sale_order sale ON sale.id = ordered.order_id
                  LEFT JOIN crm_lead lead ON lead.id = sale.opportunity_id
                  -- The first document that names a campaign, medium or source.
                  CROSS JOIN LATERAL (
                       SELECT level.campaign_id, level.medium_id, level.source_id
                         FROM (VALUES
                              (1, move.campaign_id, move.medium_id, move.source_id),
                              (2, origin.campaign_id, origin.medium_id,
                                  origin.source_id),
                              (3, sale.campaign_id, sale.medium_id, sale.source_id),
                              (4, lead.campaign_id, lead.medium_id, lead.source_id)
                         ) AS level(priority, campaign_id, medium_id, source_id)
                        WHERE COALESCE(level.campaign_id, level.medium_id,
                                       level.source_id) IS NOT NULL
                        ORDER BY level.priority
                        LIMIT 1
                  ) attribution
                 WHERE line.display_type = 'product'
                   AND line.parent_state = 'posted'
                   AND move.move_type IN ('out_invoice', 'out_refund')
                 GROUP BY 2, 3, 4, 5, 6
            ),
            spent AS (
                SELECT MIN(cost.id) * 3 + 1 AS key,
                       cost.company_id,
                       DATE_TRUNC('month', cost.date)::date AS date,
                       cost.campaign_id,
                       cost.medium_id,
                       cost.source_id,
                       SUM(cost.amount) AS amount
                  FROM crm_marketing_campaign_cost cost
                 GROUP BY 2, 3, 4, 5, 6
            ),
            texted AS (
                SELECT MIN(trace.id) * 3 + 2 AS key,
                       responsible.company_id,
                       DATE_TRUNC('month', trace.sent_datetime)::date AS date,
                       trace.campaign_id,
                       mailing.medium_id,
                       mailing.source_id,
                       COUNT(*) AS sms_count,
                       SUM(COALESCE(
                           (campaign.crm_sms_unit_cost
                               ->> responsible.company_id::text)::numeric,
                           0
                       )) AS sms_cost
                  FROM mailing_trace trace
                  JOIN mailing_mailing mailing ON mailing.id = trace.mass_mailing_id
                  JOIN utm_campaign campaign ON campaign.id = trace.campaign_id
                  JOIN res_users responsible ON responsible.id = mailing.user_id
                 WHERE trace.trace_type = 'sms'
                   AND trace.sent_datetime IS NOT NULL
                   AND trace.trace_status NOT IN ('outgoing', 'process', 'error',
                                                  'cancel')
                 GROUP BY 2, 3, 4, 5, 6
            ),
            figures AS (
                SELECT key, company_id, date, campaign_id, medium_id, source_id,
                       revenue, goods_cost, 0 AS cost_line_amount,
                       0 AS sms_count, 0 AS sms_cost
                  FROM invoiced
                UNION ALL
                SELECT key, company_id, date, campaign_id, medium_id, source_id,
                       0, 0, amount, 0, 0
                  FROM spent
                UNION ALL
                SELECT key, company_id, date, campaign_id, medium_id, source_id,
                       0, 0, 0, sms_count, sms_cost
                  FROM texted
            ),
            totals AS (
                -- Each row of figures is in one group: its smallest key is an id.
                SELECT MIN(key) AS id,
                       company_id, date, campaign_id, medium_id, source_id,
                       SUM(revenue) AS revenue,
                       SUM(goods_cost) AS goods_cost,
                       SUM(revenue) - SUM(goods_cost) AS margin,
                       SUM(cost_line_amount) AS cost_line_amount,
                       SUM(sms_count)::integer AS sms_count,
                       SUM(sms_cost) AS sms_cost,
                       SUM(cost_line_amount) + SUM(sms_cost) AS marketing_cost
                  FROM figures
                 GROUP BY company_id, date, campaign_id, medium_id, source_id
            )
            SELECT totals.id,
                   totals.date,
                   totals.campaign_id,
                   totals.medium_id,
                   totals.source_id,
                   totals.company_id,
                   company.currency_id,
                   totals.revenue,
                   totals.goods_cost,
                   totals.margin,
                   totals.cost_line_amount,
                   totals.sms_count,
                   totals.sms_cost,
                   totals.marketing_cost,
                   100 * (totals.margin - totals.marketing_cost)
                       / NULLIF(totals.marketing_cost, 0) AS roi
              FROM totals
              JOIN res_company company ON company.id = totals.company_id
            """
        )
