from odoo import Command, fields
from odoo.tests import tagged

from .common import CrmSupportCommon


@tagged("post_install", "-at_install")
class TestTicketRouting(CrmSupportCommon):
    def test_rules_pick_the_team(self):
        billing_team = self.env["crm.support.team"].create(
            {
                "name": "Billing desk",
                "member_ids": [Command.set(self.agent_3.ids)],
                "resource_calendar_id": self.calendar.id,
            }
        )
        vip = self.env["crm.ticket.tag"].create({"name": "VIP (test)"})
        Rule = self.env["crm.ticket.routing.rule"]
        cases = [
            (
                {"category_ids": [Command.set(self.invoicing.ids)]},
                {"category_id": self.invoicing.id},
            ),
            ({"tag_ids": [Command.set(vip.ids)]}, {"tag_ids": [Command.set(vip.ids)]}),
            (
                {"partner_ids": [Command.set(self.other_customer.ids)]},
                {"partner_id": self.other_customer.id},
            ),
            ({"channels": "web, portal"}, {"channel": "portal"}),
            (
                {"lang_ids": [Command.set(self.env.ref("base.lang_en").ids)]},
                {"partner_id": self.contact_2.id},
            ),
        ]
        for rule_vals, ticket_vals in cases:
            with self.subTest(rule=rule_vals):
                rule = Rule.create(
                    {"name": "To billing", "team_id": billing_team.id, **rule_vals}
                )
                routed = self.Ticket.create({"name": "Routed", **ticket_vals})
                other = self.Ticket.create({"name": "Not routed", "channel": "email"})
                self.assertEqual(routed.team_id, billing_team)
                self.assertIn("To billing", routed.routing_reason)
                self.assertEqual(other.team_id, self.team)
                rule.active = False

    def test_skills_then_load_then_turn(self):
        # Printers: agent 2 is the expert, agent 1 a beginner.
        first = self._ticket(category_id=self.hardware.id)
        self.assertEqual(first.user_id, self.agent_2)
        self.assertIn("skills Printers (test)", first.routing_reason)
        # Billing: only agent 3 has it.
        self.assertEqual(
            self._ticket(category_id=self.invoicing.id).user_id, self.agent_3
        )
        # No skill asked: the lightest load wins (agent 1 has nothing yet).
        self.assertEqual(self._ticket().user_id, self.agent_1)

    def test_equal_loads_go_in_turn_after_the_last_assignee(self):
        for agent in (self.agent_1, self.agent_2, self.agent_3):
            self._ticket(user_id=agent.id)
        self.team.last_user_id = self.agent_2
        # All three carry one ticket: agent 3 comes after agent 2. Then agents 1
        # and 2 tie on load: agent 1 comes after agent 3; agent 2 is left lightest.
        tickets = [self._ticket() for _i in range(3)]
        self.assertEqual(
            [ticket.user_id for ticket in tickets],
            [self.agent_3, self.agent_1, self.agent_2],
        )
        self.assertIn("next in turn", tickets[0].routing_reason)
        self.assertIn("next in turn", tickets[1].routing_reason)
        self.assertEqual(self.team.last_user_id, self.agent_2)

    def test_workload_weighs_priority(self):
        # Open tickets weigh 1 + priority: agent 1 and 2 carry 4, agent 3 carries 1.
        self._ticket(user_id=self.agent_1.id, priority="3")
        self._ticket(user_id=self.agent_2.id)
        self._ticket(user_id=self.agent_2.id)
        self._ticket(user_id=self.agent_3.id, priority="0")
        self.assertEqual(self._ticket().user_id, self.agent_3)

    def test_agents_on_leave_or_archived_are_skipped(self):
        now = fields.Datetime.now()
        resource = (
            self.env["resource.resource"]
            .sudo()
            .create(
                {
                    "name": "agent 2",
                    "user_id": self.agent_2.id,
                    "calendar_id": self.calendar.id,
                }
            )
        )
        self.env["resource.calendar.leaves"].sudo().create(
            {
                "name": "Time off",
                "resource_id": resource.id,
                "date_from": now.replace(hour=0, minute=0),
                "date_to": now.replace(hour=23, minute=59),
            }
        )
        self.assertEqual(
            self._ticket(category_id=self.hardware.id).user_id, self.agent_1
        )
        self.agent_1.active = False
        ticket = self._ticket(category_id=self.hardware.id)
        # Nobody left with the skill: the one agent at work takes it.
        self.assertEqual(ticket.user_id, self.agent_3)

    def test_assignment_queries_do_not_grow_with_the_batch(self):
        queries = []
        for size in (2, 6, 30):  # the first batch warms the caches
            tickets = self.Ticket.with_context(tracking_disable=True).create(
                [
                    {
                        "name": f"T{i}",
                        "team_id": self.team.id,
                        "user_id": self.leader.id,
                    }
                    for i in range(size)
                ]
            )
            tickets.user_id = False
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.cr.sql_log_count
            tickets._assign_agents()
            self.env.flush_all()
            queries.append(self.cr.sql_log_count - start)
            self.assertFalse(tickets.filtered(lambda t: not t.user_id))
        self.assertEqual(queries[1], queries[2], queries)
