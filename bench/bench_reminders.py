"""Appointment reminders at scale: N due reminders in one cron run.

Run through bench/run.sh with crm_healthcare installed:

    BENCH_ADDONS=crm_healthcare BENCH_SCRIPT=bench_reminders.py \
        CRM_BENCH_DB=crm_bench_rem bench/run.sh 10000

For each N it creates a clinic open around the clock with 50 providers, N
patients with an email address and a granted consent for health reminders, and
N appointments of a type whose reminder rule makes all of them due at once,
then times:

- Odoo's own ``mail.template.send_mail_batch`` of the reminder template on the
  N appointments (the baseline: rendering and queuing the same emails without
  consent check, channel choice nor send log);
- the reminder cron as Odoo's cron runner drives it: ``_cron_send_reminders``
  called again while it reports work remaining, each batch of 1,000 committed.

Emails are queued, not sent (the mail queue sends them later), so the engines
are compared, not the mail server. Prints reminders per second and queries per
reminder; the number that must not grow with N is queries per reminder.
"""

import sys
import time
from datetime import timedelta

import odoo
from odoo import SUPERUSER_ID, Command, api, fields
from odoo.tools import config

QUIET = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "no_reset_password": True,
}
PROVIDERS = 50
CHUNK = 2000


def measure(env, label, count, func):
    env.flush_all()
    env.invalidate_all()
    start_queries, start = env.cr.sql_log_count, time.perf_counter()
    func()
    env.flush_all()
    seconds = time.perf_counter() - start
    queries = env.cr.sql_log_count - start_queries
    return (label, count, seconds, count / seconds, queries / count)


def print_table(rows):
    header = ("what", "N", "seconds", "reminders/s", "queries/reminder")
    print("\n| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for label, count, seconds, rate, per_record in rows:
        print(f"| {label} | {count} | {seconds:.2f} | {rate:.0f} | {per_record:.2f} |")


def slot_start(first, index):
    """The ``index``-th half hour of a provider from midnight of ``first``,
    46 a day (never across midnight, where one day's hours end)."""
    day, slot = divmod(index, 46)
    return first + timedelta(days=day, minutes=30 * slot)


def build_clinic(env, n, tag):
    """50 providers working every hour of every day, a 30-minute type without
    buffers whose reminder is due for all appointments, N patients with consent
    and N appointments starting tomorrow, spread over the providers."""
    env = env(context=QUIET)
    calendar = env["resource.calendar"].create(
        {
            "name": f"Bench {tag} around the clock",
            "tz": "UTC",
            "attendance_ids": [
                Command.create(
                    {
                        "name": f"{day}",
                        "dayofweek": str(day),
                        "hour_from": 0,
                        "hour_to": 24,
                        "day_period": "morning",
                    }
                )
                for day in range(7)
            ],
        }
    )
    users = env["res.users"].create(
        [
            {"name": f"Dr Bench {tag} {i}", "login": f"bench_{tag}_{i}", "tz": "UTC"}
            for i in range(PROVIDERS)
        ]
    )
    providers = env["crm.healthcare.provider"].create(
        [{"user_id": user.id, "resource_calendar_id": calendar.id} for user in users]
    )
    appointment_type = env["crm.healthcare.appointment.type"].create(
        {"name": f"Bench consultation {tag}", "duration": 0.5}
    )
    env["crm.healthcare.reminder.rule"].create(
        {
            "appointment_type_id": appointment_type.id,
            "hours_before": 24 * 365,
            "send_email": True,
            "send_sms": False,
        }
    )
    purpose = env.ref("crm_core.consent_purpose_health_reminders")
    first = (fields.Datetime.now() + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    appointment_ids = []
    for start in range(0, n, CHUNK):
        indexes = range(start, min(n, start + CHUNK))
        partners = env["res.partner"].create(
            [
                {"name": f"Bench {tag} {i}", "email": f"bench.{tag}.{i}@example.com"}
                for i in indexes
            ]
        )
        patients = env["crm.healthcare.patient"].create(
            [{"partner_id": partner.id} for partner in partners]
        )
        env["crm.consent"].create(
            [
                {"partner_id": partner.id, "purpose_id": purpose.id}
                for partner in partners
            ]
        )
        appointments = env["crm.healthcare.appointment"].create(
            [
                {
                    "patient_id": patient.id,
                    "provider_id": providers[i % PROVIDERS].id,
                    "appointment_type_id": appointment_type.id,
                    "start": slot_start(first, i // PROVIDERS),
                }
                for i, patient in zip(indexes, patients, strict=True)
            ]
        )
        appointment_ids += appointments.ids
        env.cr.commit()
    return appointment_ids


def baseline(env, appointment_ids):
    template = env.ref("crm_healthcare.mail_template_appointment_reminder")

    def run():
        for start in range(0, len(appointment_ids), 1000):
            template.send_mail_batch(
                appointment_ids[start : start + 1000],
                email_values={"model": False, "res_id": False},
            )
            env.cr.commit()

    return run


def cron_run(env):
    batch = env.ref("crm_healthcare.batch_reminders")

    def run():
        # What ir.cron's runner does: call again while work remains, commit
        # after each call (one chunk of appointments each).
        while batch._run_chunk()[1]:
            env.cr.commit()
        env.cr.commit()

    return run


def main(conf, db, sizes):
    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    rows = []
    for n in sizes:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            # Bench only this run's appointments: earlier runs' are done.
            cr.execute(
                "UPDATE crm_healthcare_reminder_rule SET active = FALSE WHERE active"
            )
            ids = build_clinic(env, n, f"r{n}")
            rows.append(
                measure(env, "Odoo send_mail_batch (baseline)", n, baseline(env, ids))
            )
            env["mail.mail"].search([("state", "=", "outgoing")]).unlink()
            cr.commit()
            rows.append(
                measure(env, "reminder cron (consent, log, email)", n, cron_run(env))
            )
            sent = env["crm.healthcare.reminder.log"].search_count(
                [("appointment_id", "in", ids), ("state", "=", "sent")]
            )
            queued = env["mail.mail"].search_count([("state", "=", "outgoing")])
            print(f"  N={n}: {sent} reminders logged as sent, {queued} emails queued")
            # A second run finds nothing due: exactly once.
            again = env["crm.healthcare.reminder.log"]._send_due_reminders(limit=1000)
            print(f"  second run: {again} reminders claimed")
            env["mail.mail"].search([("state", "=", "outgoing")]).unlink()
            cr.commit()
    print_table(rows)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3:]])
