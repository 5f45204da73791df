from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import CrmSupportCommon


@tagged("post_install", "-at_install")
class TestSupportSecurity(CrmSupportCommon):
    def test_agents_see_their_teams_tickets_only(self):
        outsider = new_test_user(
            self.env, "agent_outside", groups="crm_support.group_support_user"
        )
        other_team = self.env["crm.support.team"].create(
            {
                "name": "Other desk",
                "member_ids": [Command.set(outsider.ids)],
                "resource_calendar_id": self.calendar.id,
            }
        )
        ours = self._ticket()
        theirs = self._ticket(team_id=other_team.id)
        self.assertTrue(ours.user_id)
        Ticket = self.env["crm.ticket"]
        self.assertEqual(
            Ticket.with_user(self.agent_1).search([("id", "in", (ours | theirs).ids)]),
            ours,
        )
        self.assertEqual(
            Ticket.with_user(outsider).search([("id", "in", (ours | theirs).ids)]),
            theirs,
        )
        with self.assertRaises(AccessError):
            ours.with_user(outsider).read(["name"])
        # The manager sees both.
        self.assertEqual(
            Ticket.with_user(self.leader).search([("id", "in", (ours | theirs).ids)]),
            ours | theirs,
        )

    def test_agents_cannot_change_the_configuration(self):
        for model, vals in (
            ("crm.sla.policy", {"name": "Mine", "response_hours": 1}),
            ("crm.support.team", {"name": "Mine"}),
            ("crm.ticket.routing.rule", {"name": "Mine", "team_id": self.team.id}),
        ):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.agent_1).create(vals)
        with self.assertRaises(AccessError):
            self.standard_sla.with_user(self.agent_1).response_hours = 100
        with self.assertRaises(AccessError):
            self.env["crm.ticket.sla.report"].with_user(self.agent_1).search([])

    def test_employees_without_support_rights_see_no_ticket(self):
        self._ticket()
        with self.assertRaises(AccessError):
            self.env["crm.ticket"].with_user(self.employee).search([])

    def test_sla_report_keeps_to_the_managers_companies(self):
        ours = self._ticket()
        other_team = (
            self.env["crm.support.team"]
            .with_company(self.other_company)
            .create({"name": "Other company desk", "company_id": self.other_company.id})
        )
        theirs = (
            self.env["crm.ticket"]
            .with_company(self.other_company)
            .create(
                {
                    "name": "Elsewhere",
                    "team_id": other_team.id,
                    "company_id": self.other_company.id,
                }
            )
        )
        self.assertEqual(self.leader.company_ids, self.company)
        rows = (
            self.env["crm.ticket.sla.report"]
            .with_user(self.leader)
            .search([("ticket_id", "in", (ours | theirs).ids)])
        )
        self.assertEqual(rows.ticket_id, ours)
