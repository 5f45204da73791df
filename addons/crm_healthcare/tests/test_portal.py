import re

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import HealthcareCommon, utc

# Monday 2030-01-07, Brussels = UTC+1: 9:00 there is 8:00 UTC.
NINE = utc(2030, 1, 7, 8, 0)
TEN = utc(2030, 1, 7, 9, 0)


@tagged("post_install", "-at_install")
class TestPortalAppointments(HealthcareCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.consultation.portal_bookable = True
        cls.surgery = cls.env["crm.healthcare.appointment.type"].create(
            {
                "name": "Minor surgery",
                "duration": 1.0,
                "company_id": cls.company.id,
                "portal_bookable": False,
            }
        )
        cls.mine = cls._book(NINE, patient=cls.patient_portal)
        cls.theirs = cls._book(TEN, patient=cls.patient_1, provider=cls.provider_2)
        # A visit of last year, done.
        cls.past = cls._book(utc(2025, 1, 6, 9, 0), patient=cls.patient_portal)
        cls.past.state = "done"

    def setUp(self):
        super().setUp()
        self.authenticate("hc_portal_patient", "hc_portal_patient")

    def url_open(self, *args, **kwargs):
        response = super().url_open(*args, **kwargs)
        # The request wrote through its own environment: read afresh.
        self.env.invalidate_all()
        return response

    def _csrf(self, html):
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def _token(self):
        page = self.url_open(f"/my/appointments/book?type_id={self.consultation.id}")
        self.assertEqual(page.status_code, 200)
        return self._csrf(page.text)

    def _post(self, url, **data):
        return self.url_open(url, data={"csrf_token": self._token(), **data})

    def _portal_bookings(self):
        return self.Appointment.search(
            [("patient_id", "=", self.patient_portal.id), ("state", "=", "booked")]
        )

    def test_list_own_visits_only(self):
        page = self.url_open("/my/appointments")
        self.assertEqual(page.status_code, 200)
        html = page.text
        upcoming = html[
            html.index("o_healthcare_upcoming") : html.index("o_healthcare_past")
        ]
        self.assertIn(self.mine.name, upcoming)
        self.assertIn("Monday 7 January 2030, 09:00", upcoming)  # the clinic's time
        self.assertIn("Consultation", upcoming)
        self.assertIn("Dr Ada Lane", upcoming)
        self.assertIn(self.past.name, html[html.index("o_healthcare_past") :])
        # Nobody else's visit, nothing clinical.
        self.assertNotIn(self.theirs.name, html)
        self.assertNotIn("Jordan", html)
        self.assertNotIn("Colposcopy", html)
        # The portal home counts the upcoming visits.
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["appointment_count"]}
        )
        self.assertEqual(counters, {"appointment_count": 1})

    def test_book_a_free_slot(self):
        page = self.url_open(
            f"/my/appointments/book?type_id={self.consultation.id}"
            f"&provider_id={self.provider_2.id}&start=2030-01-07"
        ).text
        # Provider 2 is booked at 10:00 (9:55-10:35): 9:15 is free, 9:30 not.
        slot = f"{self.provider_2.id}|2030-01-07 08:15:00"
        self.assertIn(f'value="{slot}"', page)
        self.assertNotIn(f'value="{self.provider_2.id}|2030-01-07 08:30:00"', page)
        self.assertNotIn("Minor surgery", page)  # not bookable online
        response = self.url_open(
            "/my/appointments/book",
            data={
                "csrf_token": self._csrf(page),
                "type_id": self.consultation.id,
                "slot": slot,
            },
        )
        self.assertTrue(response.url.endswith("/my/appointments?message=booked"))
        self.assertIn("Your appointment is booked.", response.text)
        booked = self._portal_bookings() - self.mine
        self.assertRecordValues(
            booked,
            [
                {
                    "provider_id": self.provider_2.id,
                    "appointment_type_id": self.consultation.id,
                    "start": utc(2030, 1, 7, 8, 15),
                    "stop": utc(2030, 1, 7, 8, 45),
                    "create_uid": self.portal_user.id,
                }
            ],
        )

    def test_taken_or_invalid_slot_refused(self):
        refusals = {
            # Provider 1 has the portal patient's own 9:00 consultation.
            "taken": f"{self.provider_1.id}|2030-01-07 08:00:00",
            "overlaps a buffer": f"{self.provider_2.id}|2030-01-07 08:30:00",
            "off the grid": f"{self.provider_2.id}|2030-01-07 07:05:00",
            "outside working hours": f"{self.provider_2.id}|2030-01-07 05:00:00",
            "in the past": f"{self.provider_2.id}|2025-01-06 08:00:00",
            "unknown provider": "999999|2030-01-07 07:00:00",
            "garbage": "tomorrow please",
        }
        for reason, slot in refusals.items():
            with self.subTest(reason):
                response = self._post(
                    "/my/appointments/book", type_id=self.consultation.id, slot=slot
                )
                self.assertIn("That time is no longer free", response.text)
        # A type that is not bookable online.
        response = self._post(
            "/my/appointments/book",
            type_id=self.surgery.id,
            slot=f"{self.provider_2.id}|2030-01-07 07:00:00",
        )
        self.assertIn("Choose a type of appointment.", response.text)
        self.assertEqual(self._portal_bookings(), self.mine)

    def test_cancel_inside_the_limit(self):
        response = self._post(f"/my/appointments/{self.mine.id}/cancel")
        self.assertTrue(response.url.endswith("/my/appointments?message=cancelled"))
        self.assertEqual(self.mine.state, "cancelled")

    def test_cancel_or_move_outside_the_limit_refused(self):
        # More than eleven years of notice: 2030 is already too late.
        self.consultation.cancellation_limit_hours = 100000
        self.company.phone = "+32 2 555 01 02"
        response = self._post(f"/my/appointments/{self.mine.id}/cancel")
        self.assertIn(
            f"{self.mine.name} starts in less than 100000 hours: it can no longer "
            "be cancelled or moved online. Please call the clinic (+32 2 555 01 02).",
            response.text,
        )
        self.assertEqual(self.mine.state, "booked")
        moved = self._post(
            f"/my/appointments/{self.mine.id}/reschedule",
            slot=f"{self.provider_1.id}|2030-01-07 10:00:00",
        )
        self.assertIn("can no longer be cancelled or moved online", moved.text)
        self.assertEqual(self.mine.start, NINE)
        # The page offers neither button any more.
        page = self.url_open("/my/appointments").text
        self.assertNotIn(f"/my/appointments/{self.mine.id}/cancel", page)
        self.assertIn("To change it, call the clinic.", page)

    def test_reschedule_own_appointment(self):
        page = self.url_open(
            f"/my/appointments/{self.mine.id}/reschedule?start=2030-01-07"
        ).text
        # Its own slot does not block a move by a quarter of an hour.
        slot = f"{self.provider_1.id}|2030-01-07 08:15:00"
        self.assertIn(f'value="{slot}"', page)
        response = self.url_open(
            f"/my/appointments/{self.mine.id}/reschedule",
            data={"csrf_token": self._csrf(page), "slot": slot},
        )
        self.assertTrue(response.url.endswith("/my/appointments?message=moved"))
        self.assertEqual(self.mine.start, utc(2030, 1, 7, 8, 15))
        self.assertEqual(self.mine.stop, utc(2030, 1, 7, 8, 45))
        # Not onto another patient's time.
        taken = self._post(
            f"/my/appointments/{self.mine.id}/reschedule",
            slot=f"{self.provider_2.id}|2030-01-07 09:00:00",
        )
        self.assertIn("That time is no longer free", taken.text)
        self.assertEqual(self.mine.provider_id, self.provider_1)

    def test_other_patients_appointment_not_found(self):
        cancel = self._post(f"/my/appointments/{self.theirs.id}/cancel")
        self.assertEqual(cancel.status_code, 404)
        reschedule = self.url_open(f"/my/appointments/{self.theirs.id}/reschedule")
        self.assertEqual(reschedule.status_code, 404)
        moved = self._post(
            f"/my/appointments/{self.theirs.id}/reschedule",
            slot=f"{self.provider_2.id}|2030-01-07 07:00:00",
        )
        self.assertEqual(moved.status_code, 404)
        self.assertEqual(self.theirs.state, "booked")
        self.assertEqual(self.theirs.start, TEN)

    @mute_logger("odoo.http")  # Odoo warns of the missing token it refuses
    def test_csrf_required(self):
        response = self.url_open(
            f"/my/appointments/{self.mine.id}/cancel", data={"confirm": "1"}
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.mine.state, "booked")

    def test_not_a_patient(self):
        self.authenticate("salesman_a", "salesman_a")
        page = self.url_open("/my/appointments")
        self.assertIn("You are not registered as a patient", page.text)
        self.assertNotIn(self.mine.name, page.text)
        self.assertEqual(self.url_open("/my/appointments/book").status_code, 404)
