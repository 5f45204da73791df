import logging
from collections import Counter
from datetime import timedelta

import psycopg2.errors

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CrmCoreCommon

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestLeadAssignment(CrmCoreCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["crm.assignment.rule"]
        cls.Rule.search([]).active = False  # independent of any rule already there
        cls.Lead = cls.env["crm.lead"]
        cls.belgium = cls.env.ref("base.be")
        cls.france = cls.env.ref("base.fr")

    def _rule(self, **vals):
        return self.Rule.create({"name": "Rule", "team_id": self.team_a.id, **vals})

    def _leads(self, count, **vals):
        return self.Lead.create([{"name": f"Lead {i}", **vals} for i in range(count)])

    def _member(self, user):
        return self.team_a.crm_team_member_ids.filtered(lambda m: m.user_id == user)

    def test_round_robin_spreads_evenly_within_one_lead(self):
        rule = self._rule(distribution="round_robin")
        leads = self._leads(5)
        counts = Counter(lead.user_id.login for lead in leads)
        self.assertEqual(sum(counts.values()), 5)
        self.assertLessEqual(max(counts.values()) - min(counts.values()), 1)
        self.assertEqual(set(leads.team_id), {self.team_a})
        # The turn carries over to the next arrivals.
        last = rule.last_user_id
        next_lead = self._leads(1)
        self.assertNotEqual(next_lead.user_id, last)
        self.assertIn(next_lead.user_id, self.salesman_a | self.salesman_a2)

    def test_capacity_is_never_exceeded(self):
        self._member(self.salesman_a).assignment_max = 2
        self._member(self.salesman_a2).assignment_max = 1
        self._rule(distribution="round_robin")
        leads = self._leads(5)
        self.assertEqual(
            len(leads.filtered(lambda lead: lead.user_id == self.salesman_a)), 2
        )
        self.assertEqual(
            len(leads.filtered(lambda lead: lead.user_id == self.salesman_a2)), 1
        )
        self.assertEqual(len(leads.filtered(lambda lead: not lead.user_id)), 2)
        # Another run respects the same capacity.
        self.assertEqual(
            self.Rule._assign_leads(leads),
            leads.filtered(lambda lead: not lead.user_id),
        )
        self.assertEqual(len(leads.filtered("user_id")), 3)

    def test_least_loaded_gets_the_lead(self):
        self.Lead.with_context(crm_skip_assignment=True).create(
            [
                {"name": "Hot", "user_id": self.salesman_a.id, "priority": "3"},
                {"name": "Cold 1", "user_id": self.salesman_a2.id, "priority": "0"},
                {"name": "Cold 2", "user_id": self.salesman_a2.id, "priority": "0"},
            ]
        )
        self._rule(distribution="least_loaded")
        # salesman_a carries one 3-star lead (weight 4), salesman_a2 two plain ones (2).
        lead = self._leads(1)
        self.assertEqual(lead.user_id, self.salesman_a2)
        self.assertIn("fewest open leads", lead.assignment_reason)

    def test_weighted_by_capacity(self):
        self._member(self.salesman_a).assignment_max = 30
        self._member(self.salesman_a2).assignment_max = 10
        self._rule(distribution="weighted")
        leads = self._leads(8)
        big = len(leads.filtered(lambda lead: lead.user_id == self.salesman_a))
        small = len(leads.filtered(lambda lead: lead.user_id == self.salesman_a2))
        self.assertEqual(big + small, 8)
        self.assertEqual((big, small), (6, 2))

    def test_each_criterion(self):
        industry = self.env["res.partner.industry"].create({"name": "Biotech"})
        biotech = self.env["res.partner"].create(
            {"name": "Bio", "industry_id": industry.id}
        )
        large = self.env["res.partner"].create(
            {"name": "Large", "is_company": True, "employee_count": 800}
        )
        source = self.env["utm.source"].create({"name": "Trade fair"})
        medium = self.env["utm.medium"].create({"name": "Booth"})
        campaign = self.env["utm.campaign"].create({"name": "Spring"})
        french = self.env["res.lang"]._activate_lang("fr_FR")
        state = self.env.ref("base.state_us_5")
        cases = [
            (
                {"country_ids": [Command.set(self.belgium.ids)]},
                {"country_id": self.belgium.id},
                {"country_id": self.france.id},
            ),
            (
                {"state_ids": [Command.set(state.ids)]},
                {"state_id": state.id},
                {"country_id": self.france.id},
            ),
            ({"zip_from": "1000", "zip_to": "1999"}, {"zip": "1050"}, {"zip": "2000"}),
            (
                {"industry_ids": [Command.set(industry.ids)]},
                {"partner_id": biotech.id},
                {"partner_id": self.contact_1.id},
            ),
            (
                {"revenue_min": 1000, "revenue_max": 5000},
                {"expected_revenue": 3000},
                {"expected_revenue": 9000},
            ),
            (
                {"revenue_min": 1000},
                {"expected_revenue": 90000},
                {"expected_revenue": 10},
            ),
            (
                {"employees_min": 50, "employees_max": 500},
                {"employee_count": 120},
                {"employee_count": 10},
            ),
            # The size of a known customer comes from the customer.
            ({"employees_min": 500}, {"partner_id": large.id}, {"employee_count": 20}),
            ({"source_ids": [Command.set(source.ids)]}, {"source_id": source.id}, {}),
            ({"medium_ids": [Command.set(medium.ids)]}, {"medium_id": medium.id}, {}),
            (
                {"campaign_ids": [Command.set(campaign.ids)]},
                {"campaign_id": campaign.id},
                {},
            ),
            ({"lang_ids": [Command.set(french.ids)]}, {"lang_id": french.id}, {}),
            (
                {"domain": "[('priority', '=', '3')]"},
                {"priority": "3"},
                {"priority": "1"},
            ),
        ]
        for rule_vals, match_vals, miss_vals in cases:
            with self.subTest(rule=rule_vals):
                rule = self._rule(**rule_vals)
                match, miss = self.Lead.create(
                    [
                        {"name": "Match", **match_vals},
                        {"name": "Miss", **miss_vals},
                    ]
                )
                self.assertEqual(match.assignment_rule_id, rule)
                self.assertIn(match.user_id, self.salesman_a | self.salesman_a2)
                self.assertFalse(miss.user_id)
                self.assertFalse(miss.assignment_rule_id)
                rule.active = False

    def test_first_matching_rule_wins_and_explains(self):
        self._rule(name="Catch-all", sequence=20, team_id=self.team_b.id)
        self._rule(
            name="Benelux", sequence=10, country_ids=[Command.set(self.belgium.ids)]
        )
        belgian, other = self.Lead.create(
            [
                {"name": "Belgian", "country_id": self.belgium.id},
                {"name": "Other", "country_id": self.france.id},
            ]
        )
        self.assertEqual(belgian.team_id, self.team_a)
        self.assertEqual(other.team_id, self.team_b)
        self.assertEqual(other.user_id, self.salesman_b)
        self.assertIn("Rule “Benelux” (Countries: Belgium)", belgian.assignment_reason)
        self.assertIn(belgian.user_id.name, belgian.assignment_reason)
        self.assertIn("round-robin", belgian.assignment_reason)

    def test_unavailable_members_are_skipped(self):
        self._member(self.salesman_a).assignment_optout = True
        self._rule()
        self.assertEqual(set(self._leads(3).user_id), {self.salesman_a2})
        # On leave now (working-calendar time off): nobody left.
        now = fields.Datetime.now()
        resource = (
            self.env["resource.resource"]
            .sudo()
            .create({"name": "salesman_a2", "user_id": self.salesman_a2.id})
        )
        self.env["resource.calendar.leaves"].sudo().create(
            {
                "name": "Holiday",
                "resource_id": resource.id,
                "date_from": now - timedelta(hours=1),
                "date_to": now + timedelta(days=2),
            }
        )
        self.assertFalse(self._leads(1).user_id)
        self.salesman_a2.active = False
        self._member(self.salesman_a).assignment_optout = False
        self.assertEqual(self._leads(1).user_id, self.salesman_a)

    def test_explicit_owner_is_kept(self):
        self._rule()
        lead = self.Lead.create({"name": "Mine", "user_id": self.salesman_b.id})
        self.assertEqual(lead.user_id, self.salesman_b)
        self.assertFalse(lead.assignment_rule_id)

    def test_backlog_assignment_is_harmless_to_rerun(self):
        leads = self._leads(4, user_id=False)  # no rule yet: nobody assigned
        self.assertFalse(leads.user_id)
        self._rule()
        self.Rule._assign_backlog()
        owners = {lead: lead.user_id for lead in leads}
        self.assertEqual(len(set(owners.values())), 2)
        self.Rule._assign_backlog()
        self.assertEqual({lead: lead.user_id for lead in leads}, owners)

    def test_backlog_button_is_a_managers_in_their_companies(self):
        leads = self._leads(2, user_id=False)
        self._rule()
        with self.assertRaises(AccessError):
            self.Rule.with_user(self.salesman_a).action_assign_backlog()
        self.assertFalse(leads.user_id)
        # The other company's manager leaves this company's backlog alone.
        self.Rule.with_user(self.other_company_manager).action_assign_backlog()
        self.assertFalse(leads.user_id)
        self.Rule.with_user(self.manager).action_assign_backlog()
        self.assertTrue(all(leads.mapped("user_id")))

    def test_assignee_is_notified(self):
        self._rule(member_ids=[Command.set(self.salesman_a2.ids)])
        # The test base mutes mail; the assignment notice is what is tested here.
        lead = self.Lead.with_context(
            tracking_disable=False,
            mail_notrack=False,
            mail_auto_subscribe_no_notify=False,
        ).create({"name": "Notify me"})
        self.assertEqual(lead.user_id, self.salesman_a2)
        # Assignment notices are visible to their recipient only.
        notification = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", "crm.lead"),
                    ("res_id", "=", lead.id),
                    ("partner_ids", "in", self.salesman_a2.partner_id.ids),
                ]
            )
        )
        self.assertTrue(notification, "the new owner must be told about the lead")

    def test_bad_rules_are_refused(self):
        empty_team = self.env["crm.team"].create({"name": "Empty"})
        with (
            self.assertRaisesRegex(ValidationError, "has no member"),
            self.cr.savepoint(),
        ):
            self._rule(team_id=empty_team.id)
        with (
            self.assertRaisesRegex(ValidationError, "starts above its end"),
            self.cr.savepoint(),
        ):
            self._rule(revenue_min=5000, revenue_max=1000)
        with (
            self.assertRaisesRegex(ValidationError, "company size range"),
            self.cr.savepoint(),
        ):
            self._rule(employees_min=200, employees_max=50)
        with self.assertRaisesRegex(ValidationError, "zip range"), self.cr.savepoint():
            self._rule(zip_from="9000", zip_to="1000")
        with (
            self.assertRaisesRegex(ValidationError, "not in the team"),
            self.cr.savepoint(),
        ):
            self._rule(member_ids=[Command.set(self.salesman_b.ids)])
        with (
            self.assertRaisesRegex(ValidationError, "not a valid filter"),
            self.cr.savepoint(),
        ):
            self._rule(domain="[('no_such_field', '=', 1)]")
        with (
            self.assertRaisesRegex(ValidationError, "cannot be negative"),
            self.cr.savepoint(),
        ):
            self._member(self.salesman_a).assignment_max = -1
        self.assertFalse(self.Rule.search([]))

    def test_assignment_queries_do_not_grow_with_the_batch(self):
        self.team_a.crm_team_member_ids.assignment_max = 1000
        for distribution in ("round_robin", "least_loaded", "weighted"):
            with self.subTest(distribution=distribution):
                rule = self._rule(distribution=distribution)
                queries = []
                for size in (3, 10, 60):  # the first batch warms the caches
                    leads = self.Lead.with_context(crm_skip_assignment=True).create(
                        [{"name": f"Lead {i}", "user_id": False} for i in range(size)]
                    )
                    self.env.flush_all()
                    self.env.invalidate_all()
                    start = self.cr.sql_log_count
                    self.Rule._assign_leads(leads, rule)
                    self.env.flush_all()
                    queries.append(self.cr.sql_log_count - start)
                    self.assertFalse(leads.filtered(lambda lead: not lead.user_id))
                _logger.info(
                    "Assignment queries (%s): %s for 10 leads, %s for 60 leads",
                    distribution,
                    queries[1],
                    queries[2],
                )
                self.assertEqual(queries[1], queries[2], f"{distribution}: {queries}")
                rule.active = False

    def test_two_workers_never_take_the_same_lead(self):
        """Two transactions lock the backlog at once: each lead goes to one of them."""
        with self.committed() as env:
            leads = env["crm.lead"].create(
                [{"name": f"Race {i}", "user_id": False} for i in range(4)]
            )
        try:
            with self.two_workers() as (env1, env2):
                first = env1["crm.assignment.rule"]._lock_unassigned(leads.ids[:3])
                second = env2["crm.assignment.rule"]._lock_unassigned(leads.ids)
                self.assertEqual(first.ids, leads.ids[:3])
                self.assertEqual(second.ids, leads.ids[3:])
        finally:
            with self.committed() as env:
                env["crm.lead"].browse(leads.ids).unlink()

    def test_two_transactions_never_exceed_a_capacity(self):
        """Both count one place left in their snapshots: the second to place a lead
        with the same salesperson fails to serialize, to be retried."""
        with self.committed() as env:
            team = env["crm.team"].create({"name": "Race team"})
            member = env["crm.team.member"].create(
                {
                    "crm_team_id": team.id,
                    "user_id": env.ref("base.user_admin").id,
                    "assignment_max": 1,
                }
            )
            rule = env["crm.assignment.rule"].create(
                {"name": "Race", "team_id": team.id, "distribution": "weighted"}
            )
            leads = env["crm.lead"].create(
                [{"name": f"Race {i}", "user_id": False} for i in range(2)]
            )
        try:
            with self.two_workers() as (env1, env2):
                # Both transactions have begun before either places a lead.
                env1.cr.execute("SELECT 1")
                env2.cr.execute("SELECT 1")
                Rule1, Rule2 = env1["crm.assignment.rule"], env2["crm.assignment.rule"]
                Rule1._assign_leads(leads[0].with_env(env1), rule.with_env(env1))
                env1.cr.commit()
                with (
                    self.assertRaises(psycopg2.errors.SerializationFailure),
                    mute_logger("odoo.sql_db"),
                ):
                    Rule2._assign_leads(leads[1].with_env(env2), rule.with_env(env2))
                    env2.flush_all()
                env2.cr.rollback()
                # Retried, it finds the salesperson full.
                left = Rule2._assign_leads(leads[1].with_env(env2), rule.with_env(env2))
                self.assertEqual(left.ids, [leads[1].id])
        finally:
            # Through the ORM: a team owns a mail alias to remove with it.
            with self.committed() as env:
                env["crm.lead"].browse(leads.ids).unlink()
                env["crm.assignment.rule"].browse(rule.id).unlink()
                env["crm.team.member"].browse(member.id).unlink()
                env["crm.team"].browse(team.id).unlink()

    def test_backlog_chunk_meeting_a_conflict_is_retried_whole(self):
        """The cron's chunk places a lead with a salesperson another transaction
        just placed one with: the chunk is undone and comes back, no error."""
        with self.committed() as env:
            source = env["utm.source"].create({"name": "Conflict source"})
            team = env["crm.team"].create({"name": "Conflict team"})
            member = env["crm.team.member"].create(
                {
                    "crm_team_id": team.id,
                    "user_id": env.ref("base.user_admin").id,
                    "assignment_max": 5,
                }
            )
            rule = env["crm.assignment.rule"].create(
                {
                    "name": "Conflict",
                    "sequence": 0,
                    "team_id": team.id,
                    "source_ids": [Command.set(source.ids)],
                }
            )
            lead = env["crm.lead"].create(
                {"name": "Conflict", "user_id": False, "source_id": source.id}
            )
        try:
            with self.two_workers() as (env1, env2):
                batch = env2["crm.batch"].search([("code", "=", "assign_backlog")])
                cursor = batch.cursor
                triggers = env2["ir.cron.trigger"].search_count(
                    [("cron_id", "=", batch.cron_id.id)]
                )
                # Another transaction places a lead with the same salesperson.
                env1.cr.execute(
                    "UPDATE crm_team_member SET write_date = write_date WHERE id = %s",
                    [member.id],
                )
                env1.cr.commit()
                with mute_logger("odoo.sql_db"):
                    self.assertEqual(batch._run_chunk(), (0, 0))
                self.assertFalse(lead.with_env(env2).user_id)
                self.assertEqual(batch.cursor, cursor)
                self.assertEqual(
                    env2["ir.cron.trigger"].search_count(
                        [("cron_id", "=", batch.cron_id.id)]
                    ),
                    triggers + 1,
                )
        finally:
            # Through the ORM: a team owns a mail alias to remove with it.
            with self.committed() as env:
                env["crm.lead"].browse(lead.id).unlink()
                env["crm.assignment.rule"].browse(rule.id).unlink()
                env["crm.team.member"].browse(member.id).unlink()
                env["crm.team"].browse(team.id).unlink()
                env["utm.source"].browse(source.id).unlink()
