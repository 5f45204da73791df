import logging
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase

from .test_journey_common import JourneyCommon

_logger = logging.getLogger(__name__)

T0 = datetime(2026, 3, 2, 9, 0)
TRIGGERS = (
    "opened",
    "not_opened",
    "clicked",
    "not_clicked",
    "replied",
    "not_replied",
    "bounced",
)


@tagged("post_install", "-at_install")
class TestJourney(JourneyCommon, MockEmail):
    # ------------------------------------------------------------
    # Building and running
    # ------------------------------------------------------------

    def test_marketer_builds_and_runs_email_wait_tag(self):
        journey = self._journey()
        welcome = self._step(journey, name="Welcome")
        wait = self._step(
            journey,
            name="Two days",
            action_type="wait",
            parent_id=welcome.id,
            delay_number=2,
        )
        tag = self._step(
            journey,
            name="Tag them",
            action_type="tag_add",
            parent_id=wait.id,
            partner_tag_id=self.tags[0].id,
        )
        # A real mailing of the journey's campaign, sent by the journey only.
        self.assertEqual(welcome.mailing_id.campaign_id, journey.campaign_id)
        self.assertEqual(welcome.mailing_id.mailing_model_real, "res.partner")
        self.assertFalse(welcome.mailing_id._get_recipients())
        self.assertEqual(journey.step_ids, welcome | wait | tag)
        self.assertEqual(journey.step_ids.mapped("depth"), [0, 1, 2])
        with freeze_time(T0):
            journey.action_start()
            with self.mock_mail_gateway():
                self._run()
        participants = self._participants(journey)
        self.assertEqual(participants.mapped("res_id"), self.people.ids)
        self.assertEqual(set(participants.mapped("state")), {"running"})
        self.assertEqual(len(self._traces(welcome)), 4)
        self.assertEqual(
            set(self._traces(welcome).mapped("email")), set(self.people.mapped("email"))
        )
        self.assertEqual(len(self._new_mails), 4)
        waits = self.Activity.search([("step_id", "=", wait.id)])
        self.assertEqual(set(waits.mapped("schedule_date")), {T0 + timedelta(days=2)})

        with freeze_time(T0 + timedelta(days=1, hours=23)):
            self._run()
        self.assertFalse(self._tagged(self.tags[0]), "the wait is not over")
        with freeze_time(T0 + timedelta(days=2, minutes=1)):
            self._run()
        self.assertEqual(self._tagged(self.tags[0]), self.people)
        self.assertEqual(set(participants.mapped("state")), {"completed"})
        self.assertEqual(set(participants.mapped("end_reason")), {"done"})
        done = self.Activity.search(
            [("journey_id", "=", journey.id), ("state", "=", "done")]
        )
        self.assertEqual(len(done), 12, "each step once per participant")
        # Nothing runs twice, and a once-journey takes nobody new.
        with freeze_time(T0 + timedelta(days=5)):
            self._run()
        self.assertEqual(len(self._traces(welcome)), 4)
        self.assertEqual(journey.with_user(self.marketer).participant_count, 4)

    def test_marketer_builds_through_the_forms(self):
        with Form(self.Journey.with_user(self.marketer)) as journey_form:
            journey_form.name = "Through the forms"
            journey_form.domain = repr([("id", "in", self.people.ids)])
        journey = journey_form.record
        Step = self.Step.with_user(self.marketer).with_context(
            default_journey_id=journey.id
        )
        with Form(Step) as step_form:
            step_form.name = "Welcome"
            step_form.action_type = "email"
        email = step_form.record
        with Form(Step) as step_form:
            step_form.name = "Clicked"
            step_form.parent_id = email
            step_form.trigger_type = "clicked"
            step_form.delay_number = 1
            step_form.action_type = "tag_add"
            step_form.partner_tag_id = self.tags[0]
        clicked = step_form.record
        self.assertEqual(email.mailing_id.subject, "Welcome")
        self.assertEqual(clicked.trigger_description, "Clicked within 1 day")
        self.assertEqual(journey.step_ids, email | clicked)
        for model in (
            "crm.marketing.journey",
            "crm.marketing.journey.step",
            "crm.marketing.journey.participant",
            "crm.marketing.journey.activity",
        ):
            views = (
                self.env[model]
                .with_user(self.marketer)
                .get_views([(False, "list"), (False, "form"), (False, "search")])
            )
            self.assertEqual(set(views["views"]), {"list", "form", "search"})

    def test_email_step_looks_up_only_its_batch_addresses(self):
        journey = self._journey(enrolment="scheduled")
        welcome = self._step(journey, name="Welcome")
        with freeze_time(T0):
            journey.action_start()
            with self.mock_mail_gateway():
                self._run()
        self.assertEqual(len(self._traces(welcome)), 4)
        # Odoo's seen list loads every address the mailing reached; a journey
        # batch looks up its own addresses only, in one query.
        mailing = welcome.mailing_id.sudo()
        known = self.people[0].email_normalized
        self.assertEqual(
            mailing._get_seen_list(), set(self.people.mapped("email_normalized"))
        )
        with self.assertQueryCount(1):
            seen = mailing.with_context(
                crm_journey_batch_emails=[known, "new@journey.example.com"]
            )._get_seen_list()
        self.assertEqual(seen, {known})
        # A newcomer sharing an address the step already mailed is not mailed
        # twice; another newcomer is.
        twin, newcomer = self.env["res.partner"].create(
            [
                {"name": "Twin", "email": known},
                {"name": "Newcomer", "email": "newcomer@journey.example.com"},
            ]
        )
        self._grant(twin | newcomer, self.purpose_email)
        journey.domain = repr([("id", "in", (self.people | twin | newcomer).ids)])
        Mailing = type(self.env["mailing.mailing"])
        odoo_seen_list, asked = Mailing._get_seen_list, []

        def seen_list(mailing):
            asked.append(mailing.env.context.get("crm_journey_batch_emails"))
            return odoo_seen_list(mailing)

        with (
            freeze_time(T0 + timedelta(days=2)),
            patch.object(Mailing, "_get_seen_list", seen_list),
            self.mock_mail_gateway(),
        ):
            self._run()
        self.assertEqual(asked, [sorted([known, "newcomer@journey.example.com"])])
        self.assertEqual(self._traces(welcome, twin).trace_status, "cancel")
        self.assertEqual(self._traces(welcome, twin).failure_type, "mail_dup")
        self.assertEqual(self._traces(welcome, newcomer).trace_status, "outgoing")

    def test_first_steps_are_added_before_the_journey_is_saved(self):
        with Form(self.Journey.with_user(self.marketer)) as journey_form:
            journey_form.name = "Steps before saving"
            journey_form.domain = repr([("id", "in", self.people.ids)])
            with journey_form.step_ids.new() as step_form:
                step_form.name = "Welcome"
                step_form.action_type = "email"
            with journey_form.step_ids.new() as step_form:
                step_form.name = "Tag newcomers"
                step_form.delay_number = 2
                step_form.action_type = "tag_add"
                step_form.partner_tag_id = self.tags[0]
        journey = journey_form.record
        welcome, tag = journey.step_ids.sorted("id")
        self.assertEqual(welcome.mailing_id.subject, "Welcome")
        self.assertEqual(tag.trigger_description, "2 days after entering the journey")

    def test_start_needs_ready_steps(self):
        journey = self._journey()
        with self.assertRaisesRegex(UserError, "has no step yet"):
            journey.action_start()
        step = self.Step.with_user(self.marketer).create(
            {"journey_id": journey.id, "name": "Empty email"}
        )
        with self.assertRaisesRegex(UserError, "not ready"):
            journey.action_start()
        step.mailing_id.body_arch = "<p>Now with content</p>"
        journey.action_start()
        self.assertEqual(journey.state, "running")

    def test_duplicate_keeps_the_tree_with_its_own_mailings(self):
        journey = self._journey()
        email = self._step(journey, name="Welcome")
        wait = self._step(
            journey, action_type="wait", parent_id=email.id, delay_number=2
        )
        self._step(
            journey,
            action_type="tag_add",
            parent_id=wait.id,
            partner_tag_id=self.tags[0].id,
        )
        copy = journey.copy()
        new_email, new_wait, new_tag = copy.step_ids
        self.assertEqual(copy.name, "Welcome (copy)")
        self.assertEqual(copy.step_ids.mapped("depth"), [0, 1, 2])
        self.assertEqual((new_wait.parent_id, new_tag.parent_id), (new_email, new_wait))
        self.assertEqual(new_tag.partner_tag_id, self.tags[0])
        self.assertNotEqual(copy.campaign_id, journey.campaign_id)
        self.assertNotEqual(new_email.mailing_id, email.mailing_id)
        self.assertEqual(new_email.mailing_id.campaign_id, copy.campaign_id)
        self.assertIn("Hello from the journey", new_email.mailing_id.body_arch)
        self.assertEqual(len(journey.step_ids), 3, "the original keeps its steps")

    def test_delays_in_each_unit(self):
        journey = self._journey(domain=repr([("id", "=", self.people[0].id)]))
        for number, unit in ((30, "minutes"), (5, "hours"), (3, "days"), (2, "weeks")):
            self._step(
                journey,
                name=unit,
                action_type="wait",
                delay_number=number,
                delay_unit=unit,
            )
        with freeze_time(T0):
            journey.action_start()
            self._run()
        dates = self.Activity.search([("journey_id", "=", journey.id)]).mapped(
            "schedule_date"
        )
        self.assertEqual(
            sorted(dates),
            [
                T0 + timedelta(minutes=30),
                T0 + timedelta(hours=5),
                T0 + timedelta(days=3),
                T0 + timedelta(weeks=2),
            ],
        )

    # ------------------------------------------------------------
    # Rights
    # ------------------------------------------------------------

    def test_salesman_and_portal_user_are_refused(self):
        journey = self._journey()
        self._step(journey, name="Hello")
        portal = new_test_user(self.env, "journey_portal", groups="base.group_portal")
        for user in (self.salesman_a, portal):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.Journey.with_user(user).create({"name": "Mine"})
                with self.assertRaises(AccessError):
                    journey.with_user(user).read(["name"])
                with self.assertRaises(AccessError):
                    self.Participant.with_user(user).search([])
                with self.assertRaises(AccessError):
                    self.env["crm.marketing.journey.test"].with_user(user).create(
                        {
                            "journey_id": journey.id,
                            "record_ref": f"res.partner,{self.people[0].id}",
                        }
                    )
        self.assertFalse(self.Participant.search([("journey_id", "=", journey.id)]))

    def test_lead_journeys_need_access_to_leads(self):
        with self.assertRaisesRegex(AccessError, "no access"):
            self._journey(target_model="crm.lead", domain="[]")
        journey = self._journey(
            user=self.sales_marketer, target_model="crm.lead", domain="[]"
        )
        self.assertEqual(journey.target_model, "crm.lead")
        with self.assertRaisesRegex(AccessError, "no access"):
            self._journey().write({"target_model": "crm.lead"})

    def test_journeys_stay_in_their_company(self):
        theirs = self.Journey.with_company(self.other_company).create(
            {"name": "Elsewhere", "company_id": self.other_company.id}
        )
        ours = self._journey()
        found = self.Journey.with_user(self.marketer).search(
            [("id", "in", (ours | theirs).ids)]
        )
        self.assertEqual(found, ours)

    # ------------------------------------------------------------
    # Step types
    # ------------------------------------------------------------

    def test_step_types_on_contacts(self):
        people = self.people[:2]
        people.category_id = self.tags[1]
        journey = self._journey(domain=repr([("id", "in", people.ids)]))
        todo = self.env.ref("mail.mail_activity_data_todo")
        function = self.env["ir.model.fields"]._get("res.partner", "function")
        self._step(journey, action_type="tag_add", partner_tag_id=self.tags[0].id)
        self._step(journey, action_type="tag_remove", partner_tag_id=self.tags[1].id)
        self._step(journey, action_type="engagement", points=15)
        self._step(
            journey,
            action_type="activity",
            activity_type_id=todo.id,
            activity_summary="Call them about the offer",
            activity_days=3,
        )
        self._step(
            journey, action_type="write", field_id=function.id, field_value="Buyer"
        )
        with freeze_time(T0):
            journey.action_start()
            self._run()
        self.assertEqual(self._tagged(self.tags[0]), people)
        self.assertFalse(self._tagged(self.tags[1]))
        self.assertEqual(people.mapped("function"), ["Buyer", "Buyer"])
        for person in people:
            self.assertAlmostEqual(person.crm_engagement_score, 15, delta=0.1)
        events = self.env["crm.marketing.engagement.event"].search(
            [("res_id", "in", people.ids), ("event_type", "=", "journey")]
        )
        self.assertEqual(len(events), 2)
        activities = self.env["mail.activity"].search(
            [("res_model", "=", "res.partner"), ("res_id", "in", people.ids)]
        )
        self.assertEqual(len(activities), 2)
        self.assertEqual(
            set(activities.mapped("summary")), {"Call them about the offer"}
        )
        # Nobody sells to them yet: the journey's responsible gets the call.
        self.assertEqual(activities.user_id, self.marketer)
        self.assertEqual(
            set(activities.mapped("date_deadline")), {(T0 + timedelta(days=3)).date()}
        )
        self.assertEqual(
            set(self._participants(journey).mapped("state")), {"completed"}
        )

    def test_step_types_on_leads(self):
        self.env["crm.assignment.rule"].search([]).active = False
        rule = self.env["crm.assignment.rule"].create(
            {
                "name": "Nurtured leads",
                "team_id": self.team_a.id,
                "member_ids": [Command.set(self.salesman_a2.ids)],
            }
        )
        qualified = self.env["crm.stage"].create({"name": "Qualified", "sequence": 5})
        nurtured = self.env["crm.tag"].create({"name": "Nurtured"})
        owned, unowned = (
            self.env["crm.lead"]
            .with_context(crm_skip_assignment=True)
            .create(
                [
                    {
                        "name": "Owned",
                        "user_id": self.salesman_a.id,
                        "stage_id": self.stage_new.id,
                    },
                    {
                        "name": "Unowned",
                        "user_id": False,
                        "stage_id": self.stage_new.id,
                    },
                ]
            )
        )
        leads = owned | unowned
        journey = self._journey(
            user=self.sales_marketer,
            target_model="crm.lead",
            domain=repr([("id", "in", leads.ids)]),
            # Routing leads contacts nobody: no consent to ask.
            consent_purpose_id=False,
        )
        priority = self.env["ir.model.fields"]._get("crm.lead", "priority")
        todo = self.env.ref("mail.mail_activity_data_todo")
        self._step(journey, action_type="tag_add", lead_tag_id=nurtured.id)
        self._step(journey, action_type="lead_stage", stage_id=qualified.id)
        self._step(journey, action_type="write", field_id=priority.id, field_value="2")
        assign = self._step(journey, action_type="lead_assign")
        self._step(
            journey,
            action_type="activity",
            parent_id=assign.id,
            activity_type_id=todo.id,
            activity_summary="Follow up",
        )
        with freeze_time(T0):
            journey.action_start()
            self._run()
        self.assertEqual(leads.tag_ids, nurtured)
        self.assertEqual(leads.stage_id, qualified)
        self.assertEqual(leads.mapped("priority"), ["2", "2"])
        self.assertEqual(owned.user_id, self.salesman_a, "an owner is kept")
        self.assertEqual(unowned.user_id, self.salesman_a2)
        self.assertEqual(unowned.assignment_rule_id, rule)
        results = self.Activity.search([("step_id", "=", assign.id)]).mapped("result")
        self.assertIn(f"Already assigned to {self.salesman_a.name}.", results)
        activities = self.env["mail.activity"].search(
            [("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)]
        )
        # The salesperson of each lead gets the follow-up.
        self.assertEqual(
            {(a.res_id, a.user_id) for a in activities},
            {(owned.id, self.salesman_a), (unowned.id, self.salesman_a2)},
        )

    def test_write_step_only_writes_plain_fields(self):
        journey = self._journey()
        Fields = self.env["ir.model.fields"]
        for name in (
            "user_id",
            "category_id",
            "create_uid",
            "active",
            "company_id",
            "privacy_restricted",
            "crm_engagement_score",
        ):
            field = Fields._get("res.partner", name)
            with (
                self.subTest(field=name),
                self.assertRaisesRegex(ValidationError, "cannot be written"),
                self.cr.savepoint(),
            ):
                self._step(
                    journey, action_type="write", field_id=field.id, field_value="1"
                )
        color = Fields._get("res.partner", "color")
        with self.assertRaisesRegex(ValidationError, "not a valid value"):
            self._step(journey, action_type="write", field_id=color.id, field_value="x")
        step = self._step(
            journey, action_type="write", field_id=color.id, field_value="4"
        )
        self.assertEqual(step._field_typed_value(), 4)

    def test_steps_refuse_what_their_target_cannot_do(self):
        journey = self._journey()
        stage = self.stage_new
        with self.assertRaisesRegex(ValidationError, "does not apply to Contacts"):
            self._step(journey, action_type="lead_stage", stage_id=stage.id)
        wait = self._step(journey, action_type="wait", delay_number=1)
        with self.assertRaisesRegex(ValidationError, "needs a previous step"):
            self._step(
                journey,
                action_type="wait",
                parent_id=wait.id,
                trigger_type="opened",
                delay_number=1,
            )

    # ------------------------------------------------------------
    # Triggers
    # ------------------------------------------------------------

    def test_message_triggers(self):
        journey = self._journey()
        offer = self._step(journey, name="Offer")
        branch_tags = dict(zip(TRIGGERS, self.tags, strict=True))
        for trigger, tag in branch_tags.items():
            self._step(
                journey,
                name=trigger,
                parent_id=offer.id,
                trigger_type=trigger,
                delay_number=2,
                action_type="tag_add",
                partner_tag_id=tag.id,
            )
        opener, replier, silent, bouncer = self.people
        with freeze_time(T0):
            journey.action_start()
            self._run()
        traces = {trace.res_id: trace for trace in self._traces(offer)}
        self.assertEqual(len(traces), 4)
        with freeze_time(T0 + timedelta(hours=1)):
            traces[opener.id].set_opened()
            traces[opener.id].set_clicked()
            traces[replier.id].set_replied()
            traces[bouncer.id].set_bounced()
            self._run()
        # What happened fires at once, long before the deadline.
        self.assertEqual(self._tagged(branch_tags["opened"]), opener | replier)
        self.assertEqual(self._tagged(branch_tags["clicked"]), opener)
        self.assertEqual(self._tagged(branch_tags["replied"]), replier)
        self.assertEqual(self._tagged(branch_tags["bounced"]), bouncer)
        for trigger in ("not_opened", "not_clicked", "not_replied"):
            self.assertFalse(self._tagged(branch_tags[trigger]), trigger)
        # Opened after the deadline is not opened "within two days".
        with freeze_time(T0 + timedelta(days=2, minutes=1)):
            traces[silent.id].set_opened()
            self._run()
        self.assertEqual(self._tagged(branch_tags["not_opened"]), silent)
        self.assertEqual(self._tagged(branch_tags["not_clicked"]), replier | silent)
        self.assertEqual(self._tagged(branch_tags["not_replied"]), opener | silent)
        self.assertEqual(self._tagged(branch_tags["opened"]), opener | replier)
        self.assertEqual(self._tagged(branch_tags["bounced"]), bouncer)
        bounced_branches = self.Activity.search(
            [
                ("participant_id.res_id", "=", bouncer.id),
                ("journey_id", "=", journey.id),
                ("step_id.trigger_type", "in", ("not_opened", "not_clicked")),
            ]
        )
        self.assertEqual(set(bounced_branches.mapped("state")), {"skipped"})
        self.assertEqual(
            set(self._participants(journey).mapped("state")), {"completed"}
        )

    # ------------------------------------------------------------
    # What stops a participant
    # ------------------------------------------------------------

    def test_goal_lead_won_ends_the_journey(self):
        Lead = self.env["crm.lead"].with_context(crm_skip_assignment=True)
        winner, other = Lead.create(
            [
                {
                    "name": "Winner",
                    "partner_id": self.people[0].id,
                    "stage_id": self.stage_new.id,
                },
                {
                    "name": "Other",
                    "partner_id": self.people[1].id,
                    "stage_id": self.stage_new.id,
                },
            ]
        )
        journey = self._journey(
            user=self.sales_marketer,
            target_model="crm.lead",
            domain=repr([("id", "in", (winner | other).ids)]),
            goal_type="lead_won",
        )
        first = self._step(journey, name="First")
        wait = self._step(
            journey, action_type="wait", parent_id=first.id, delay_number=1
        )
        second = self._step(journey, name="Second", parent_id=wait.id)
        with freeze_time(T0):
            journey.action_start()
            self._run()
        self.assertEqual(len(self._traces(first)), 2)
        with freeze_time(T0 + timedelta(hours=12)):
            winner.action_set_won()
        with freeze_time(T0 + timedelta(days=1, minutes=1)):
            self._run()
        won = self._participants(journey, winner)
        self.assertEqual(
            (won.state, won.end_reason, won.goal_reached),
            ("completed", "goal", True),
        )
        self.assertEqual(self._traces(second).mapped("res_id"), other.ids)
        self.assertEqual(
            self.Activity.search(
                [("participant_id", "=", won.id), ("step_id", "=", wait.id)]
            ).state,
            "cancelled",
        )
        self.assertEqual(journey.goal_count, 1)
        self.assertEqual(first.goal_count, 1)

    def test_goal_invoice_posted_since_entry(self):
        buyer, earlier_buyer = self.people[:2]
        self._create_customer_invoice(
            earlier_buyer, 100, invoice_date=(T0 - timedelta(days=10)).date()
        )
        journey = self._journey(
            domain=repr([("id", "in", (buyer | earlier_buyer).ids)]),
            goal_type="invoice_posted",
        )
        self._step(journey, action_type="wait", delay_number=1)
        with freeze_time(T0):
            journey.action_start()
            self._run()
        self._create_customer_invoice(buyer, 250, invoice_date=T0.date())
        with freeze_time(T0 + timedelta(days=1, minutes=1)):
            self._run()
        self.assertEqual(
            self._participants(journey).mapped("end_reason"), ["goal", "done"]
        )

    def test_goal_custom_filter(self):
        journey = self._journey(
            goal_type="domain", goal_domain=repr([("function", "=", "CEO")])
        )
        self._step(journey, action_type="wait", delay_number=1)
        with freeze_time(T0):
            journey.action_start()
            self._run()
        self.people[2].function = "CEO"
        with freeze_time(T0 + timedelta(days=1, minutes=1)):
            self._run()
        reached = self._participants(journey).filtered("goal_reached")
        self.assertEqual(reached.mapped("res_id"), self.people[2].ids)

    def test_unsubscribe_and_withdrawal_stop_participants(self):
        unsubscriber, withdrawer, stayer = self.people[:3]
        journey = self._journey(domain=repr([("id", "in", self.people[:3].ids)]))
        first = self._step(journey, name="First")
        wait = self._step(
            journey, action_type="wait", parent_id=first.id, delay_number=1
        )
        second = self._step(journey, name="Second", parent_id=wait.id)
        with freeze_time(T0):
            journey.action_start()
            self._run()
        self.assertEqual(len(self._traces(first)), 3)
        with freeze_time(T0 + timedelta(hours=1)):
            self.env["mail.blacklist"]._add(unsubscriber.email)
            self.env["crm.consent"].create(
                {
                    "partner_id": withdrawer.id,
                    "purpose_id": self.purpose_email.id,
                    "state": "withdrawn",
                    "source": "email",
                }
            )
        with freeze_time(T0 + timedelta(days=1, minutes=1)):
            self._run()
        participants = {p.res_id: p for p in self._participants(journey)}
        self.assertEqual(
            (
                participants[unsubscriber.id].state,
                participants[unsubscriber.id].end_reason,
            ),
            ("stopped", "unsubscribed"),
        )
        self.assertEqual(
            (participants[withdrawer.id].state, participants[withdrawer.id].end_reason),
            ("stopped", "consent"),
        )
        self.assertEqual(participants[stayer.id].end_reason, "done")
        self.assertEqual(self._traces(second).mapped("res_id"), stayer.ids)
        cancelled = self.Activity.search(
            [("step_id", "=", wait.id), ("state", "=", "cancelled")]
        )
        self.assertEqual(
            set(cancelled.participant_id.mapped("res_id")),
            {unsubscriber.id, withdrawer.id},
        )
        # The journey's mailings go through the consent gate too.
        self.assertEqual(second.mailing_id.crm_consent_purpose_id, self.purpose_email)
        second.mailing_id.action_send_mail(withdrawer.ids)
        self.assertEqual(
            self._traces(second, withdrawer).mapped("failure_type"), ["crm_consent"]
        )

    def test_people_without_consent_never_enter(self):
        stranger = self.env["res.partner"].create(
            {"name": "Stranger", "email": "stranger@journey.example.com"}
        )
        journey = self._journey(
            domain=repr([("id", "in", (self.people[:1] | stranger).ids)])
        )
        self._step(journey, action_type="wait", delay_number=1)
        with freeze_time(T0):
            journey.action_start()
            self._run()
        self.assertEqual(
            self._participants(journey).mapped("res_id"), self.people[:1].ids
        )
        self.assertTrue(
            journey.message_ids.filtered(lambda m: "1 left out" in m.body),
            "the marketer is told who was left out",
        )

    def test_stopping_the_journey_stops_everyone(self):
        journey = self._journey()
        wait = self._step(journey, action_type="wait", delay_number=3)
        self._step(
            journey,
            action_type="tag_add",
            parent_id=wait.id,
            partner_tag_id=self.tags[0].id,
        )
        with freeze_time(T0):
            journey.action_start()
            self._run()
        journey.with_user(self.marketer).action_stop()
        participants = self._participants(journey)
        self.assertEqual(set(participants.mapped("end_reason")), {"journey_stopped"})
        with freeze_time(T0 + timedelta(days=4)):
            self._run()
        self.assertFalse(self._tagged(self.tags[0]))
        self.assertEqual(
            set(
                self.Activity.search([("journey_id", "=", journey.id)]).mapped("state")
            ),
            {"cancelled"},
        )

    # ------------------------------------------------------------
    # Enrolment
    # ------------------------------------------------------------

    def test_scheduled_journeys_take_newcomers_once(self):
        domain = repr([("email", "=ilike", "%@journey.example.com")])
        scheduled = self._journey(
            name="Newcomers", domain=domain, enrolment="scheduled"
        )
        once = self._journey(name="Once", domain=domain)
        for journey in scheduled | once:
            self._step(journey, action_type="wait", delay_number=5)
        with freeze_time(T0):
            (scheduled | once).action_start()
            self._run()
        self.assertEqual(len(self._participants(scheduled)), 4)
        newcomer = self.env["res.partner"].create(
            {"name": "Newcomer", "email": "newcomer@journey.example.com"}
        )
        self._grant(newcomer, self.purpose_email)
        with freeze_time(T0 + timedelta(hours=1)):
            self._run()
            self._run()
        self.assertEqual(
            self._participants(scheduled).mapped("res_id"), (self.people | newcomer).ids
        )
        self.assertEqual(len(self._participants(once)), 4)

    def test_segment_audience(self):
        segment = self.env["crm.marketing.segment"].create(
            {
                "name": "Two of them",
                "target_model": "res.partner",
                "domain": repr([("id", "in", self.people[1:3].ids)]),
            }
        )
        segment.action_refresh()
        journey = self._journey(segment_id=segment.id)
        self._step(journey, action_type="wait", delay_number=1)
        with freeze_time(T0):
            journey.action_start()
            self._run()
        self.assertEqual(
            self._participants(journey).mapped("res_id"), self.people[1:3].ids
        )
        lead_segment = self.env["crm.marketing.segment"].create(
            {"name": "Leads", "target_model": "crm.lead"}
        )
        with self.assertRaisesRegex(ValidationError, "another kind of record"):
            journey.segment_id = lead_segment

    def test_mailing_contacts_of_lists(self):
        newsletter = self.env["mailing.list"].create({"name": "Newsletter"})
        reader, leaver, opted_out = self.env["mailing.contact"].create(
            [
                {
                    "name": person.name,
                    "email": person.email,
                    "list_ids": [Command.link(newsletter.id)],
                }
                for person in self.people[:3]
            ]
        )
        Subscription = self.env["mailing.subscription"]
        Subscription.search([("contact_id", "=", opted_out.id)]).opt_out = True
        journey = self._journey(
            target_model="mailing.contact",
            domain="[]",
            mailing_list_ids=[Command.set(newsletter.ids)],
        )
        first = self._step(journey, name="News")
        wait = self._step(
            journey, action_type="wait", parent_id=first.id, delay_number=1
        )
        second = self._step(journey, name="More news", parent_id=wait.id)
        self.assertEqual(first.mailing_id.contact_list_ids, newsletter)
        self.assertFalse(first.mailing_id._get_recipients())
        with freeze_time(T0):
            journey.action_start()
            self._run()
        self.assertEqual(
            self._participants(journey).mapped("res_id"), (reader | leaver).ids
        )
        self.assertEqual(set(self._traces(first).mapped("model")), {"mailing.contact"})
        self.assertEqual(len(self._traces(first)), 2)
        Subscription.search([("contact_id", "=", leaver.id)]).opt_out = True
        with freeze_time(T0 + timedelta(days=1, minutes=1)):
            self._run()
        self.assertEqual(self._participants(journey, leaver).end_reason, "unsubscribed")
        self.assertEqual(self._traces(second).mapped("res_id"), reader.ids)

    # ------------------------------------------------------------
    # Test mode
    # ------------------------------------------------------------

    def test_test_mode_runs_one_record_in_minutes(self):
        journey = self._journey()
        email = self._step(journey, name="Welcome")
        wait = self._step(
            journey, action_type="wait", parent_id=email.id, delay_number=2
        )
        self._step(
            journey,
            action_type="tag_add",
            parent_id=wait.id,
            partner_tag_id=self.tags[0].id,
        )
        tester, skipper = self.people[:2]
        Wizard = self.env["crm.marketing.journey.test"].with_user(self.marketer)
        with freeze_time(T0):
            for person in (tester, skipper):
                Wizard.create(
                    {"journey_id": journey.id, "record_ref": f"res.partner,{person.id}"}
                ).action_run()
        runs = self.Participant.search(
            [("journey_id", "=", journey.id), ("is_test", "=", True)], order="res_id"
        )
        self.assertEqual(runs.mapped("res_id"), (tester | skipper).ids)
        self.assertEqual(self._traces(email).mapped("res_id"), (tester | skipper).ids)
        self.assertEqual(
            set(
                self.Activity.search([("step_id", "=", wait.id)]).mapped(
                    "schedule_date"
                )
            ),
            {T0 + timedelta(minutes=2)},
        )
        # Two days pass in two minutes...
        with freeze_time(T0 + timedelta(minutes=3)):
            self._run()
        self.assertIn(self.tags[0], tester.category_id)
        # ... or at once, on demand.
        with freeze_time(T0 + timedelta(seconds=30)):
            runs.filtered(lambda p: p.res_id == skipper.id).with_user(
                self.marketer
            ).action_run_test_now()
        self.assertIn(self.tags[0], skipper.category_id)
        self.assertEqual(set(runs.mapped("state")), {"completed"})
        # Test runs never count, and the journey stays a draft.
        self.assertEqual(journey.state, "draft")
        self.assertEqual(journey.participant_count, 0)
        self.assertEqual(email.processed_count, 0)
        self.assertEqual(journey.mail_sent, 0)
        with self.assertRaisesRegex(UserError, "Only test runs"):
            self.Participant.sudo()._enrol_records(
                journey, [self.people[3].id]
            ).with_user(self.marketer).action_run_test_now()
        lead = self.env["crm.lead"].create({"name": "Not a contact"})
        with self.assertRaisesRegex(UserError, "Pick a record"):
            Wizard.create(
                {"journey_id": journey.id, "record_ref": f"crm.lead,{lead.id}"}
            ).action_run()

    # ------------------------------------------------------------
    # Figures
    # ------------------------------------------------------------

    def test_step_figures(self):
        journey = self._journey(
            goal_type="domain", goal_domain=repr([("function", "=", "CEO")])
        )
        email = self._step(journey, name="Offer")
        follow = self._step(
            journey,
            action_type="tag_add",
            parent_id=email.id,
            trigger_type="opened",
            delay_number=1,
            partner_tag_id=self.tags[0].id,
        )
        with freeze_time(T0):
            journey.action_start()
            self._run()
        clicker, replier, bouncer, silent = self.people
        traces = {trace.res_id: trace for trace in self._traces(email)}
        with freeze_time(T0 + timedelta(hours=1)):
            for person in (clicker, replier, silent):
                traces[person.id].set_sent()
            traces[clicker.id].set_opened()
            traces[clicker.id].set_clicked()
            traces[replier.id].set_replied()
            traces[bouncer.id].set_bounced()
            clicker.function = "CEO"
            self._run()
        figures = email.read(
            [
                "processed_count",
                "sent_count",
                "opened_count",
                "clicked_count",
                "replied_count",
                "bounced_count",
                "goal_count",
            ]
        )[0]
        figures.pop("id")
        self.assertEqual(
            figures,
            {
                "processed_count": 4,
                "sent_count": 4,
                "opened_count": 2,
                "clicked_count": 1,
                "replied_count": 1,
                "bounced_count": 1,
                "goal_count": 1,
            },
        )
        # The clicker reached the goal before their branch ran; the replier's ran.
        self.assertEqual((follow.processed_count, follow.waiting_count), (1, 2))
        self.assertEqual(
            (
                journey.participant_count,
                journey.running_count,
                journey.goal_count,
                journey.mail_sent,
                journey.mail_opened,
                journey.mail_clicked,
            ),
            (4, 2, 1, 4, 2, 1),
        )
        self.assertEqual(journey.goal_rate, 25.0)

    # ------------------------------------------------------------
    # Cost
    # ------------------------------------------------------------

    def test_processing_queries_do_not_grow_with_participants(self):
        people = self.env["res.partner"].create(
            [
                {"name": f"Reader {i}", "email": f"reader{i}@journey.example.com"}
                for i in range(40)
            ]
        )
        self._grant(people, self.purpose_email)
        queries = []
        for size in (5, 10, 40):  # the first batch warms the caches
            journey = self._journey(
                name=f"Cost {size}", domain=repr([("id", "in", people[:size].ids)])
            )
            wait = self._step(journey, action_type="wait")
            self._step(journey, name=f"Read {size}", parent_id=wait.id)
            journey.action_start()
            journey._enrol()
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.cr.sql_log_count
            for _round in range(2):  # the wait, then the email
                self.Activity._process_due()
            self.env.flush_all()
            queries.append(self.cr.sql_log_count - start)
            self.assertEqual(
                self.Activity.search_count(
                    [("journey_id", "=", journey.id), ("state", "=", "done")]
                ),
                2 * size,
            )
        _logger.info(
            "Journey processing queries (wait + email): %s for 10, %s for 40",
            queries[1],
            queries[2],
        )
        # Four times the participants, the same queries (give or take a cache
        # miss on the sending user): nothing is run per participant.
        self.assertLessEqual(queries[2], queries[1] + 2, queries)


@tagged("post_install", "-at_install")
class TestJourneySms(JourneyCommon, SMSCase):
    def test_sms_step_and_click_trigger(self):
        self._grant(self.people, self.purpose_sms)
        journey = self._journey(consent_purpose_id=self.purpose_sms.id)
        text = self._step(
            journey,
            name="Text",
            action_type="sms",
            sms_body="Spring offer: https://www.example.com/spring",
        )
        clicked = self._step(
            journey,
            name="Clicked",
            parent_id=text.id,
            trigger_type="clicked",
            delay_number=1,
            action_type="tag_add",
            partner_tag_id=self.tags[0].id,
        )
        self.assertEqual(text.mailing_id.mailing_type, "sms")
        self.assertEqual(text.mailing_id.body_plaintext, text.sms_body)
        self.assertEqual(text.mailing_id.campaign_id, journey.campaign_id)
        with freeze_time(T0), self.mockSMSGateway():
            journey.action_start()
            self._run()
        traces = self._traces(text)
        self.assertEqual(set(traces.mapped("trace_type")), {"sms"})
        self.assertEqual(len(traces), 4)
        self.assertEqual(
            set(self._new_sms.mapped("number")), set(self.people.mapped("mobile"))
        )
        with freeze_time(T0 + timedelta(hours=2)):
            traces.filtered(lambda t: t.res_id == self.people[0].id).set_clicked()
            self._run()
        self.assertEqual(self._tagged(self.tags[0]), self.people[0])
        self.assertEqual(clicked.processed_count, 1)
        # An SMS is never "opened".
        with self.assertRaisesRegex(ValidationError, "needs a previous step"):
            self._step(
                journey,
                parent_id=text.id,
                trigger_type="opened",
                delay_number=1,
                action_type="wait",
            )
