from datetime import datetime, timedelta

import pytz

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import TZ, HealthcareCommon, utc

BRUSSELS = pytz.timezone(TZ)
# Monday 2030-01-07 in Brussels (UTC+1): the clinic works 8:00-12:00 and
# 13:00-17:00, that is 7:00-11:00 and 12:00-16:00 UTC.
MONDAY = utc(2030, 1, 7, 0, 0)
TUESDAY = utc(2030, 1, 8, 0, 0)
# A slot search with a cold cache, as the front desk: the user and the
# provider rule (3), the type, its providers and rooms (3), the providers (2),
# their calendar's attendances (3) and time off (1), and the bookings (1)...
# less a few the cache keeps: the same for 2 or 20 bookings.
SLOT_SEARCH_QUERIES = 11


def quarters(first, last):
    """Local "HH:MM" times from ``first`` to ``last`` included, every 15 min."""
    moment = datetime.strptime(first, "%H:%M")
    end = datetime.strptime(last, "%H:%M")
    times = []
    while moment <= end:
        times.append(moment.strftime("%H:%M"))
        moment += timedelta(minutes=15)
    return times


def local(moment):
    return pytz.utc.localize(moment).astimezone(BRUSSELS)


@tagged("post_install", "-at_install")
class TestSlotFinder(HealthcareCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Finder = cls.env["crm.healthcare.slot.finder"].with_user(cls.front_desk)
        Type = cls.env["crm.healthcare.appointment.type"]
        # An hour, no buffers: the plainest grid.
        cls.check_up = Type.create(
            {"name": "Check-up", "duration": 1.0, "company_id": cls.company.id}
        )
        # Half an hour without buffers, to compare with the consultation's.
        cls.short_visit = Type.create(
            {"name": "Short visit", "duration": 0.5, "company_id": cls.company.id}
        )

    def _slots(self, appointment_type, date_from=MONDAY, date_to=TUESDAY, **kwargs):
        return self.Finder._find_slots(
            appointment_type.with_user(self.front_desk), date_from, date_to, **kwargs
        )

    def _local_times(self, slots, provider=None):
        """The slots' local start times of ``provider`` (all by default)."""
        return [
            local(slot["start"]).strftime("%H:%M")
            for slot in slots
            if not provider or slot["provider_id"] == provider.id
        ]

    def test_simple_day(self):
        slots = self._slots(self.check_up, providers=self.provider_1)
        # An hour fits from 8:00 to 11:00 and from 13:00 to 16:00.
        self.assertEqual(
            self._local_times(slots),
            quarters("08:00", "11:00") + quarters("13:00", "16:00"),
        )
        self.assertEqual(
            slots[0],
            {
                "provider_id": self.provider_1.id,
                "room_id": False,
                "start": utc(2030, 1, 7, 7, 0),
                "stop": utc(2030, 1, 7, 8, 0),
            },
        )
        self.assertEqual(slots[-1]["stop"], utc(2030, 1, 7, 16, 0))  # 17:00 local
        # Nothing on the weekend; the window cuts the day.
        saturday = utc(2030, 1, 12, 0, 0)
        self.assertFalse(
            self._slots(self.check_up, saturday, saturday + timedelta(days=2))
        )
        late = self._slots(
            self.check_up, utc(2030, 1, 7, 9, 50), utc(2030, 1, 7, 13, 0)
        )
        self.assertEqual(self._local_times(late, self.provider_1), ["11:00", "13:00"])
        self.assertEqual(
            self._slots(self.check_up, providers=self.provider_1, limit=3),
            slots[:3],
        )

    def test_existing_booking_and_buffers(self):
        # A consultation at 9:00 blocks 8:55-9:35 with its buffers.
        booking = self._book(utc(2030, 1, 7, 8, 0))
        morning = self._local_times(
            self._slots(self.short_visit, providers=self.provider_1)
        )[:10]
        # A half hour without buffers fits until 8:25 and from 9:35 (grid 9:45).
        self.assertEqual(morning, ["08:00", "08:15", *quarters("09:45", "11:30")][:10])
        # The new consultation's own buffers: free when t + 35 min <= 8:55 or
        # t - 5 min >= 9:35.
        consultation = self._local_times(
            self._slots(self.consultation, providers=self.provider_1)
        )
        self.assertEqual(
            consultation[:10], ["08:00", "08:15", *quarters("09:45", "11:30")][:10]
        )
        booking.action_cancel()
        self.assertEqual(
            self._local_times(
                self._slots(self.consultation, providers=self.provider_1)
            )[:5],
            quarters("08:00", "09:00"),
        )

    def test_new_slot_buffers(self):
        # A half hour without buffers at 9:00 blocks 9:00-9:30 only.
        self._book(utc(2030, 1, 7, 8, 0), appointment_type_id=self.short_visit.id)
        short = self._local_times(
            self._slots(self.short_visit, providers=self.provider_1)
        )
        self.assertEqual(
            short[:6], ["08:00", "08:15", "08:30", "09:30", "09:45", "10:00"]
        )
        # A consultation needs 5 minutes before and after: 8:30 would block
        # until 9:05, 9:30 from 9:25.
        consultation = self._local_times(
            self._slots(self.consultation, providers=self.provider_1)
        )
        self.assertEqual(consultation[:4], ["08:00", "08:15", "09:45", "10:00"])
        # The rescheduled booking itself is not in the way.
        moved = self._slots(
            self.short_visit,
            providers=self.provider_1,
            ignore_appointments=self.Appointment.search([]),
        )
        self.assertEqual(self._local_times(moved)[:6], quarters("08:00", "09:15"))

    def test_time_off(self):
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Dentist",
                "resource_id": self.provider_1.resource_id.id,
                "calendar_id": self.calendar.id,
                "date_from": utc(2030, 1, 7, 9, 0),  # 10:00 local
                "date_to": utc(2030, 1, 7, 12, 30),  # 13:30 local
            }
        )
        slots = self._slots(self.check_up)
        self.assertEqual(
            self._local_times(slots, self.provider_1),
            quarters("08:00", "09:00") + quarters("13:30", "16:00"),
        )
        # The other provider works as usual.
        self.assertEqual(
            self._local_times(slots, self.provider_2),
            quarters("08:00", "11:00") + quarters("13:00", "16:00"),
        )
        # A public holiday (no resource) closes the clinic for everyone.
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Holiday",
                "calendar_id": self.calendar.id,
                "date_from": MONDAY - timedelta(hours=1),
                "date_to": TUESDAY - timedelta(hours=1),
            }
        )
        self.assertFalse(self._slots(self.check_up))

    def test_any_provider(self):
        self._book(utc(2030, 1, 7, 8, 0))  # provider 1 at 9:00, blocks 8:55-9:35
        slots = self._slots(
            self.consultation, utc(2030, 1, 7, 8, 0), utc(2030, 1, 7, 9, 30)
        )
        p1, p2 = self.provider_1.id, self.provider_2.id
        self.assertEqual(
            [(local(s["start"]).strftime("%H:%M"), s["provider_id"]) for s in slots],
            [
                ("09:00", p2),
                ("09:15", p2),
                ("09:30", p2),
                ("09:45", p1),
                ("09:45", p2),
                ("10:00", p1),
                ("10:00", p2),
            ],
        )
        # A type given by one provider only: "any" means that one.
        self.check_up.provider_ids = self.provider_2
        self.assertEqual(
            {slot["provider_id"] for slot in self._slots(self.check_up)}, {p2}
        )
        with self.assertRaisesRegex(UserError, "Dr Ada Lane does not give Check-up"):
            self._slots(self.check_up, providers=self.provider_1)

    def test_room_needed(self):
        self.consultation.room_ids = self.room
        # Provider 2 holds the only room at 9:00.
        self._book(
            utc(2030, 1, 7, 8, 0), provider=self.provider_2, room_id=self.room.id
        )
        slots = self._slots(self.consultation, providers=self.provider_1)
        self.assertEqual(self._local_times(slots)[:3], ["08:00", "08:15", "09:45"])
        self.assertEqual({slot["room_id"] for slot in slots}, {self.room.id})
        # Booked as offered, the slot is accepted by the appointment's checks.
        offered = slots[2]
        booking = self._book(
            offered["start"], patient=self.patient_2, room_id=offered["room_id"]
        )
        self.assertEqual(booking.stop, offered["stop"])
        # A room under maintenance offers nothing.
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Maintenance",
                "resource_id": self.room.resource_id.id,
                "calendar_id": self.calendar.id,
                "date_from": MONDAY,
                "date_to": TUESDAY,
            }
        )
        self.assertFalse(self._slots(self.consultation))

    def test_dst_change_keeps_local_hours(self):
        """Brussels moves from UTC+1 to UTC+2 on Sunday 2026-03-29: the
        Mondays before and after both open at 8:00 local time."""
        slots = self._slots(
            self.check_up,
            utc(2026, 3, 23, 0, 0),
            utc(2026, 3, 31, 0, 0),
            providers=self.provider_1,
        )
        before = [s["start"] for s in slots if s["start"].date().day == 23]
        after = [s["start"] for s in slots if s["start"].date().day == 30]
        self.assertEqual(before[0], utc(2026, 3, 23, 7, 0))  # 8:00 at UTC+1
        self.assertEqual(after[0], utc(2026, 3, 30, 6, 0))  # 8:00 at UTC+2
        self.assertEqual(before[-1], utc(2026, 3, 23, 15, 0))  # 16:00 at UTC+1
        self.assertEqual(after[-1], utc(2026, 3, 30, 14, 0))  # 16:00 at UTC+2
        expected = quarters("08:00", "11:00") + quarters("13:00", "16:00")
        self.assertEqual([local(s).strftime("%H:%M") for s in before], expected)
        self.assertEqual([local(s).strftime("%H:%M") for s in after], expected)

    def test_query_count_does_not_grow_with_bookings(self):
        week = (MONDAY, MONDAY + timedelta(days=7))

        def cold_search():
            self.env.invalidate_all()
            return self._slots(self.consultation, *week)

        def search():
            """The slots of every provider for a week, and the queries spent."""
            with self.assertQueryCount(SLOT_SEARCH_QUERIES):
                count0 = self.cr.sql_log_count
                slots = cold_search()
                return slots, self.cr.sql_log_count - count0

        self._book(utc(2030, 1, 7, 8, 0))
        self._book(
            utc(2030, 1, 7, 8, 0), patient=self.patient_2, provider=self.provider_2
        )
        # Warm the access rules' caches, as in a running server.
        cold_search()
        few, few_queries = search()
        self._book_week()
        cold_search()
        many, many_queries = search()
        self.assertEqual(many_queries, few_queries)
        # The same queries found the new bookings: each 9:00 booking (blocking
        # 8:55-9:35) removes the 8:30 to 9:30 starts, each 14:00 one the 13:30
        # to 14:30 starts: five each.
        self.assertEqual(len(few) - len(many), 18 * 5)

    def _book_week(self):
        """18 more bookings: both providers, 9:00 and 14:00 local, Monday to
        Friday (Monday 9:00 is taken already)."""
        vals = [
            {
                "patient_id": self.patient_1.id,
                "provider_id": provider.id,
                "appointment_type_id": self.consultation.id,
                "start": utc(2030, 1, 7 + day, hour, 0),
            }
            for day in range(5)
            for hour in (8, 13)
            for provider in (self.provider_1, self.provider_2)
            if (day, hour) != (0, 8)
        ]
        self.assertEqual(len(vals), 18)
        self.Appointment.create(vals)


@tagged("post_install", "-at_install")
class TestBookingWizard(HealthcareCommon):
    def _wizard_form(self, user):
        Wizard = self.env["crm.healthcare.booking.wizard"].with_user(user)
        return Form(Wizard.with_context(default_patient_id=self.patient_1.id))

    def test_front_desk_books_a_free_slot(self):
        self._book(utc(2030, 1, 7, 8, 0), patient=self.patient_2)  # 9:00 local
        form = self._wizard_form(self.front_desk)
        form.appointment_type_id = self.consultation
        form.provider_id = self.provider_1
        form.date_from = utc(2030, 1, 7, 7, 0)
        form.days = 1
        wizard = form.save()
        self.assertEqual(wizard.allowed_provider_ids, self.provider_1 | self.provider_2)
        action = wizard.action_find_slots()
        self.assertEqual(action["res_id"], wizard.id)
        starts = wizard.slot_ids.mapped("start")
        self.assertEqual(
            starts[:3],
            [utc(2030, 1, 7, 7, 0), utc(2030, 1, 7, 7, 15), utc(2030, 1, 7, 8, 45)],
        )
        self.assertEqual(set(wizard.slot_ids.provider_id.ids), {self.provider_1.id})
        action = wizard.slot_ids[1].action_book()
        appointment = self.Appointment.browse(action["res_id"])
        self.assertRecordValues(
            appointment,
            [
                {
                    "patient_id": self.patient_1.id,
                    "provider_id": self.provider_1.id,
                    "appointment_type_id": self.consultation.id,
                    "start": utc(2030, 1, 7, 7, 15),
                    "stop": utc(2030, 1, 7, 7, 45),
                    "state": "booked",
                    "create_uid": self.front_desk.id,
                }
            ],
        )
        # Searched again, the booked time and its neighbours are gone.
        wizard.action_find_slots()
        self.assertEqual(wizard.slot_ids[0].start, utc(2030, 1, 7, 8, 45))

    def test_slot_taken_meanwhile_refused(self):
        form = self._wizard_form(self.front_desk)
        form.appointment_type_id = self.consultation
        form.date_from = utc(2030, 1, 7, 7, 0)
        wizard = form.save()
        wizard.action_find_slots()
        first = wizard.slot_ids[0]
        self._book(first.start, patient=self.patient_2, provider=first.provider_id)
        with self.assertRaisesRegex(ValidationError, "Dr Ada Lane is already booked"):
            first.action_book()

    def test_any_provider_and_type_change(self):
        self.consultation.provider_ids = self.provider_2
        form = self._wizard_form(self.front_desk)
        form.appointment_type_id = self.consultation
        form.date_from = utc(2030, 1, 7, 7, 0)
        wizard = form.save()
        self.assertEqual(wizard.allowed_provider_ids, self.provider_2)
        wizard.action_find_slots()
        self.assertEqual(wizard.slot_ids.provider_id, self.provider_2)
        self.assertEqual(len(wizard.slot_ids), 40)

    def test_only_front_desk_books(self):
        vals = {
            "patient_id": self.patient_1.id,
            "appointment_type_id": self.consultation.id,
        }
        for user in (self.clinician_1, self.salesman, self.portal_user):
            with self.assertRaises(AccessError):
                self.env["crm.healthcare.booking.wizard"].with_user(user).create(vals)
        # Managers are front desk too.
        wizard = (
            self.env["crm.healthcare.booking.wizard"]
            .with_user(self.hc_manager)
            .create(vals)
        )
        self.assertTrue(wizard.action_find_slots())
