from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import CrmSupportCommon


@tagged("post_install", "-at_install")
class TestSupportPortal(CrmSupportCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        portal = cls.env.ref("base.group_portal")
        cls.globex_contact = cls.env["res.partner"].create(
            {
                "name": "Gina Globex",
                "parent_id": cls.other_customer.id,
                "email": "gina@globex.example.com",
            }
        )
        cls.portal_acme, cls.portal_globex = cls.env["res.users"].create(
            [
                {
                    "name": "Bob Acme",
                    "login": "portal_bob",
                    "password": "portal_bob",
                    "partner_id": cls.contact_2.id,
                    "groups_id": [Command.set(portal.ids)],
                },
                {
                    "name": "Gina Globex",
                    "login": "portal_gina",
                    "password": "portal_gina",
                    "partner_id": cls.globex_contact.id,
                    "groups_id": [Command.set(portal.ids)],
                },
            ]
        )
        # Alice's ticket is Acme's: Bob, her colleague, sees it; Gina does not.
        cls.acme_ticket = cls._ticket(name="Acme printer")
        cls.globex_ticket = cls._ticket(
            name="Globex screen", partner_id=cls.globex_contact.id
        )

    def test_customers_see_their_company_tickets_only(self):
        Ticket = self.env["crm.ticket"]
        self.assertEqual(
            Ticket.with_user(self.portal_acme).search([]), self.acme_ticket
        )
        self.assertEqual(
            Ticket.with_user(self.portal_globex).search([]), self.globex_ticket
        )
        self.authenticate("portal_bob", "portal_bob")
        page = self.url_open("/my/tickets?filterby=all").text
        self.assertIn("Acme printer", page)
        self.assertNotIn("Globex screen", page)
        mine = self.url_open(f"/my/tickets/{self.acme_ticket.id}")
        self.assertIn("Acme printer", mine.text)
        theirs = self.url_open(f"/my/tickets/{self.globex_ticket.id}")
        self.assertNotIn("Globex screen", theirs.text)
        self.assertTrue(theirs.url.endswith("/my"))

    def test_customers_open_tickets_from_the_portal(self):
        self.authenticate("portal_bob", "portal_bob")
        form = self.url_open("/my/tickets/new").text
        token = self._csrf(form)
        response = self.url_open(
            "/my/tickets/new",
            data={
                "csrf_token": token,
                "name": "Scanner offline",
                "description": "Since noon",
            },
        )
        ticket = self.env["crm.ticket"].search([("name", "=", "Scanner offline")])
        self.assertEqual(ticket.partner_id, self.contact_2)
        self.assertEqual(ticket.channel, "portal")
        self.assertEqual(ticket.team_id, self.team)
        self.assertIn(f"/my/tickets/{ticket.id}", response.url)

    def test_anyone_opens_a_ticket_from_the_web_form(self):
        form = self.url_open("/support/new").text
        token = self._csrf(form)
        bad = self.url_open(
            "/support/new", data={"csrf_token": token, "email": "nope", "name": "Help"}
        )
        self.assertIn("Give an email address", bad.text)
        done = self.url_open(
            "/support/new",
            data={
                "csrf_token": token,
                "contact_name": "Walter Web",
                "email": "walter@web.example.com",
                "name": "Where is my order?",
                "description": "Ordered last week",
                "newsletter": "on",
            },
        )
        # Public visitors write in the website's company, not the test company.
        ticket = (
            self.env["crm.ticket"].sudo().search([("name", "=", "Where is my order?")])
        )
        self.assertIn(ticket.number, done.text)
        self.assertEqual(ticket.channel, "web")
        self.assertEqual(ticket.partner_id.name, "Walter Web")
        self.assertEqual(ticket.partner_id.email, "walter@web.example.com")
        # The newsletter box is a web sign-up: pending until the emailed link.
        consent = ticket.partner_id.sudo().consent_ids
        self.assertEqual(consent.state, "pending")
        self.assertEqual(consent.source, "web_form")
        self.assertEqual(consent.ip_address, "127.0.0.1")
        self.assertFalse(ticket.partner_id._crm_may_contact("marketing_email"))

    def test_portal_users_read_only_what_their_page_shows(self):
        ticket = self.acme_ticket.with_user(self.portal_acme)
        self.assertEqual(ticket.read(["name"])[0]["name"], "Acme printer")
        internal = [
            "routing_reason",
            "skill_ids",
            "suggested_article_ids",
            "article_ids",
            "invoice_ids",
            "sla_policy_id",
            "web_sender_ip",
        ]
        for field in internal:
            with self.subTest(field=field), self.assertRaises(AccessError):
                ticket.read([field])
        self.assertTrue(self.acme_ticket.with_user(self.agent_1).routing_reason)

    def _web_form(self, **data):
        token = self._csrf(self.url_open("/support/new").text)
        return self.url_open("/support/new", data={"csrf_token": token, **data})

    def test_web_form_with_a_customers_address_waits_for_its_confirmation(self):
        # Someone types Alice's address: the ticket must not land in Acme's
        # tickets, make Alice a follower or mail her what the sender wrote.
        done = self._web_form(
            email="Alice@Acme.example.com",
            name="Send me Acme's invoices",
            description="Urgent",
        )
        Ticket = self.env["crm.ticket"].sudo()
        ticket = Ticket.search([("name", "=", "Send me Acme's invoices")])
        self.assertIn("sent it a link to confirm", done.text)
        self.assertFalse(ticket.partner_id)
        self.assertTrue(ticket.web_unconfirmed)
        self.assertFalse(ticket.message_partner_ids & self.contact_1)
        self.assertFalse(ticket.commercial_partner_id)
        mails = (
            self.env["mail.mail"]
            .sudo()
            .search([("model", "=", "crm.ticket"), ("res_id", "=", ticket.id)])
            .filtered(
                lambda m: (
                    "alice" in (m.email_to or "") or self.contact_1 in m.recipient_ids
                )
            )
        )
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails.email_to, "alice@acme.example.com")
        self.assertNotIn("invoices", mails.subject + mails.body_html)
        # Opening the link only shows a button; a wrong token changes nothing.
        url = f"/support/confirm/{ticket.id}"
        page = self.url_open(f"{url}?token={ticket.web_confirm_token}")
        self.assertIn("Confirm my request", page.text)
        self.assertTrue(ticket.web_unconfirmed)
        token = self._csrf(page.text)
        wrong = self.url_open(url, data={"csrf_token": token, "token": "guess"})
        self.assertIn("does not work", wrong.text)
        self.assertFalse(ticket.partner_id)
        self.url_open(
            url, data={"csrf_token": token, "token": ticket.web_confirm_token}
        )
        self.assertEqual(ticket.partner_id, self.contact_1)
        self.assertFalse(ticket.web_unconfirmed)
        self.assertIn(self.contact_1, ticket.message_partner_ids)
        self.assertEqual(ticket.commercial_partner_id, self.customer)

    def test_web_form_honeypot_and_rate_limits(self):
        Ticket = self.env["crm.ticket"].sudo()
        self._web_form(email="bot@spam.example.com", name="Buy now", fax_number="1")
        self.assertFalse(Ticket.search([("name", "=", "Buy now")]))
        self.env["ir.config_parameter"].sudo().set_param(
            "crm_support.web_form_limit_per_email", 2
        )
        self.env["ir.config_parameter"].sudo().set_param(
            "crm_support.web_form_limit_per_ip", 3
        )
        for i in range(3):
            self._web_form(email="flood@spam.example.com", name=f"Flood {i}")
        self.assertEqual(Ticket.search_count([("name", "like", "Flood")]), 2)
        # Another address from the same IP: the IP's limit stops it next.
        self._web_form(email="other@spam.example.com", name="Flood 3")
        refused = self._web_form(email="third@spam.example.com", name="Flood 4")
        self.assertIn("several requests", refused.text)
        self.assertEqual(Ticket.search_count([("name", "like", "Flood")]), 3)

    def _csrf(self, html):
        import re

        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
