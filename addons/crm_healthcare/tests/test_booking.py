from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import HealthcareCommon, utc

# Monday 2030-01-07, Brussels = UTC+1.
NINE = utc(2030, 1, 7, 8, 0)  # 9:00 in Brussels


@tagged("post_install", "-at_install")
class TestDoubleBooking(HealthcareCommon):
    def test_overlap_refused_naming_the_conflict(self):
        first = self._book(NINE)
        self.assertEqual(first.stop, utc(2030, 1, 7, 8, 30))
        self.assertEqual(first.blocked_start, utc(2030, 1, 7, 7, 55))
        self.assertEqual(first.blocked_stop, utc(2030, 1, 7, 8, 35))
        with self.assertRaises(ValidationError) as caught:
            self._book(
                utc(2030, 1, 7, 8, 15), patient=self.patient_2, user=self.front_desk
            )
        message = str(caught.exception)
        self.assertIn(first.name, message)
        self.assertIn("Dr Ada Lane", message)
        self.assertIn("9:00", message)  # the clinic's time, not UTC
        # Nothing about the other booking's patient or procedure.
        self.assertNotIn("Jordan", message)
        self.assertNotIn("Colposcopy", message)
        self.assertEqual(
            self.Appointment.search_count([("provider_id", "=", self.provider_1.id)]),
            1,
        )

    def test_buffers_count(self):
        self._book(NINE)  # blocks 8:55-9:35
        with self.assertRaises(ValidationError):
            # 9:30-10:00 would block from 9:25.
            self._book(utc(2030, 1, 7, 8, 30), patient=self.patient_2)
        # 9:40 blocks from 9:35: the two ranges touch without overlapping.
        second = self._book(utc(2030, 1, 7, 8, 40), patient=self.patient_2)
        self.assertEqual(second.state, "booked")

    def test_cancelled_and_no_show_free_the_slot(self):
        first = self._book(NINE)
        first.action_cancel()
        second = self._book(NINE, patient=self.patient_2)
        with freeze_time("2030-01-07 10:00:00"):
            second.action_no_show()
        third = self._book(NINE, patient=self.patient_2)
        self.assertEqual(third.state, "booked")
        # A freed slot cannot be taken back over the new booking.
        with self.assertRaises(UserError):
            first.action_confirm()

    def test_other_provider_same_time_accepted(self):
        self._book(NINE)
        other = self._book(NINE, patient=self.patient_2, provider=self.provider_2)
        self.assertEqual(other.provider_id, self.provider_2)

    def test_room_overlap_refused(self):
        first = self._book(NINE, room_id=self.room.id)
        with self.assertRaises(ValidationError) as caught:
            self._book(
                utc(2030, 1, 7, 8, 10),
                patient=self.patient_2,
                provider=self.provider_2,
                room_id=self.room.id,
            )
        self.assertIn("Room 1", str(caught.exception))
        self.assertIn(first.name, str(caught.exception))

    def test_reschedule_onto_a_booked_slot_refused(self):
        first = self._book(NINE)
        second = self._book(utc(2030, 1, 7, 10, 0), patient=self.patient_2)
        with self.assertRaises(ValidationError) as caught:
            second.with_user(self.front_desk).start = utc(2030, 1, 7, 8, 20)
        self.assertIn(first.name, str(caught.exception))
        self.assertEqual(second.start, utc(2030, 1, 7, 10, 0))
        # Moving within its own slot is no conflict with itself.
        second.start = utc(2030, 1, 7, 10, 10)
        self.assertEqual(second.stop, utc(2030, 1, 7, 10, 40))

    def test_database_refuses_without_the_python_check(self):
        """The exclusion constraint is the guarantee: without the pre-check,
        PostgreSQL refuses and the user still reads which booking is in the way."""
        first = self._book(NINE)
        with (
            patch.object(type(self.Appointment), "_check_slot_free", lambda self: None),
            mute_logger("odoo.sql_db"),
            self.assertRaises(ValidationError) as caught,
        ):
            self._book(utc(2030, 1, 7, 8, 15), patient=self.patient_2)
        self.assertIn(first.name, str(caught.exception))
        self.assertIn("Dr Ada Lane", str(caught.exception))

    def test_two_overlapping_bookings_in_one_batch_refused(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(ValidationError) as caught:
            self.Appointment.create(
                [
                    {
                        "patient_id": patient.id,
                        "provider_id": self.provider_1.id,
                        "appointment_type_id": self.consultation.id,
                        "start": start,
                    }
                    for patient, start in (
                        (self.patient_1, NINE),
                        (self.patient_2, utc(2030, 1, 7, 8, 20)),
                    )
                ]
            )
        self.assertIn("Dr Ada Lane", str(caught.exception))
        self.assertFalse(
            self.Appointment.search([("provider_id", "=", self.provider_1.id)])
        )

    def test_database_refuses_room_without_the_python_check(self):
        first = self._book(NINE, provider=self.provider_2, room_id=self.room.id)
        with (
            patch.object(type(self.Appointment), "_check_slot_free", lambda self: None),
            mute_logger("odoo.sql_db"),
            self.assertRaises(ValidationError) as caught,
        ):
            self._book(utc(2030, 1, 7, 8, 10), room_id=self.room.id)
        self.assertIn(first.name, str(caught.exception))
        self.assertIn("Room 1", str(caught.exception))


@tagged("post_install", "-at_install")
class TestWorkingHours(HealthcareCommon):
    def test_inside_working_hours_accepted(self):
        morning = self._book(utc(2030, 1, 7, 7, 0))  # 8:00 local, first slot
        evening = self._book(utc(2030, 1, 7, 15, 30), patient=self.patient_2)
        self.assertEqual(evening.stop, utc(2030, 1, 7, 16, 0))  # 17:00 local
        self.assertTrue(morning and evening)

    def test_outside_working_hours_refused(self):
        for start in (
            utc(2030, 1, 7, 6, 30),  # 7:30 local, before opening
            utc(2030, 1, 7, 10, 45),  # 11:45-12:15 local, over lunch
            utc(2030, 1, 7, 15, 45),  # 16:45-17:15 local, after closing
            utc(2030, 1, 12, 9, 0),  # Saturday
        ):
            with (
                self.subTest(start=start),
                self.assertRaises(ValidationError) as caught,
            ):
                self._book(start, user=self.front_desk)
            self.assertIn("does not work", str(caught.exception))

    def test_batch_with_one_booking_outside_hours_refused(self):
        with self.assertRaises(ValidationError) as caught:
            self.Appointment.create(
                [
                    {
                        "patient_id": self.patient_1.id,
                        "provider_id": provider.id,
                        "appointment_type_id": self.consultation.id,
                        "start": start,
                    }
                    for provider, start in (
                        (self.provider_1, NINE),
                        (self.provider_2, utc(2030, 1, 8, 8, 0)),
                        (self.provider_2, utc(2030, 1, 8, 17, 0)),  # 18:00 local
                    )
                ]
            )
        self.assertIn("Dr Ben Oak", str(caught.exception))

    def test_time_off_refused(self):
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Conference",
                "resource_id": self.provider_1.resource_id.id,
                "calendar_id": self.calendar.id,
                "date_from": utc(2030, 1, 7, 7, 0),
                "date_to": utc(2030, 1, 7, 11, 0),
            }
        )
        self.assertEqual(self.provider_1.leave_count, 1)
        # The front desk cannot read the provider's time off, yet it counts.
        with self.assertRaises(ValidationError):
            self._book(NINE, user=self.front_desk)
        other = self._book(NINE, provider=self.provider_2, user=self.front_desk)
        self.assertEqual(other.provider_id, self.provider_2)
        afternoon = self._book(utc(2030, 1, 7, 12, 0), user=self.front_desk)
        self.assertEqual(afternoon.state, "booked")

    def test_room_unavailability_refused(self):
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Maintenance",
                "resource_id": self.room.resource_id.id,
                "calendar_id": self.calendar.id,
                "date_from": utc(2030, 1, 7, 7, 0),
                "date_to": utc(2030, 1, 7, 11, 0),
            }
        )
        with self.assertRaises(ValidationError) as caught:
            self._book(NINE, room_id=self.room.id)
        self.assertIn("Room 1", str(caught.exception))

    def test_manager_manages_provider_time_off(self):
        action = self.provider_1.with_user(self.hc_manager).action_open_time_off()
        leave = (
            self.env["resource.calendar.leaves"]
            .with_user(self.hc_manager)
            .with_context(action["context"])
            .create(
                {
                    "name": "Holiday",
                    "date_from": utc(2030, 1, 8, 7, 0),
                    "date_to": utc(2030, 1, 8, 16, 0),
                }
            )
        )
        self.assertEqual(leave.resource_id, self.provider_1.resource_id)
        leave.date_to = utc(2030, 1, 8, 12, 0)
        with self.assertRaises(ValidationError):
            self._book(utc(2030, 1, 8, 8, 0))


@tagged("post_install", "-at_install")
class TestAppointmentFlow(HealthcareCommon):
    def test_transitions(self):
        appointment = self._book(NINE, user=self.front_desk)
        self.assertTrue(appointment.name.startswith("APT/"))
        appointment.with_user(self.front_desk).action_confirm()
        with self.assertRaises(UserError):
            appointment.action_done()  # not checked in
        appointment.with_user(self.front_desk).action_check_in()
        with self.assertRaises(UserError):
            appointment.action_cancel()
        appointment.with_user(self.clinician_1).action_done()
        self.assertEqual(appointment.state, "done")
        with self.assertRaises(UserError):
            appointment.action_no_show()

    def test_no_show_only_after_start_and_counted(self):
        appointment = self._book(NINE)
        with freeze_time("2030-01-07 07:00:00"), self.assertRaises(UserError):
            appointment.action_no_show()
        with freeze_time("2030-01-07 09:00:00"):
            appointment.with_user(self.front_desk).action_no_show()
        self.assertEqual(appointment.state, "no_show")
        self.assertEqual(self.patient_1.no_show_count, 1)

    def test_type_providers_and_rooms(self):
        self.consultation.provider_ids = self.provider_2
        with self.assertRaises(ValidationError):
            self._book(NINE)
        self.consultation.provider_ids = False
        self.consultation.room_ids = self.room
        with self.assertRaises(ValidationError):
            self._book(NINE)
        self.assertEqual(self._book(NINE, room_id=self.room.id).room_id, self.room)


@tagged("post_install", "-at_install")
class TestCalendarEvent(HealthcareCommon):
    def test_neutral_private_event(self):
        mails_before = self.env["mail.mail"].search_count([])
        appointment = self._book(NINE, user=self.front_desk)
        event = appointment.calendar_event_id
        self.assertTrue(event)
        self.assertEqual(event.name, "Appointment")
        self.assertEqual(event.privacy, "private")
        self.assertEqual(event.user_id, self.clinician_1)
        self.assertEqual(event.partner_ids, self.clinician_1.partner_id)
        self.assertNotIn(self.patient_1.partner_id, event.attendee_ids.partner_id)
        self.assertFalse(event.description)
        self.assertEqual(
            (event.start, event.stop), (appointment.start, appointment.stop)
        )
        texts = " ".join(
            str(value or "")
            for value in event.read(
                ["name", "display_name", "description", "location"]
            )[0].values()
        )
        for secret in ("Colposcopy", "Consultation", "Jordan", "Settings"):
            self.assertNotIn(secret, texts)
        # Nobody is mailed an invitation.
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before)

        appointment.with_user(self.front_desk).start = utc(2030, 1, 7, 9, 0)
        self.assertEqual(event.start, utc(2030, 1, 7, 9, 0))
        self.assertEqual(event.stop, utc(2030, 1, 7, 9, 30))
        appointment.with_user(self.front_desk).provider_id = self.provider_2
        self.assertEqual(event.user_id, self.clinician_2)
        self.assertEqual(event.partner_ids, self.clinician_2.partner_id)

        appointment.with_user(self.front_desk).action_cancel()
        self.assertFalse(appointment.calendar_event_id)
        self.assertFalse(event.exists())

    def test_other_users_see_busy_only(self):
        appointment = self._book(NINE)
        event = appointment.calendar_event_id.with_user(self.clinician_2)
        self.assertEqual(event.display_name, "Busy")
