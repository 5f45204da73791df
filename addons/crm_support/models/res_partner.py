from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.rating.models.rating_data import RATING_LIMIT_SATISFIED


class ResPartner(models.Model):
    _inherit = "res.partner"

    ticket_ids = fields.One2many("crm.ticket", "partner_id", string="Tickets")
    customer_open_ticket_count = fields.Integer(
        string="Open Tickets", compute="_compute_customer_support"
    )
    customer_ticket_csat = fields.Float(
        string="Satisfaction (%)",
        compute="_compute_customer_support",
        help="Share of the customer's ratings that are satisfied.",
    )
    customer_sla_breach_count = fields.Integer(
        string="SLA Breaches (90 days)", compute="_compute_customer_support"
    )

    @api.depends_context("company")
    def _compute_customer_support(self):
        Ticket = self.env["crm.ticket"].sudo()
        entities = self.commercial_partner_id
        base = [("commercial_partner_id", "in", entities.ids)]
        open_counts = dict(
            Ticket._read_group(
                base + [("is_closed", "=", False)],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        breaches = self._support_breaches(
            entities, fields.Datetime.now() - timedelta(days=90)
        )
        satisfaction = self._support_satisfaction(entities)
        for partner in self:
            entity = partner.commercial_partner_id
            partner.customer_open_ticket_count = open_counts.get(entity, 0)
            partner.customer_sla_breach_count = breaches.get(entity.id, 0)
            partner.customer_ticket_csat = satisfaction.get(entity.id, 0.0)

    @api.model
    def _support_breaches(self, entities, since, company=None):
        """{commercial partner id: tickets opened since ``since`` that failed SLA},
        of ``company`` only when given."""
        company_domain = [("company_id", "=", company.id)] if company else []
        return {
            partner.id: count
            for partner, count in self.env["crm.ticket"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", entities.ids),
                    ("sla_status", "=", "failed"),
                    ("create_date", ">=", since),
                    *company_domain,
                ],
                ["commercial_partner_id"],
                ["__count"],
            )
        }

    @api.model
    def _support_satisfaction(self, entities, since=None, company=None):
        """{commercial partner id: % satisfied} of the ratings of their tickets,
        of ``company`` only when given."""
        if not entities:
            return {}
        self.env["crm.ticket"].flush_model(["commercial_partner_id"])
        self.env["rating.rating"].flush_model(["rating", "consumed", "res_model"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT ticket.commercial_partner_id,
                   100.0 * COUNT(*) FILTER (WHERE rating.rating >= %(satisfied)s)
                         / COUNT(*)
              FROM rating_rating rating
              JOIN crm_ticket ticket ON ticket.id = rating.res_id
             WHERE rating.res_model = 'crm.ticket'
               AND rating.consumed AND rating.rating > 0
               AND ticket.commercial_partner_id IN %(partners)s
               AND (%(since)s::timestamp IS NULL OR rating.write_date >= %(since)s)
               AND (%(company)s::int IS NULL OR ticket.company_id = %(company)s)
             GROUP BY ticket.commercial_partner_id
            """,
                satisfied=RATING_LIMIT_SATISFIED,
                partners=tuple(entities.ids),
                since=since,
                company=company.id if company else None,
            )
        )
        return {partner_id: round(float(value), 1) for partner_id, value in rows}

    @api.model
    def _support_plans(self, entities):
        """{commercial partner id: support plan products in force today}.

        A plan is in force from the date of the posted invoice that sold it for
        the product's duration; invoices reversed by a credit note do not count.
        """
        if not entities:
            return {}
        for model in ("account.move", "account.move.line", "product.template"):
            self.env[model].flush_model()
        rows = self.env.execute_query(
            SQL(
                """
            SELECT DISTINCT move.commercial_partner_id, line.product_id
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
              JOIN product_product product ON product.id = line.product_id
              JOIN product_template template ON template.id = product.product_tmpl_id
             WHERE move.commercial_partner_id IN %(partners)s
               AND move.move_type = 'out_invoice'
               AND move.state = 'posted'
               AND move.payment_state != 'reversed'
               AND template.is_support_plan
               AND move.invoice_date <= CURRENT_DATE
               AND move.invoice_date
                   + make_interval(months => template.support_plan_months)
                   > CURRENT_DATE
            """,
                partners=tuple(entities.ids),
            )
        )
        plans = defaultdict(list)
        for partner_id, product_id in rows:
            plans[partner_id].append(product_id)
        return {
            partner_id: self.env["product.product"].browse(ids)
            for partner_id, ids in plans.items()
        }

    def action_view_customer_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_support.crm_ticket_action"
        )
        action["domain"] = [
            ("commercial_partner_id", "=", self.commercial_partner_id.id)
        ]
        action["context"] = {"default_partner_id": self.id, "default_channel": "phone"}
        return action

    def action_new_ticket(self):
        self.ensure_one()
        return self.env["crm.ticket"]._action_new({"partner_id": self.id})
