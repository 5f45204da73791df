from odoo import Command
from odoo.tests import new_test_user, tagged

from odoo.addons.crm_core.tests.common import BrowserTourCase


@tagged("post_install", "-at_install")
class TestSupportTours(BrowserTourCase):
    """An agent answers and solves a ticket; a portal customer opens one and sees only
    their company's tickets. Each at desktop and at phone width."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agent = new_test_user(
            cls.env, "tour_agent", groups="crm_support.group_support_user"
        )
        cls.team = cls.env["crm.support.team"].create(
            {"name": "Tour Desk", "member_ids": [Command.set(cls.agent.ids)]}
        )
        Partner = cls.env["res.partner"]
        cls.customer = Partner.create({"name": "Tour Supplies", "is_company": True})
        cls.colleague = Partner.create(
            {"name": "Colin Colleague", "parent_id": cls.customer.id}
        )
        rival = Partner.create({"name": "Rival Corp", "is_company": True})
        cls.portal_user = new_test_user(
            cls.env, "tour_portal", groups="base.group_portal", name="Paula Portal"
        )
        cls.portal_user.partner_id.parent_id = cls.customer
        Ticket = cls.env["crm.ticket"]
        cls.jam = Ticket.create(
            {
                "name": "Printer jams",
                "description": "<p>The paper tray jams on every job.</p>",
                "team_id": cls.team.id,
                "user_id": cls.agent.id,
                "partner_id": cls.colleague.id,
            }
        )
        cls.colleague_ticket = Ticket.create(
            {
                "name": "Badge reader offline",
                "team_id": cls.team.id,
                "partner_id": cls.colleague.id,
            }
        )
        cls.rival_ticket = Ticket.create(
            {
                "name": "Rival invoice dispute",
                "team_id": cls.team.id,
                "partner_id": rival.id,
            }
        )

    def _agent_answers_and_solves(self, size):
        self.start_tour_at(
            size,
            f"/odoo/action-crm_support.crm_ticket_action/{self.jam.id}",
            "crm_support_agent_answers_and_solves",
            login=self.agent.login,
        )
        self.assertTrue(self.jam.is_closed)
        self.assertEqual(self.jam.stage_id, self.env.ref("crm_support.stage_solved"))
        answer = self.jam.message_ids.filtered(
            lambda m: "reseat the paper tray" in (m.body or "")
        )
        self.assertEqual(answer.author_id, self.agent.partner_id)
        self.assertEqual(answer.message_type, "comment")
        self.assertTrue(self.jam.date_first_response)

    def _portal_customer_opens_a_ticket(self, size):
        self.start_tour_at(
            size,
            "/my/tickets",
            "crm_support_portal_ticket",
            login=self.portal_user.login,
        )
        ticket = self.env["crm.ticket"].search(
            [("name", "=", "Scanner shows error E42")]
        )
        self.assertEqual(len(ticket), 1)
        self.assertEqual(ticket.partner_id, self.portal_user.partner_id)
        self.assertEqual(ticket.commercial_partner_id, self.customer)
        self.assertEqual(ticket.channel, "portal")
        self.assertIn("after the update", ticket.description)

    def test_agent_answers_and_solves_desktop(self):
        self._agent_answers_and_solves("desktop")

    def test_agent_answers_and_solves_phone(self):
        self._agent_answers_and_solves("phone")

    def test_portal_customer_opens_a_ticket_desktop(self):
        self._portal_customer_opens_a_ticket("desktop")

    def test_portal_customer_opens_a_ticket_phone(self):
        self._portal_customer_opens_a_ticket("phone")
