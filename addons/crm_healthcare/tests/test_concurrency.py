from odoo import SUPERUSER_ID, Command, api, sql_db
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import TZ, utc

QUIET = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "no_reset_password": True,
}
NINE = utc(2030, 1, 7, 8, 0)


@tagged("post_install", "-at_install")
class TestTwoBookingsAtOnce(TransactionCase):
    """Two users book the same provider for the same time, each in their own
    transaction: the first wins, the second is refused by PostgreSQL although
    its own snapshot cannot see the first booking (so the Python pre-check
    passes), and it reads a clear message."""

    def _committed_clinic(self, db):
        with sql_db.db_connect(db).cursor() as setup_cr:
            setup_cr.execute("SET LOCAL lock_timeout = '10s'")  # fail, never hang
            setup_cr.execute("SELECT COALESCE(MAX(id), 0) FROM crm_audit_log")
            last_audit_id = setup_cr.fetchone()[0]
            env = api.Environment(setup_cr, SUPERUSER_ID, QUIET)
            calendar = env["resource.calendar"].create(
                {
                    "name": "Race clinic hours",
                    "tz": TZ,
                    "attendance_ids": [
                        Command.create(
                            {
                                "name": f"{day}",
                                "dayofweek": str(day),
                                "hour_from": 8,
                                "hour_to": 17,
                                "day_period": "morning",
                            }
                        )
                        for day in range(5)
                    ],
                }
            )
            user = env["res.users"].create(
                {"name": "Dr Race", "login": "hc_race_provider", "tz": TZ}
            )
            provider = env["crm.healthcare.provider"].create(
                {"user_id": user.id, "resource_calendar_id": calendar.id}
            )
            appointment_type = env["crm.healthcare.appointment.type"].create(
                {"name": "Race consultation", "duration": 0.5}
            )
            partners = env["res.partner"].create(
                [{"name": "Racer One"}, {"name": "Racer Two"}]
            )
            patients = env["crm.healthcare.patient"].create(
                [{"partner_id": partner.id} for partner in partners]
            )
            ids = {
                "calendar": calendar.id,
                "user": user.id,
                "user_partner": user.partner_id.id,
                "provider": provider.id,
                "resource": provider.resource_id.id,
                "type": appointment_type.id,
                "partners": partners.ids,
                "patients": patients.ids,
                "last_audit_id": last_audit_id,
            }
            setup_cr.commit()
        return ids

    def _cleanup(self, db, ids):
        with sql_db.db_connect(db).cursor() as cleanup_cr:
            env = api.Environment(cleanup_cr, SUPERUSER_ID, QUIET)
            env["crm.healthcare.appointment"].with_context(active_test=False).search(
                [("provider_id", "=", ids["provider"])]
            ).unlink()
            env["crm.healthcare.patient"].browse(ids["patients"]).unlink()
            env["crm.healthcare.provider"].browse(ids["provider"]).unlink()
            env["resource.resource"].browse(ids["resource"]).unlink()
            env["crm.healthcare.appointment.type"].browse(ids["type"]).unlink()
            env["res.users"].browse(ids["user"]).unlink()
            env["res.partner"].browse(ids["partners"] + [ids["user_partner"]]).unlink()
            env["resource.calendar"].browse(ids["calendar"]).unlink()
            # The audit trail is append-only through the ORM, by design.
            cleanup_cr.execute(
                """DELETE FROM crm_audit_log
                    WHERE id > %s AND model LIKE 'crm.healthcare.%%'""",
                [ids["last_audit_id"]],
            )
            cleanup_cr.commit()

    def test_second_simultaneous_booking_refused_by_the_database(self):
        db = self.env.cr.dbname
        ids = self._committed_clinic(db)
        vals = {
            "provider_id": ids["provider"],
            "appointment_type_id": ids["type"],
            "start": NINE,
        }
        try:
            with (
                sql_db.db_connect(db).cursor() as cr1,
                sql_db.db_connect(db).cursor() as cr2,
            ):
                cr2.execute("SET LOCAL lock_timeout = '10s'")
                Appointment1 = api.Environment(cr1, SUPERUSER_ID, QUIET)[
                    "crm.healthcare.appointment"
                ]
                Appointment2 = api.Environment(cr2, SUPERUSER_ID, QUIET)[
                    "crm.healthcare.appointment"
                ]
                # The second user's transaction starts before the first booking.
                self.assertFalse(
                    Appointment2.search([("provider_id", "=", ids["provider"])])
                )
                first = Appointment1.create({**vals, "patient_id": ids["patients"][0]})
                cr1.commit()
                with (
                    mute_logger("odoo.sql_db"),
                    self.assertRaises(ValidationError) as caught,
                ):
                    Appointment2.create({**vals, "patient_id": ids["patients"][1]})
                message = str(caught.exception)
                self.assertIn("Dr Race", message)
                # Named although this transaction cannot see it.
                self.assertIn(first.name, message)
                self.assertIn("9:00", message)
                self.assertNotIn("Racer", message)
                cr2.rollback()
            with sql_db.db_connect(db).cursor() as cr3:
                Appointment3 = api.Environment(cr3, SUPERUSER_ID, {})[
                    "crm.healthcare.appointment"
                ]
                booked = Appointment3.search([("provider_id", "=", ids["provider"])])
                self.assertEqual(booked.ids, first.ids)
                self.assertEqual(booked.patient_id.id, ids["patients"][0])
                cr3.rollback()
        finally:
            self._cleanup(db, ids)
