from datetime import datetime, timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.crm_core.tests.batch_common import BatchCronChecks, BatchQueueChecks

from .common import HealthcareCommon

# A Monday of the provider's working hours, far enough ahead to stay ahead.
MONDAY_NINE = datetime(2030, 1, 7, 8, 0)


class HealthcareBatchRows:
    """Appointments in a reminder's window, and appointments missed."""

    BATCHES = {
        "reminders": "_reminded_appointments",
        "no_shows": "_missed_appointments",
    }

    def _book_hours(self, count, day=0):
        start = MONDAY_NINE + timedelta(days=day)
        return self.env["crm.healthcare.appointment"].browse(
            [self._book(start + timedelta(hours=i)).id for i in range(count)]
        )

    def _reminded_appointments(self, count):
        appointments = self._book_hours(count)
        # A rule reaching back to today puts them in its window.
        ahead = (MONDAY_NINE - fields.Datetime.now()).total_seconds() / 3600
        self.env["crm.healthcare.reminder.rule"].create(
            {
                "appointment_type_id": self.consultation.id,
                "hours_before": ahead + 24,
                "send_email": True,
                "send_sms": False,
            }
        )
        return appointments

    def effect_reminders(self, appointments):
        logs = self.env["crm.healthcare.reminder.log"].search(
            [("appointment_id", "in", appointments.ids)]
        )
        return sorted(
            (log.appointment_id.id, log.rule_id.id, log.channel) for log in logs
        )

    def _missed_appointments(self, count):
        appointments = self._book_hours(count, day=1)
        self.env.flush_all()
        # Booked for last week (the constraints check hours, not history).
        self.env.cr.execute(
            SQL(
                "UPDATE crm_healthcare_appointment "
                "SET start = start - (start - NOW() AT TIME ZONE 'UTC') "
                "- INTERVAL '7 days' WHERE id = ANY(%s)",
                appointments.ids,
            )
        )
        appointments.invalidate_recordset()
        return appointments

    def effect_no_shows(self, appointments):
        return [(a.state, a.patient_id.no_show_count) for a in appointments]


@tagged("post_install", "-at_install")
class TestHealthcareBatches(HealthcareBatchRows, BatchCronChecks, HealthcareCommon):
    pass


@tagged("-standard", "crm_queue_job", "post_install", "-at_install")
class TestHealthcareBatchesQueued(
    HealthcareBatchRows, BatchQueueChecks, HealthcareCommon
):
    pass
