from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CrmSupportCommon, utc

FRIDAY_3PM = utc(2026, 11, 20, 15, 0)
MONDAY_9AM = utc(2026, 11, 23, 9, 0)


@tagged("post_install", "-at_install")
class TestSla(CrmSupportCommon):
    def test_deadlines_skip_the_weekend(self):
        with freeze_time(FRIDAY_3PM):
            ticket = self._ticket()
        self.assertEqual(ticket.sla_policy_id, self.standard_sla)
        # 4 working hours: Friday 15-17, Monday 8-10.
        self.assertEqual(ticket.sla_response_deadline, utc(2026, 11, 23, 10, 0))
        # 16: Friday 2, Monday 8, Tuesday 8-12 and 13-15.
        self.assertEqual(ticket.sla_resolution_deadline, utc(2026, 11, 24, 15, 0))
        self.assertEqual(ticket.sla_deadline, ticket.sla_response_deadline)
        self.assertEqual(ticket.sla_status, "ongoing")

    def test_deadlines_skip_a_holiday(self):
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Public holiday",
                "calendar_id": self.calendar.id,
                "date_from": utc(2026, 11, 23, 0, 0),
                "date_to": utc(2026, 11, 23, 23, 59),
            }
        )
        with freeze_time(FRIDAY_3PM):
            ticket = self._ticket()
        self.assertEqual(ticket.sla_response_deadline, utc(2026, 11, 24, 10, 0))
        self.assertEqual(ticket.sla_resolution_deadline, utc(2026, 11, 25, 15, 0))

    def test_waiting_on_the_customer_pauses_the_clock(self):
        with freeze_time(MONDAY_9AM):
            ticket = self._ticket()
        self.assertEqual(ticket.sla_response_deadline, utc(2026, 11, 23, 14, 0))
        with freeze_time(utc(2026, 11, 23, 10, 0)):
            ticket.stage_id = self.stage_waiting
        self.assertEqual(ticket.sla_paused_since, utc(2026, 11, 23, 10, 0))
        with freeze_time(utc(2026, 11, 23, 16, 0)):
            # Paused tickets are neither warned nor escalated.
            self.Ticket._cron_check_sla()
        self.assertEqual(ticket.sla_response_status, "ongoing")
        with freeze_time(utc(2026, 11, 24, 10, 0)):
            ticket.stage_id = self.stage_progress
        # Paused 8 working hours: the 3 hours left run Tuesday 10-12 and 13-14.
        self.assertEqual(ticket.sla_paused_hours, 8)
        self.assertFalse(ticket.sla_paused_since)
        self.assertEqual(ticket.sla_response_deadline, utc(2026, 11, 24, 14, 0))

    def test_a_customer_answer_resumes_a_waiting_ticket(self):
        with freeze_time(MONDAY_9AM):
            ticket = self._ticket()
        with freeze_time(utc(2026, 11, 23, 10, 0)):
            ticket.stage_id = self.stage_waiting
        with freeze_time(utc(2026, 11, 23, 15, 0)):
            ticket.message_post(
                body="Here is the photo you asked for",
                author_id=self.contact_1.id,
                message_type="email",
            )
        self.assertEqual(ticket.stage_id, self.stage_progress)
        self.assertFalse(ticket.sla_paused_since)
        # Paused Monday 10-12 and 13-15: the 14:00 deadline moves by 4 working hours.
        self.assertEqual(ticket.sla_paused_hours, 4)
        self.assertEqual(ticket.sla_response_deadline, utc(2026, 11, 24, 9, 0))

    def test_first_response_and_resolution_are_measured(self):
        with freeze_time(MONDAY_9AM):
            ticket = self._ticket()
        with freeze_time(utc(2026, 11, 23, 11, 0)):
            ticket.with_user(self.agent_1).message_post(
                body="We are on it",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        self.assertEqual(ticket.date_first_response, utc(2026, 11, 23, 11, 0))
        self.assertEqual(ticket.sla_response_status, "met")
        self.assertEqual(ticket.response_hours, 2)
        self.assertEqual(ticket.sla_deadline, ticket.sla_resolution_deadline)
        with freeze_time(utc(2026, 11, 26, 9, 0)):
            ticket.stage_id = self.stage_solved
        # Resolution due Wednesday 9:00 (16 hours): solved Thursday, failed.
        self.assertEqual(ticket.sla_resolution_status, "failed")
        self.assertEqual(ticket.sla_status, "failed")
        self.assertEqual(ticket.resolution_hours, 24)
        report = self.env["crm.ticket.sla.report"].search(
            [("ticket_id", "=", ticket.id)]
        )
        self.assertEqual(report.sla_success, 0)
        self.assertEqual(report.response_hours, 2)

    def test_warning_and_escalation_fire_once(self):
        self.standard_sla.write(
            {"escalate_raise_priority": True, "escalate_reassign": True}
        )
        with freeze_time(MONDAY_9AM):
            ticket = self._ticket()
        agent = ticket.user_id
        warnings = lambda: ticket.activity_ids.filtered(  # noqa: E731
            lambda a: "SLA deadline" in (a.summary or "")
        )
        for minute in (30, 40):
            with freeze_time(utc(2026, 11, 23, 13, minute)):
                self.Ticket._cron_check_sla()
        self.assertEqual(len(warnings()), 1)
        self.assertEqual(warnings().user_id, agent)
        breach = lambda: ticket.message_ids.filtered(  # noqa: E731
            lambda m: "SLA breached" in (m.body or "")
        )
        for hour in (14, 15):
            with freeze_time(utc(2026, 11, 23, hour, 30)):
                self.Ticket._cron_check_sla()
        self.assertEqual(len(breach()), 1)
        self.assertIn(self.leader.partner_id, breach().partner_ids)
        self.assertEqual(ticket.sla_response_status, "failed")
        self.assertEqual(ticket.priority, "2")
        self.assertEqual(ticket.user_id, self.leader)
        # The resolution deadline is still to meet: the clock goes on.
        self.assertEqual(ticket.sla_deadline, ticket.sla_resolution_deadline)

    def test_support_plan_bought_on_a_posted_invoice_gives_its_sla(self):
        plan = self.env["product.product"].create(
            {
                "name": "Gold plan (test)",
                "type": "service",
                "is_support_plan": True,
                "support_plan_months": 12,
            }
        )
        gold = self.env["crm.sla.policy"].create(
            {
                "name": "Gold (test)",
                "sequence": 1,
                "plan_product_id": plan.id,
                "response_hours": 1,
                "resolution_hours": 4,
            }
        )

        def invoice(months_ago, post=True):
            move = self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_date": fields.Date.today()
                    - relativedelta(months=months_ago),
                    "invoice_line_ids": [
                        Command.create({"product_id": plan.id, "price_unit": 500})
                    ],
                }
            )
            if post:
                move.action_post()
            return move

        invoice(1, post=False)
        invoice(13)  # expired
        self.assertEqual(self._ticket().sla_policy_id, self.standard_sla)
        current = invoice(2)
        ticket = self._ticket()
        self.assertEqual(ticket.sla_policy_id, gold)
        self.assertEqual(
            self.env["res.partner"]._support_plans(self.customer)[self.customer.id],
            plan,
        )
        # Credited in full: the plan is gone.
        current._reverse_moves(cancel=True)
        self.assertEqual(current.payment_state, "reversed")
        self.assertEqual(self._ticket().sla_policy_id, self.standard_sla)

    def test_the_shipped_policy_gives_every_ticket_a_deadline(self):
        self.standard_sla.active = False
        self.env.ref("crm_support.sla_policy_default").active = True
        with freeze_time(MONDAY_9AM):
            ticket = self._ticket()
        # 8 working hours: Monday 9-12 and 13-17, Tuesday 8-9.
        self.assertEqual(ticket.sla_response_deadline, utc(2026, 11, 24, 9, 0))
        self.assertEqual(ticket.sla_policy_id.name, "Standard")

    def test_policies_match_priority_category_and_customer(self):
        Policy = self.env["crm.sla.policy"]
        urgent = Policy.create(
            {
                "name": "Urgent",
                "sequence": 2,
                "priority": "3",
                "response_hours": 1,
                "resolution_hours": 2,
            }
        )
        hardware = Policy.create(
            {
                "name": "Hardware",
                "sequence": 3,
                "category_ids": [Command.set(self.hardware.ids)],
                "response_hours": 2,
                "resolution_hours": 8,
            }
        )
        globex = Policy.create(
            {
                "name": "Globex",
                "sequence": 4,
                "partner_ids": [Command.set(self.other_customer.ids)],
                "response_hours": 3,
                "resolution_hours": 9,
            }
        )
        self.assertEqual(self._ticket(priority="3").sla_policy_id, urgent)
        self.assertEqual(
            self._ticket(category_id=self.hardware.id).sla_policy_id, hardware
        )
        self.assertEqual(
            self._ticket(partner_id=self.other_customer.id).sla_policy_id, globex
        )
        ticket = self._ticket()
        self.assertEqual(ticket.sla_policy_id, self.standard_sla)
        # Raising the priority re-plans the ticket.
        ticket.priority = "3"
        self.assertEqual(ticket.sla_policy_id, urgent)

    def test_sla_planning_queries_do_not_grow_with_the_batch(self):
        queries = []
        for size in (2, 5, 30):  # the first batch warms the caches
            with freeze_time(MONDAY_9AM):
                tickets = self.Ticket.with_context(tracking_disable=True).create(
                    [{"name": f"T{i}", "team_id": self.team.id} for i in range(size)]
                )
                self.env.flush_all()
                self.env.invalidate_all()
                start = self.cr.sql_log_count
                tickets._sla_apply()
                self.env.flush_all()
                queries.append(self.cr.sql_log_count - start)
            self.assertEqual(
                set(tickets.mapped("sla_response_deadline")), {utc(2026, 11, 23, 14, 0)}
            )
        self.assertEqual(queries[1], queries[2], queries)

    def test_solve_moves_to_the_teams_resolved_stage(self):
        ticket = self._ticket()
        ticket.with_user(self.agent_1).action_solve()
        self.assertEqual(ticket.stage_id, self.stage_solved)
        self.assertTrue(ticket.date_closed)
        # A team whose stages include no resolved one is told what to do.
        team_only = self.env["crm.ticket.stage"].search([("is_closed", "=", True)])
        team_only.team_ids = self.env["crm.support.team"].create({"name": "Elsewhere"})
        other = self._ticket(name="Still open")
        with self.assertRaisesRegex(UserError, "has no resolved stage"):
            other.action_solve()
        self.assertFalse(other.is_closed)
