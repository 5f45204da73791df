from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import CrmSupportCommon


@tagged("post_install", "-at_install")
class TestCustomerView(CrmSupportCommon):
    def test_360_and_churn_read_support(self):
        open_ticket = self._ticket()
        breached = self._ticket(partner_id=self.contact_2.id)
        breached.sla_response_deadline = fields.Datetime.now() - timedelta(hours=1)
        self.Ticket._cron_check_sla()
        self.assertEqual(breached.sla_status, "failed")
        unhappy = self._ticket()
        unhappy.stage_id = self.stage_solved
        unhappy.rating_apply(1, token=unhappy.rating_ids.access_token)
        # Every contact of the account shows the same figures.
        for partner in (self.customer, self.contact_1):
            self.assertEqual(partner.customer_open_ticket_count, 2)
            self.assertEqual(partner.customer_sla_breach_count, 1)
            self.assertEqual(partner.customer_ticket_csat, 0.0)
        action = self.contact_1.action_view_customer_tickets()
        self.assertEqual(
            self.Ticket.search(action["domain"]), open_ticket | breached | unhappy
        )
        self.env["crm.churn.analysis"]._score(self.customer)
        self.assertIn(
            "1 support ticket(s) breached their SLA in 90 days.",
            self.customer.churn_reasons,
        )
        self.assertIn("Only 0% of their support ratings", self.customer.churn_reasons)

    def test_tickets_from_a_contact_or_a_lead(self):
        from_contact = self.Ticket.with_context(
            **self.contact_1.action_new_ticket()["context"]
        ).create({"name": "Called about the printer"})
        self.assertEqual(from_contact.partner_id, self.contact_1)
        self.assertEqual(from_contact.channel, "phone")
        self.assertEqual(from_contact.team_id, self.team)
        lead = self.env["crm.lead"].create(
            {"name": "Unhappy prospect", "email_from": "prospect@example.com"}
        )
        context = lead.action_new_ticket()["context"]
        ticket = self.Ticket.with_context(**context).create({})
        self.assertEqual(ticket.name, "Unhappy prospect")
        self.assertEqual(ticket.partner_id.email, "prospect@example.com")
        self.assertEqual(ticket.channel, "phone")

    def test_billable_support_makes_a_draft_invoice(self):
        ticket = self._ticket()
        hour = self.env["product.product"].create(
            {"name": "Support hour (test)", "type": "service", "list_price": 90}
        )
        wizard = (
            self.env["crm.ticket.invoice.wizard"]
            .with_user(self.agent_1)
            .create({"ticket_id": ticket.id, "product_id": hour.id, "quantity": 2.5})
        )
        self.assertEqual(wizard.price_unit, 90)
        wizard.action_create_invoice()
        invoice = ticket.invoice_ids
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(invoice.partner_id, self.customer)
        self.assertEqual(invoice.amount_untaxed, 225)
        self.assertEqual(invoice.invoice_origin, ticket.number)

    def test_privacy_export_and_erasure_cover_tickets(self):
        ticket = self._ticket(description="<p>Alice's printer</p>")
        # Bob's ticket quotes Alice's address: only the address goes.
        quoting = self._ticket(
            partner_id=self.contact_2.id,
            name="Printer shared with alice@acme.example.com",
            description="<p>Alice (alice@acme.example.com) has the same jam</p>",
        )
        data = self.env["crm.privacy.engine"]._export(self.contact_1)
        self.assertEqual([t["number"] for t in data["crm.ticket"]], [ticket.number])
        self.env["crm.privacy.engine"]._erase(self.contact_1)
        self.assertEqual(ticket.name, "Erased ticket")
        self.assertFalse(ticket.partner_email)
        self.assertEqual(quoting.name, "Printer shared with [erased]")
        self.assertEqual(
            quoting.description, "<p>Alice ([erased]) has the same jam</p>"
        )
        self.assertEqual(quoting.partner_id, self.contact_2)
