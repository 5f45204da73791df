from odoo import Command
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

    def _csrf(self, html):
        import re

        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
