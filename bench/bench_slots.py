"""Slot search of crm_healthcare at scale: 50 providers, 30 days.

Run through bench/run.sh with crm_healthcare installed:

    BENCH_ADDONS=crm_healthcare BENCH_SCRIPT=bench_slots.py \\
        CRM_BENCH_DB=crm_bench_hc bench/run.sh 20000

For each N given it measures two sizes, N/10 and N existing appointments,
each in a transaction of its own that is rolled back: 50 providers working
Monday to Friday 8:00-12:00 and 13:00-17:00 in Brussels, and the existing
appointments spread over the 30 days searched (15 minutes each, on distinct
quarter hours of working time: valid and non-overlapping, inserted in SQL in
bulk). It then times, with a cold cache:

- the search of every free slot of a 30-minute consultation with 5-minute
  buffers over the 30 days, for any of the 50 providers;
- the same search for one provider.

"records" are providers: the table gives seconds and queries per provider. The
number that must not grow with the number of appointments is queries per
provider.
"""

import random
import sys
from datetime import date, datetime, timedelta

import pytz
from bench_crm import QUIET, measure, print_table

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.tools import SQL, config

PROVIDERS = 50
DAYS = 30
TZ = "Europe/Brussels"
FIRST_DAY = date(2030, 1, 7)  # a Monday, far from any time change
HOURS = ((8, 12), (13, 17))


def create_clinic(env, n):
    """A calendar, PROVIDERS providers, patients and two appointment types."""
    calendar = env["resource.calendar"].create(
        {
            "name": f"Bench clinic {n}",
            "tz": TZ,
            "attendance_ids": [
                Command.create(
                    {
                        "name": f"{day} {start}",
                        "dayofweek": str(day),
                        "hour_from": start,
                        "hour_to": end,
                        "day_period": "morning" if start < 12 else "afternoon",
                    }
                )
                for day in range(5)
                for start, end in HOURS
            ],
        }
    )
    users = (
        env["res.users"]
        .with_context(**QUIET)
        .create(
            [
                {
                    "name": f"Bench doctor {n} {i}",
                    "login": f"bench_doctor_{n}_{i}",
                    "tz": TZ,
                    "groups_id": [
                        Command.link(
                            env.ref("crm_healthcare.group_healthcare_clinician").id
                        )
                    ],
                }
                for i in range(PROVIDERS)
            ]
        )
    )
    providers = env["crm.healthcare.provider"].create(
        [
            {"user_id": user.id, "resource_calendar_id": calendar.id, "tz": TZ}
            for user in users
        ]
    )
    partners = (
        env["res.partner"]
        .with_context(**QUIET)
        .create([{"name": f"Bench patient {n} {i}"} for i in range(200)])
    )
    patients = (
        env["crm.healthcare.patient"]
        .with_context(**QUIET)
        .create([{"partner_id": partner.id} for partner in partners])
    )
    Type = env["crm.healthcare.appointment.type"]
    existing_type = Type.create({"name": f"Bench short visit {n}", "duration": 0.25})
    consultation = Type.create(
        {
            "name": f"Bench consultation {n}",
            "duration": 0.5,
            "buffer_before": 5,
            "buffer_after": 5,
        }
    )
    return providers, patients, existing_type, consultation


def working_quarters():
    """Every quarter hour of working time in the window, as naive UTC."""
    tz = pytz.timezone(TZ)
    quarters = []
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for start, end in HOURS:
            moment = datetime.combine(day, datetime.min.time()) + timedelta(hours=start)
            while moment.hour < end:
                quarters.append(
                    tz.localize(moment).astimezone(pytz.utc).replace(tzinfo=None)
                )
                moment += timedelta(minutes=15)
    return quarters


def insert_appointments(env, n, providers, patients, appointment_type):
    """N appointments of 15 minutes without buffers, spread evenly over the
    providers, each on a distinct working quarter hour of its provider: no
    overlap, inside working hours. One INSERT."""
    quarters = working_quarters()
    per_provider = n // len(providers)
    if per_provider > len(quarters):
        raise SystemExit(
            f"{n} appointments do not fit: at most {len(quarters) * len(providers)}."
        )
    rng = random.Random(n)
    provider_ids, patient_ids, starts = [], [], []
    for provider in providers:
        for start in rng.sample(quarters, per_provider):
            provider_ids.append(provider.id)
            patient_ids.append(rng.choice(patients.ids))
            starts.append(start)
    env.flush_all()
    env.cr.execute(
        SQL(
            """
        INSERT INTO crm_healthcare_appointment (
            name, patient_id, provider_id, appointment_type_id, company_id,
            start, stop, buffer_before, buffer_after, blocked_start, blocked_stop,
            state, create_uid, write_uid, create_date, write_date)
        SELECT 'BENCH/' || ordinality, patient_id, provider_id, %(type)s,
               %(company)s, start, start + interval '15 minutes', 0, 0,
               start, start + interval '15 minutes', 'booked',
               %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
          FROM unnest(%(providers)s::int[], %(patients)s::int[],
                      %(starts)s::timestamp[])
               WITH ORDINALITY AS booking(provider_id, patient_id, start, ordinality)
        """,
            type=appointment_type.id,
            company=env.company.id,
            uid=env.uid,
            providers=provider_ids,
            patients=patient_ids,
            starts=starts,
        )
    )
    env.invalidate_all()
    return len(starts)


class SlotSearch:
    """One slot search to time, keeping what it found under ``key``."""

    def __init__(self, finder, appointment_type, date_from, date_to, results):
        self.args = (appointment_type, date_from, date_to)
        self.finder = finder
        self.results = results

    def __call__(self, key, providers=None):
        self.results[key] = self.finder._find_slots(*self.args, providers=providers)


def main(conf, db, sizes):
    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    sizes = sorted({size for n in sizes for size in (n // 10, n)})
    date_from = datetime.combine(FIRST_DAY, datetime.min.time())
    date_to = date_from + timedelta(days=DAYS)
    rows, found = [], []
    for n in sizes:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            providers, patients, existing_type, consultation = create_clinic(env, n)
            inserted = insert_appointments(env, n, providers, patients, existing_type)
            cr.execute("ANALYZE crm_healthcare_appointment")
            print(
                f"  {inserted} appointments for {len(providers)} providers", flush=True
            )
            finder = env["crm.healthcare.slot.finder"]
            # Warm the caches the first query of each kind would pay for.
            finder._find_slots(consultation, date_from, date_to, providers=providers[0])
            results = {}
            search = SlotSearch(finder, consultation, date_from, date_to, results)
            rows.append(
                measure(
                    env,
                    f"any of {PROVIDERS} providers, {DAYS} days, {inserted} bookings",
                    len(providers),
                    lambda search=search: search("all"),
                )
            )
            rows.append(
                measure(
                    env,
                    f"one provider, {DAYS} days, {inserted} bookings",
                    1,
                    lambda search=search, p=providers[0]: search("one", p),
                )
            )
            found.append((inserted, len(results["all"]), len(results["one"])))
            cr.rollback()

    print_table(rows, digits=2)
    print("\n| bookings | free slots (any provider) | free slots (one provider) |")
    print("|---|---|---|")
    for inserted, any_count, one_count in found:
        print(f"| {inserted} | {any_count} | {one_count} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3:]])
