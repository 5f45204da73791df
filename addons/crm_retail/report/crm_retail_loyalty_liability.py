from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists


class CrmRetailLoyaltyLiability(models.Model):
    """What the shop owes its customers in loyalty points, month by month: the
    points' movements and, at each month's end, the points outstanding and their
    value.

    One row per invoice-earning program and month, from the month of the
    program's first movement to the current month (months without movements
    included, so that every month's end has its balance). Read from the cards'
    history (``loyalty.history``), where the posting, reset and expiry flows
    record every movement of these programs, in the month of its recording
    (UTC):

    - Issued: points credited (earned on invoices, given back when a credit note
      or a redemption is undone, manual top-ups);
    - Taken Back: points credit notes and invoices reset to draft took back;
    - Used: points redeemed, and other debits (manual corrections);
    - Expired: points that reached their expiry date unused;
    - Outstanding: the running balance at the month's end, and its value at the
      program's value of a point.

    A program without a company has rows without a company, which every company
    sees. Outstanding figures are balances: add them up across programs within a
    month, never across months.
    """

    _name = "crm.retail.loyalty.liability"
    _description = "Loyalty Liability"
    _auto = False
    _log_access = False
    _order = "date desc, program_id"
    _rec_name = "program_id"
    _depends = {
        "loyalty.history": ["card_id", "create_date", "crm_kind", "issued", "used"],
        "loyalty.card": ["program_id"],
        "loyalty.program": [
            "company_id",
            "crm_earn_from_invoices",
            "crm_point_value",
            "currency_id",
        ],
    }

    date = fields.Date(string="Month", readonly=True)
    # The current month's row holds what is owed today, whatever period is shown.
    is_current = fields.Boolean(string="Current Month", readonly=True)
    program_id = fields.Many2one("loyalty.program", string="Program", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    points_issued = fields.Float(string="Issued", readonly=True)
    points_taken_back = fields.Float(
        string="Taken Back",
        readonly=True,
        help="Points taken back by credit notes and by invoices reset to draft or "
        "cancelled.",
    )
    points_used = fields.Float(string="Used", readonly=True)
    points_expired = fields.Float(string="Expired", readonly=True)
    points_net = fields.Float(string="Net Change", readonly=True)
    points_outstanding = fields.Float(
        string="Outstanding",
        readonly=True,
        help="Points held by the program's customers at the month's end. A balance: "
        "do not add it up across months.",
    )
    point_value = fields.Monetary(
        string="Value of a Point", readonly=True, aggregator="max"
    )
    outstanding_value = fields.Monetary(
        string="Liability",
        readonly=True,
        help="Outstanding points at the month's end times the program's value of a "
        "point. A balance: do not add it up across months.",
    )
    expired_value = fields.Monetary(
        string="Expired Value",
        readonly=True,
        help="Value of the points that expired in the month (breakage).",
    )

    def _query(self):
        # The row's id: the program's id and the month, one number per row.
        return SQL(
            """
        WITH moves AS (
            SELECT card.program_id,
                   date_trunc('month', history.create_date)::date AS month,
                   SUM(history.issued) AS issued,
                   SUM(history.used) FILTER (
                       WHERE history.crm_kind IN ('refund', 'reverse')) AS taken_back,
                   SUM(history.used) FILTER (
                       WHERE history.crm_kind IS NULL
                          OR history.crm_kind NOT IN ('refund', 'reverse', 'expire'))
                       AS used,
                   SUM(history.used) FILTER (WHERE history.crm_kind = 'expire')
                       AS expired
              FROM loyalty_history history
              JOIN loyalty_card card ON card.id = history.card_id
              JOIN loyalty_program program ON program.id = card.program_id
             WHERE program.crm_earn_from_invoices
             GROUP BY card.program_id, month
        ), months AS (
            SELECT moves.program_id,
                   generate_series(
                       MIN(moves.month),
                       GREATEST(MAX(moves.month),
                                date_trunc('month', NOW() AT TIME ZONE 'UTC')::date),
                       interval '1 month'
                   )::date AS month
              FROM moves
             GROUP BY moves.program_id
        ), monthly AS (
            SELECT months.program_id,
                   months.month,
                   COALESCE(moves.issued, 0) AS issued,
                   COALESCE(moves.taken_back, 0) AS taken_back,
                   COALESCE(moves.used, 0) AS used,
                   COALESCE(moves.expired, 0) AS expired
              FROM months
              LEFT JOIN moves ON moves.program_id = months.program_id
                             AND moves.month = months.month
        ), balanced AS (
            SELECT monthly.*,
                   monthly.issued - monthly.taken_back - monthly.used
                       - monthly.expired AS net,
                   SUM(monthly.issued - monthly.taken_back - monthly.used
                       - monthly.expired)
                       OVER (PARTITION BY monthly.program_id ORDER BY monthly.month)
                       AS outstanding
              FROM monthly
        )
        SELECT balanced.program_id::bigint * 100000
                   + EXTRACT(YEAR FROM balanced.month)::integer * 12
                   + EXTRACT(MONTH FROM balanced.month)::integer AS id,
               balanced.month AS date,
               balanced.program_id,
               program.company_id,
               program.currency_id,
               balanced.issued AS points_issued,
               balanced.taken_back AS points_taken_back,
               balanced.used AS points_used,
               balanced.expired AS points_expired,
               balanced.net AS points_net,
               balanced.outstanding AS points_outstanding,
               COALESCE(program.crm_point_value, 0) AS point_value,
               balanced.outstanding * COALESCE(program.crm_point_value, 0)
                   AS outstanding_value,
               balanced.expired * COALESCE(program.crm_point_value, 0) AS expired_value,
               balanced.month = date_trunc('month', NOW() AT TIME ZONE 'UTC')::date
                   AS is_current
          FROM balanced
          JOIN loyalty_program program ON program.id = balanced.program_id
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
