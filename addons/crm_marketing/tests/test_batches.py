from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.crm_core.tests.batch_common import BatchCronChecks, BatchQueueChecks

from .common import CrmMarketingCommon

# Event types whose source is a mailing trace, and how a trace shows each.
TRACE_EVENTS = {
    "opened": "set_opened",
    "replied": "set_replied",
    "bounced": "set_bounced",
}


class MarketingBatchRows:
    """Rows for crm_marketing's batches: segments to refresh, event types to
    collect, contacts and leads whose score decays, journey steps due."""

    BATCHES = {
        "refresh_segments": "_segment_rows",
        "collect_events": "_collect_rows",
        "recompute_contact_scores": "_contact_score_rows",
        "recompute_lead_scores": "_lead_score_rows",
        "process_journeys": "_journey_rows",
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Event = cls.env["crm.marketing.engagement.event"]
        # Routing qualified leads is not what these tests are about.
        cls.env["ir.config_parameter"].set_param("crm_marketing.mql_route", False)

    # refresh_segments: segments whose audience is two tagged contacts.

    def _segment_rows(self, count):
        tag = self.env["res.partner.category"].create({"name": "Batch audience"})
        self.env["res.partner"].create(
            [
                {"name": f"Audience {i}", "category_id": [Command.link(tag.id)]}
                for i in range(2)
            ]
        )
        return self.env["crm.marketing.segment"].create(
            [
                {
                    "name": f"Batch segment {i}",
                    "domain": repr([("category_id", "in", tag.ids)]),
                }
                for i in range(count)
            ]
        )

    def effect_refresh_segments(self, segments):
        return [
            (segment.member_count, sorted(segment.member_ids.partner_id.ids))
            for segment in segments
        ]

    # collect_events: event types, each with a mailing trace showing it.

    def _collect_rows(self, count):
        self.reader = self.env["res.partner"].create(
            {"name": "Reader", "email": "reader@batch.example.com"}
        )
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "Batch offer",
                "body_html": "<p>Hello</p>",
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
            }
        )
        rules = self.env["crm.marketing.engagement.rule"]
        for code in list(TRACE_EVENTS)[:count]:
            trace = self.env["mailing.trace"].create(
                {
                    "model": "res.partner",
                    "res_id": self.reader.id,
                    "mass_mailing_id": mailing.id,
                    "email": self.reader.email,
                    "trace_status": "sent",
                }
            )
            getattr(trace, TRACE_EVENTS[code])()
            rules |= self.env.ref(f"crm_marketing.engagement_rule_{code}")
        return rules

    def effect_collect_events(self, rules):
        return [
            self.Event.search_count(
                [("rule_id", "=", rule.id), ("partner_id", "=", self.reader.id)]
            )
            for rule in rules
        ]

    # recompute_contact_scores / recompute_lead_scores: records with events
    # recorded but not scored yet.

    def _unscored_events(self, records):
        yesterday = fields.Datetime.now() - timedelta(days=1)
        self.Event._record(
            [
                {
                    "model": record._name,
                    "res_id": record.id,
                    "event_type": "journey",
                    "date": yesterday,
                    "description": "took a step",
                    "points": 7,
                }
                for record in records
            ],
            recompute=False,
        )
        return records

    def _contact_score_rows(self, count):
        contacts = self.env["res.partner"].create(
            [{"name": f"Engaged {i}"} for i in range(count)]
        )
        return self._unscored_events(contacts)

    def effect_recompute_contact_scores(self, contacts):
        return [(c.crm_engagement_score, c.crm_engagement_reasons) for c in contacts]

    def _lead_score_rows(self, count):
        leads = (
            self.env["crm.lead"]
            .with_context(crm_skip_assignment=True)
            .create(
                [{"name": f"Engaged lead {i}", "user_id": False} for i in range(count)]
            )
        )
        return self._unscored_events(leads)

    def effect_recompute_lead_scores(self, leads):
        return [
            (lead.crm_engagement_score, lead.crm_engagement_reasons) for lead in leads
        ]

    # process_journeys: a running journey's first step, due now for each person.

    def _journey_rows(self, count):
        people = self.env["res.partner"].create(
            [{"name": f"Traveller {i}"} for i in range(count)]
        )
        journey = self.env["crm.marketing.journey"].create(
            {
                "name": "Batch journey",
                "domain": repr([("id", "in", people.ids)]),
                "consent_purpose_id": False,
                "state": "running",
            }
        )
        self.env["crm.marketing.journey.step"].create(
            {
                "journey_id": journey.id,
                "name": "Call them",
                "action_type": "activity",
                "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
            }
        )
        journey._enrol()
        return self.env["crm.marketing.journey.activity"].search(
            [("journey_id", "=", journey.id)]
        )

    def effect_process_journeys(self, activities):
        return [(activity.state, activity.result) for activity in activities]


@tagged("post_install", "-at_install")
class TestMarketingBatches(MarketingBatchRows, BatchCronChecks, CrmMarketingCommon):
    def test_batches_are_declared_with_their_cron(self):
        for code in self.BATCHES:
            with self.subTest(batch=code):
                batch = self.env.ref(f"crm_marketing.batch_{code}")
                self.assertEqual(batch.code, code)
                self.assertIn("._cron_", batch.cron_id.code)

    def test_a_broken_segment_is_reported_once(self):
        segment = self._segment_rows(1)
        self.env.flush_all()
        # A filter that went bad after it was saved (a field was removed).
        self.env.execute_query(
            SQL(
                "UPDATE crm_marketing_segment SET domain = %s WHERE id = %s",
                "[('no_such_field', '=', 1)]",
                segment.id,
            )
        )
        segment.invalidate_recordset()
        batch = self._batch("refresh_segments")
        with mute_logger("odoo.addons.crm_marketing.models.crm_marketing_segment"):
            batch._run_job_chunk(segment.ids)
            messages = segment.message_ids
            self.assertIn("could not be refreshed", messages[0].body)
            self.assertTrue(segment.refresh_error)
            # The next runs fail the same way: nothing more is posted.
            batch._run_job_chunk(segment.ids)
            self.env["crm.marketing.segment"]._cron_refresh_segments()
        segment.invalidate_recordset()
        self.assertEqual(segment.message_ids, messages)
        # Fixed, it refreshes and forgets the failure.
        segment.domain = "[]"
        batch._run_job_chunk(segment.ids)
        self.assertFalse(segment.refresh_error)
        self.assertTrue(segment.member_count)

    def test_each_event_type_keeps_its_own_watermark(self):
        opened, replied = self._collect_rows(2)
        replied_mark = replied.date_collected
        self.env["crm.marketing.engagement.collector"]._collect(rules=opened)
        self.assertEqual(self.effect_collect_events(opened | replied), [1, 0])
        self.assertTrue(opened.date_collected)
        self.assertEqual(replied.date_collected, replied_mark)
        # An archived type is not recorded, its watermark moves on all the same.
        replied.active = False
        self._batch("collect_events")._run_job_chunk((opened | replied).ids)
        self.assertEqual(self.effect_collect_events(opened | replied), [1, 0])
        self.assertTrue(replied.date_collected)
        self.assertNotEqual(replied.date_collected, replied_mark)

    def test_crons_run_a_chunk_of_the_configured_size(self):
        contacts = self._contact_score_rows(3)
        batch = self.env.ref("crm_marketing.batch_recompute_contact_scores")
        batch.chunk_size = 2
        total = batch._todo_count()
        self.assertGreaterEqual(total, 3)
        # A chunk per call, until the run is through (the cursor back at 0).
        calls, done = 1, self.Event._cron_recompute_scores()
        self.assertEqual(done, 2)
        while batch.cursor:
            calls += 1
            done += self.Event._cron_recompute_scores()
        self.assertEqual((done, calls), (total, -(-total // 2)))
        self.assertEqual(
            [
                score
                for score, _reasons in self.effect_recompute_contact_scores(contacts)
            ],
            [6.8] * 3,
        )


@tagged("-standard", "crm_queue_job", "post_install", "-at_install")
class TestMarketingBatchesQueued(
    MarketingBatchRows, BatchQueueChecks, CrmMarketingCommon
):
    pass
