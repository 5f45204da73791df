from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import CrmMarketingCommon


class EngagementCase(CrmMarketingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Event = cls.env["crm.marketing.engagement.event"]
        cls.rule_clicked = cls.env.ref("crm_marketing.engagement_rule_clicked")
        cls.rule_opened = cls.env.ref("crm_marketing.engagement_rule_opened")
        cls.env["ir.config_parameter"].set_param("crm_marketing.mql_route", False)

    @classmethod
    def _lead(cls, name, **vals):
        return (
            cls.env["crm.lead"]
            .with_context(crm_skip_assignment=True)
            .create({"name": name, "type": "lead", "user_id": False, **vals})
        )

    def _decay(self):
        """What the two daily crons do: let the contacts' then the leads' scores
        decay (each in one chunk while the data fits)."""
        self.Event._cron_recompute_scores()
        self.Event._cron_recompute_lead_scores()

    @staticmethod
    def _event(record, event_type, date, description="did something", **extra):
        return {
            "model": record._name,
            "res_id": record.id,
            "event_type": event_type,
            "date": date,
            "description": description,
            **extra,
        }


@tagged("post_install", "-at_install")
class TestEngagementScoring(EngagementCase):
    @freeze_time("2025-03-01 12:00:00")
    def test_decay_against_hand_computed_scores(self):
        # Two types fading at different speeds.
        self.rule_clicked.write({"points": 8, "half_life_days": 10})
        self.rule_opened.write({"points": 4, "half_life_days": 5})
        now = fields.Datetime.now()
        self.Event._record(
            [
                self._event(self.contact_1, "clicked", now - timedelta(days=10)),
                self._event(self.contact_1, "opened", now - timedelta(days=5)),
            ]
        )
        # 8 halved once (4) + 4 halved once (2).
        self.assertEqual(self.contact_1.crm_engagement_score, 6.0)
        self.assertEqual(self.contact_1.crm_engagement_band, "cold")
        self.assertEqual(
            self.contact_1.crm_engagement_date, datetime(2025, 3, 1, 12, 0)
        )
        with freeze_time("2025-03-11 12:00:00"):
            self._decay()
        # Ten days on: 8 halved twice (2) + 4 halved three times (0.5).
        self.assertEqual(self.contact_1.crm_engagement_score, 2.5)
        # Archiving a type takes its events out of the scores.
        self.rule_clicked.active = False
        with freeze_time("2025-03-11 12:00:00"):
            self._decay()
        self.assertEqual(self.contact_1.crm_engagement_score, 0.5)

    @freeze_time("2025-03-01 12:00:00")
    def test_bands_follow_the_thresholds(self):
        now = fields.Datetime.now()
        self.Event._record(
            [
                self._event(self.contact_1, "journey", now, points=25),
                self._event(self.contact_2, "journey", now, points=60),
            ]
        )
        self.assertEqual(self.contact_1.crm_engagement_score, 25)
        self.assertEqual(self.contact_1.crm_engagement_band, "warm")
        self.assertEqual(self.contact_2.crm_engagement_band, "hot")
        self.env["ir.config_parameter"].set_param("crm_marketing.engagement_warm", 30)
        self.Event._recompute_scores(self.contact_1 | self.contact_2)
        self.assertEqual(self.contact_1.crm_engagement_band, "cold")
        partners = self.env["res.partner"].search(
            [("id", "in", (self.contact_1 | self.contact_2).ids)]
            + [("crm_engagement_band", "=", "hot")]
        )
        self.assertEqual(partners, self.contact_2)

    @freeze_time("2025-03-01 12:00:00")
    def test_reasons_name_the_top_three_contributions_in_words(self):
        now = fields.Datetime.now()
        self.Event._record(
            [
                self._event(
                    self.contact_1,
                    "clicked",
                    now - timedelta(days=3),
                    "clicked the “pricing” link in “Spring offer”",
                ),
                self._event(
                    self.contact_1,
                    "opened",
                    now - timedelta(days=1),
                    "opened “Spring offer”",
                ),
                self._event(
                    self.contact_1,
                    "bounced",
                    now,
                    "the email “Autumn offer” bounced",
                ),
                self._event(
                    self.contact_1,
                    "email_in",
                    now - timedelta(days=40),
                    "wrote “Question”",
                ),
            ]
        )
        # clicked 8 * 0.5^(3/21) = 7.25; bounced -10; wrote 10 * 0.5^(40/30) = 3.97;
        # opened 3 * 0.5^(1/14) = 2.86 is the smallest and left out.
        self.assertEqual(
            self.contact_1.crm_engagement_reasons.splitlines(),
            [
                "the email “Autumn offer” bounced today (-10.0)",
                "clicked the “pricing” link in “Spring offer” 3 days ago (+7.2)",
                "wrote “Question” 40 days ago (+4.0)",
            ],
        )
        self.assertAlmostEqual(
            self.contact_1.crm_engagement_score,
            8 * 0.5 ** (3 / 21) - 10 + 10 * 0.5 ** (40 / 30) + 3 * 0.5 ** (1 / 14),
            delta=0.05,
        )
        self.Event._record(
            [
                self._event(
                    self.contact_2, "opened", now - timedelta(days=1), "opened “X”"
                )
            ]
        )
        self.assertEqual(
            self.contact_2.crm_engagement_reasons, "opened “X” yesterday (+2.9)"
        )

    @freeze_time("2025-03-01 12:00:00")
    def test_a_lead_counts_its_own_and_its_contacts_events(self):
        lead = self._lead("Acme renewal", partner_id=self.contact_1.id)
        other_lead = self._lead("Acme extension", partner_id=self.contact_1.id)
        now = fields.Datetime.now()
        self.Event._record(
            [
                self._event(self.contact_1, "journey", now, points=10),
                self._event(lead, "journey", now, points=5),
                self._event(other_lead, "journey", now, points=20),
            ]
        )
        self.assertEqual(lead.crm_engagement_score, 15)
        self.assertEqual(other_lead.crm_engagement_score, 30)
        # The contact's score counts everything they did, on their leads too.
        self.assertEqual(self.contact_1.crm_engagement_score, 35)
        events = self.Event.search([("lead_id", "=", lead.id)])
        self.assertEqual(events.partner_id, self.contact_1)
        self.assertEqual(events.points, 5)

    @freeze_time("2025-03-01 12:00:00")
    def test_recording_twice_and_awkward_input_are_harmless(self):
        now = fields.Datetime.now()
        event = self._event(
            self.contact_1, "journey", now, points=12, source_ref="journey,1,step,2"
        )
        first = self.Event._record([event, dict(event)])
        again = self.Event._record([event])
        self.assertEqual(len(first), 1)
        self.assertFalse(again)
        self.assertEqual(self.contact_1.crm_engagement_score, 12)
        # Explicit points win over the rule's; a date in 2099 is recorded as now.
        future = self.Event._record(
            [self._event(self.contact_2, "journey", datetime(2099, 1, 1), points=7)]
        )
        self.assertEqual(future.date, now)
        self.assertEqual(self.contact_2.crm_engagement_score, 7)
        # Without points, the rule's.
        self.Event._record([self._event(self.customer, "journey", now)])
        self.assertEqual(self.customer.crm_engagement_score, 5)
        with self.assertRaisesRegex(UserError, "No engagement rule has the code"):
            self.Event._record([self._event(self.contact_1, "Settings", now)])
        with self.assertRaisesRegex(UserError, "contacts and leads only"):
            self.Event._record(
                [dict(self._event(self.contact_1, "journey", now), model="res.users")]
            )

    @freeze_time("2025-03-01 12:00:00")
    def test_people_who_restricted_processing_are_not_scored(self):
        now = fields.Datetime.now()
        lead = self._lead("Bob's project", partner_id=self.contact_2.id)
        self.Event._record([self._event(self.contact_2, "journey", now, points=30)])
        self.assertEqual(lead.crm_engagement_score, 30)
        self.contact_2.sudo().privacy_restricted = True
        recorded = self.Event._record(
            [self._event(self.contact_2, "journey", now, points=30)]
        )
        self.assertFalse(recorded)
        self._decay()
        self.assertEqual(self.contact_2.crm_engagement_score, 0)
        self.assertFalse(self.contact_2.crm_engagement_reasons)
        self.assertEqual(lead.crm_engagement_score, 0)

    def test_erasure_deletes_the_events_and_the_score(self):
        now = fields.Datetime.now()
        self.Event._record([self._event(self.contact_2, "journey", now, points=30)])
        self.assertEqual(self.contact_2.crm_engagement_score, 30)
        self.env["crm.privacy.engine"]._erase(self.contact_2)
        self.assertFalse(self.Event.search([("partner_id", "=", self.contact_2.id)]))
        self.assertEqual(self.contact_2.crm_engagement_score, 0)
        self.assertFalse(self.contact_2.crm_engagement_reasons)


@tagged("post_install", "-at_install")
class TestMarketingQualification(EngagementCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("crm_marketing.mql_threshold", 30)
        cls.assignment_rule = cls.env["crm.assignment.rule"].create(
            {
                "name": "Engaged leads",
                "team_id": cls.team_a.id,
                "distribution": "round_robin",
            }
        )

    @freeze_time("2025-03-01 12:00:00")
    def test_threshold_qualifies_and_routes_unassigned_leads(self):
        self.env["ir.config_parameter"].set_param("crm_marketing.mql_route", True)
        unowned = self._lead("Web enquiry")
        owned = self._lead("Known prospect", user_id=self.salesman_b.id)
        won = self._lead("Signed", probability=100)
        now = fields.Datetime.now()
        leads = unowned | owned | won
        self.Event._record([self._event(lead, "web_form", now) for lead in leads])
        # 20 points: below the threshold of 30.
        self.assertEqual(unowned.crm_engagement_score, 20)
        self.assertFalse(unowned.crm_mql)
        self.assertFalse(unowned.user_id)
        self.Event._record([self._event(lead, "replied", now) for lead in leads])
        self.assertEqual(unowned.crm_engagement_score, 35)
        self.assertTrue(unowned.crm_mql)
        self.assertEqual(unowned.crm_mql_date, now)
        self.assertIn(unowned.user_id, self.salesman_a | self.salesman_a2)
        self.assertEqual(unowned.team_id, self.team_a)
        self.assertEqual(unowned.assignment_rule_id, self.assignment_rule)
        # An owned lead qualifies and stays with its owner; a won one is past it.
        self.assertTrue(owned.crm_mql)
        self.assertEqual(owned.user_id, self.salesman_b)
        self.assertFalse(won.crm_mql)
        # Qualification stays when the score fades.
        with freeze_time("2025-09-01 12:00:00"):
            self._decay()
        self.assertLess(unowned.crm_engagement_score, 30)
        self.assertTrue(unowned.crm_mql)
        self.assertEqual(unowned.crm_mql_date, now)
        qualified = self.env["crm.lead"].search(
            [("id", "in", leads.ids), ("crm_mql", "=", True)]
        )
        self.assertEqual(qualified, unowned | owned)

    @freeze_time("2025-03-01 12:00:00")
    def test_without_routing_qualified_leads_wait_unassigned(self):
        lead = self._lead("Web enquiry")
        self.Event._record(
            [self._event(lead, "journey", fields.Datetime.now(), points=31)]
        )
        self.assertTrue(lead.crm_mql)
        self.assertFalse(lead.user_id)
        self.assertFalse(lead.assignment_rule_id)

    def test_recompute_queries_do_not_grow_with_the_batch(self):
        self.env["ir.config_parameter"].set_param("crm_marketing.mql_threshold", 1000)
        partners = self.env["res.partner"].create(
            [{"name": f"Prospect {i}", "email": f"p{i}@example.com"} for i in range(60)]
        )
        leads = (
            self.env["crm.lead"]
            .with_context(crm_skip_assignment=True)
            .create(
                [
                    {"name": f"Lead {i}", "partner_id": partner.id, "user_id": False}
                    for i, partner in enumerate(partners)
                ]
            )
        )
        now = fields.Datetime.now()
        events = []
        for lead in leads:
            events += [
                self._event(lead, "web_form", now - timedelta(days=2)),
                self._event(lead.partner_id, "opened", now - timedelta(days=1)),
                self._event(lead, "clicked", now),
            ]
        self.Event._record(events, recompute=False)
        self.Event._recompute_scores(leads[:2])  # warm the caches
        for batch in (leads[:5], leads[5:]):
            self.env.invalidate_all()
            with self.assertQueryCount(3):
                self.Event._recompute_scores(batch)
        expected = 20 * 0.5 ** (2 / 30) + 3 * 0.5 ** (1 / 14) + 8
        for lead in leads:
            self.assertAlmostEqual(lead.crm_engagement_score, expected, delta=0.06)
        self.assertEqual(set(leads.mapped("crm_engagement_band")), {"warm"})


@tagged("post_install", "-at_install")
class TestEngagementAccess(EngagementCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        now = fields.Datetime.now()
        cls.other_lead = cls._lead(
            "Other company's lead", company_id=cls.other_company.id
        )
        cls.event = cls.Event._record(
            [cls._event(cls.contact_1, "journey", now, "clicked", points=25)]
        )
        cls.other_event = cls.Event._record(
            [cls._event(cls.other_lead, "journey", now, "opened", points=5)]
        )
        cls.portal = new_test_user(cls.env, "portal_eng", groups="base.group_portal")

    def test_marketer_reads_scores_and_events_but_changes_nothing(self):
        contact = self.contact_1.with_user(self.marketer)
        self.assertEqual(contact.crm_engagement_score, 25)
        self.assertEqual(contact.crm_engagement_band, "warm")
        self.assertIn("clicked", contact.crm_engagement_reasons)
        events = self.Event.with_user(self.marketer).search([])
        self.assertIn(self.event, events)
        # Another company's events stay in that company.
        self.assertNotIn(self.other_event, events)
        event = self.event.with_user(self.marketer)
        with self.assertRaises(AccessError):
            event.write({"points": 100})
        with self.assertRaises(AccessError):
            event.unlink()
        with self.assertRaises(AccessError):
            self.Event.with_user(self.marketer).create(
                {
                    "rule_id": self.rule_clicked.id,
                    "model": "res.partner",
                    "res_id": self.contact_1.id,
                    "partner_id": self.contact_1.id,
                    "date": fields.Datetime.now(),
                    "description": "made up",
                }
            )
        with self.assertRaises(AccessError):
            self.rule_clicked.with_user(self.marketer).points = 50

    def test_manager_tunes_rules(self):
        rule = self.rule_clicked.with_user(self.marketing_manager)
        rule.write({"points": 12, "half_life_days": 7})
        self.assertEqual(self.rule_clicked.points, 12)
        with self.assertRaisesRegex(ValidationError, "half-life must be a positive"):
            rule.half_life_days = 0
        with self.assertRaisesRegex(ValidationError, "keep its code"):
            self.env.ref("crm_marketing.engagement_rule_journey").with_user(
                self.marketing_manager
            ).code = "step"

    def test_salesman_and_portal_are_refused(self):
        for user in (self.salesman_a, self.portal):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.rule_clicked.with_user(user).points = 50
                with self.assertRaises(AccessError):
                    self.Event.with_user(user).search([])
                with self.assertRaises(AccessError):
                    self.Event.with_user(user).create(
                        {
                            "rule_id": self.rule_clicked.id,
                            "model": "res.partner",
                            "res_id": self.contact_1.id,
                            "date": fields.Datetime.now(),
                            "description": "made up",
                        }
                    )
        self.assertEqual(self.rule_clicked.points, 8)
