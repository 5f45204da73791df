from odoo import fields, models, tools
from odoo.tools import SQL

from odoo.addons.rating.models.rating_data import RATING_LIMIT_SATISFIED


class CrmTicketSlaReport(models.Model):
    """SLA success and satisfaction per team and agent: one row per ticket, with
    NULL where a figure does not apply, so that averages are true rates."""

    _name = "crm.ticket.sla.report"
    _description = "SLA and Satisfaction Analysis"
    _auto = False
    _order = "create_date desc"

    ticket_id = fields.Many2one("crm.ticket", readonly=True)
    create_date = fields.Datetime(string="Created On", readonly=True)
    team_id = fields.Many2one("crm.support.team", readonly=True)
    user_id = fields.Many2one("res.users", string="Agent", readonly=True)
    category_id = fields.Many2one("crm.ticket.category", readonly=True)
    priority = fields.Selection(
        [("0", "Low"), ("1", "Normal"), ("2", "High"), ("3", "Urgent")], readonly=True
    )
    commercial_partner_id = fields.Many2one(
        "res.partner", string="Customer", readonly=True
    )
    company_id = fields.Many2one("res.company", readonly=True)
    sla_status = fields.Selection(
        [
            ("none", "No SLA"),
            ("ongoing", "Ongoing"),
            ("met", "Met"),
            ("failed", "Failed"),
        ],
        string="SLA",
        readonly=True,
    )
    sla_success = fields.Float(string="SLA Met (%)", readonly=True, aggregator="avg")
    response_hours = fields.Float(
        string="Hours to First Response", readonly=True, aggregator="avg"
    )
    resolution_hours = fields.Float(
        string="Hours to Resolution", readonly=True, aggregator="avg"
    )
    satisfaction = fields.Float(
        string="Satisfaction (%)", readonly=True, aggregator="avg"
    )
    ticket_count = fields.Integer(string="Tickets", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE VIEW %(table)s AS (
                SELECT ticket.id AS id,
                       ticket.id AS ticket_id,
                       ticket.create_date,
                       ticket.team_id,
                       ticket.user_id,
                       ticket.category_id,
                       ticket.priority,
                       ticket.commercial_partner_id,
                       ticket.company_id,
                       ticket.sla_status,
                       CASE ticket.sla_status WHEN 'met' THEN 100.0
                                              WHEN 'failed' THEN 0.0 END AS sla_success,
                       NULLIF(ticket.response_hours, 0) AS response_hours,
                       NULLIF(ticket.resolution_hours, 0) AS resolution_hours,
                       CASE WHEN rating.rating IS NULL THEN NULL
                            WHEN rating.rating >= %(satisfied)s THEN 100.0
                            ELSE 0.0 END AS satisfaction,
                       1 AS ticket_count
                  FROM crm_ticket ticket
                  LEFT JOIN LATERAL (
                       SELECT r.rating FROM rating_rating r
                        WHERE r.res_model = 'crm.ticket' AND r.res_id = ticket.id
                          AND r.consumed AND r.rating > 0
                        ORDER BY r.write_date DESC, r.id DESC
                        LIMIT 1
                  ) rating ON TRUE
            )
            """,
                table=SQL.identifier(self._table),
                satisfied=RATING_LIMIT_SATISFIED,
            )
        )
