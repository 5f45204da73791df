from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import HealthcareCommon, utc

# Monday 2030-01-07, 9:00 in Brussels.
VISIT = utc(2030, 1, 7, 8, 0)
RECALL_DOMAIN = [("kind", "in", ("follow_up", "recall")), ("state", "=", "open")]


@tagged("post_install", "-at_install")
class TestCarePlan(HealthcareCommon):
    """Completing a visit starts the care plan of its type: visits to book
    with due dates from the visit's day, staff tasks as activities on the
    patient; the recall list shows who is due and has not booked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        todo = cls.env.ref("mail.mail_activity_data_todo")
        cls.activity_plan = cls.env["mail.activity.plan"].create(
            {
                "name": "After a consultation",
                "res_model": "crm.healthcare.patient",
                "template_ids": [
                    Command.create(
                        {
                            "activity_type_id": todo.id,
                            "summary": "Call back with the results",
                            "responsible_type": "on_demand",
                            "delay_count": 2,
                            "delay_unit": "days",
                            "delay_from": "after_plan_date",
                        }
                    ),
                    Command.create(
                        {
                            "activity_type_id": todo.id,
                            "summary": "Send the visit summary",
                            "responsible_type": "other",
                            "responsible_id": cls.front_desk.id,
                            "delay_count": 1,
                            "delay_unit": "days",
                            "delay_from": "after_plan_date",
                        }
                    ),
                ],
            }
        )
        cls.template = (
            cls.env["crm.healthcare.care.plan.template"]
            .with_user(cls.hc_manager)
            .create(
                {
                    "name": "Consultation follow-up",
                    "appointment_type_id": cls.consultation.id,
                    "activity_plan_id": cls.activity_plan.id,
                    "line_ids": [
                        Command.create({"kind": "follow_up", "interval": 14}),
                        Command.create({"kind": "recall", "interval": 6}),
                    ],
                }
            )
        )

    def _complete(self, start, patient=None, provider=None):
        """Book as the front desk, check in, complete as the provider."""
        provider = provider or self.provider_1
        appointment = self._book(
            start, patient=patient, provider=provider, user=self.front_desk
        )
        appointment.action_check_in()
        appointment.with_user(provider.user_id).action_done()
        return appointment

    def test_completing_a_visit_creates_the_steps_with_their_dates(self):
        appointment = self._complete(VISIT)
        plan = self.env["crm.healthcare.care.plan"].search(
            [("patient_id", "=", self.patient_1.id)]
        )
        self.assertEqual(len(plan), 1)
        self.assertEqual(plan.appointment_id, appointment)
        self.assertEqual(plan.provider_id, self.provider_1)
        self.assertEqual(plan.date_start, date(2030, 1, 7))
        self.assertEqual(plan.state, "open")
        steps = {
            step.kind + (f":{step.user_id.login}" if step.user_id else ""): step
            for step in plan.step_ids
        }
        self.assertEqual(
            {key: step.due_date for key, step in steps.items()},
            {
                "follow_up": date(2030, 1, 21),
                "recall": date(2030, 7, 7),
                "task:hc_clinician_1": date(2030, 1, 9),
                "task:hc_front_desk": date(2030, 1, 8),
            },
        )
        self.assertEqual(steps["follow_up"].appointment_type_id, self.consultation)
        # Staff tasks are activities on the patient: "ask at launch" went to the
        # visit's provider, the preset one to the front desk.
        activities = self.patient_1.activity_ids
        self.assertEqual(
            sorted((a.summary, a.user_id.login, a.date_deadline) for a in activities),
            [
                ("Call back with the results", "hc_clinician_1", date(2030, 1, 9)),
                ("Send the visit summary", "hc_front_desk", date(2030, 1, 8)),
            ],
        )
        self.assertEqual(
            steps["task:hc_clinician_1"].activity_id.summary,
            "Call back with the results",
        )

    def test_a_type_without_template_starts_nothing(self):
        self.template.active = False
        self._complete(VISIT)
        self.assertFalse(
            self.env["crm.healthcare.care.plan"].search(
                [("patient_id", "=", self.patient_1.id)]
            )
        )

    def test_task_step_done_with_its_activity(self):
        self._complete(VISIT)
        step = self.env["crm.healthcare.care.plan.step"].search(
            [
                ("patient_id", "=", self.patient_1.id),
                ("user_id", "=", self.front_desk.id),
            ]
        )
        self.assertEqual(step.state, "open")
        step.activity_id.with_user(self.front_desk).action_done()
        self.assertEqual(step.state, "done")
        self.assertEqual(step.plan_id.state, "open", "The visits are still to book.")

    def test_next_visit_of_the_type_fulfils_the_open_steps(self):
        first = self._complete(VISIT)
        second = self._complete(utc(2030, 1, 21, 8, 0))
        first_steps = first.care_plan_ids.step_ids.filtered(
            lambda s: s.kind in ("follow_up", "recall")
        )
        self.assertEqual(set(first_steps.mapped("state")), {"done"})
        self.assertEqual(first_steps.appointment_id, second)
        # The recall repeats: the second visit starts its own plan.
        self.assertEqual(
            second.care_plan_ids.step_ids.filtered(
                lambda s: s.kind == "recall"
            ).due_date,
            date(2030, 7, 21),
        )

    def test_recall_list_shows_due_patients_without_booking(self):
        self._complete(VISIT)
        self._complete(utc(2030, 1, 7, 8, 0), self.patient_2, self.provider_2)
        self._complete(utc(2030, 1, 8, 8, 0), self.patient_portal)
        Step = self.env["crm.healthcare.care.plan.step"].with_user(self.front_desk)
        with freeze_time("2030-01-25 10:00:00"):
            # Casey booked the follow-up, for next Monday.
            self._book(utc(2030, 1, 28, 8, 0), patient=self.patient_2)
            # Paula booked another type: she still needs her consultation.
            other_type = self.consultation.copy({"name": "Vaccination"})
            self._book(
                utc(2030, 1, 28, 9, 0),
                patient=self.patient_portal,
                appointment_type_id=other_type.id,
            )
            due = Step.search(
                RECALL_DOMAIN
                + [("due_date", "<=", "2030-01-25"), ("is_booked", "=", False)]
            )
            self.assertEqual(
                sorted((s.patient_id.name, s.kind) for s in due),
                [("Jordan Settings", "follow_up"), ("Paula Portal", "follow_up")],
            )
            booked = Step.search(RECALL_DOMAIN + [("is_booked", "=", True)])
            self.assertEqual(booked.patient_id, self.patient_2)
            self.assertTrue(all(step.is_booked for step in booked))
            # One query for the list, whatever the number of patients.
            with self.assertQueryCount(1):
                Step.search(RECALL_DOMAIN + [("is_booked", "=", False)]).ids  # noqa: B018

    def test_clinician_sees_only_their_patients_plans(self):
        self._complete(VISIT)
        self._complete(utc(2030, 1, 7, 8, 0), self.patient_2, self.provider_2)
        plans = self.env["crm.healthcare.care.plan"].with_user(self.clinician_2)
        self.assertEqual(plans.search([]).patient_id, self.patient_2)

    def test_one_template_per_type(self):
        with self.assertRaises(ValidationError):
            self.env["crm.healthcare.care.plan.template"].create(
                {"name": "Another", "appointment_type_id": self.consultation.id}
            )
