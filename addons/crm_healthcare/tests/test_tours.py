from odoo.tests import tagged

from odoo.addons.crm_core.tests.common import BrowserTourCase

from .common import HealthcareCommon


@tagged("post_install", "-at_install")
class TestBookingTour(HealthcareCommon, BrowserTourCase):
    """The front desk books a patient's next free consultation from the patient
    form and confirms it, through the web client at desktop and phone width."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The tour runs on the real clock: the clinic opens every day so that
        # free slots exist whatever day the tests run.
        cls.calendar.attendance_ids.create(
            [
                {
                    "calendar_id": cls.calendar.id,
                    "name": f"{day} {start}",
                    "dayofweek": str(day),
                    "hour_from": start,
                    "hour_to": end,
                    "day_period": "morning" if start < 12 else "afternoon",
                }
                for day in (5, 6)
                for start, end in ((8, 12), (13, 17))
            ]
        )

    def _run(self, size):
        self.start_tour_at(
            size,
            "/odoo/action-crm_healthcare.crm_healthcare_patient_action",
            "crm_healthcare_booking",
            login=self.front_desk.login,
        )
        appointment = self.Appointment.search([("patient_id", "=", self.patient_1.id)])
        self.assertEqual(len(appointment), 1)
        self.assertEqual(appointment.state, "confirmed")
        # Booked through the web client by the front desk, not by the test's admin.
        self.assertEqual(appointment.create_uid, self.front_desk)
        self.assertEqual(appointment.appointment_type_id, self.consultation)
        self.assertIn(appointment.provider_id, self.provider_1 | self.provider_2)
        # Private: only its owner, the provider, reads the event's title.
        event = appointment.calendar_event_id.with_user(appointment.provider_id.user_id)
        self.assertEqual((event.privacy, event.name), ("private", "Appointment"))

    def test_booking_desktop(self):
        self._run("desktop")

    def test_booking_phone(self):
        self._run("phone")
