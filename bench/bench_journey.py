"""Journey processing at scale, against Odoo's own mailing send.

Run through bench/run.sh with crm_marketing installed:

    BENCH_ADDONS=crm_marketing BENCH_SCRIPT=bench_journey.py bench/run.sh 5000

For each N it creates N contacts with an email, then times:

- Odoo's mailing send (``mailing.mailing.action_send_mail``) of one email to the
  N contacts, in batches of 1,000 committed one by one: the baseline, what
  sending the same email costs without a journey;
- the enrolment of the N contacts into a journey (``_enrol``);
- the journey's processing of a wait step then an email step for the N
  participants, as the cron runs it (the crm.batch ``process_journeys``):
  chunks of 1,000 due activities claimed SKIP LOCKED, each chunk committed.

Both sends go through the consent gate with the same opt-out purpose, and both
queue their emails (batches above 100 are not sent inline), so that the
engines are compared, not the mail server. Prints participants per second and
queries per participant; the number that must not grow with N is queries per
participant.
"""

import sys
import time

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import config, split_every

QUIET = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}
BATCH = 1000
BODY = "<p>Hello, here is our offer.</p>"


def measure(env, label, count, func):
    env.flush_all()
    env.invalidate_all()
    start_queries, start = env.cr.sql_log_count, time.perf_counter()
    func()
    env.flush_all()
    seconds = time.perf_counter() - start
    queries = env.cr.sql_log_count - start_queries
    return (label, count, seconds, count / seconds, queries / count)


def print_table(rows, digits=2):
    """The rows of ``measure`` as a Markdown table."""
    header = ("what", "N", "seconds", "participants/s", "queries/participant")
    print("\n| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for label, count, seconds, rate, per_record in rows:
        print(
            f"| {label} | {count} | {seconds:.2f} | {rate:.0f} | "
            f"{per_record:.{digits}f} |"
        )


def create_contacts(env, n, tag):
    ids = []
    for start in range(0, n, 5000):
        partners = (
            env["res.partner"]
            .with_context(**QUIET)
            .create(
                [
                    {
                        "name": f"Bench {tag} {i}",
                        "email": f"bench.{tag}.{i}@example.com",
                    }
                    for i in range(start, min(n, start + 5000))
                ]
            )
        )
        ids += partners.ids
    env.flush_all()
    return ids


def bench_purpose(env):
    """An opt-out purpose: everybody may be contacted unless they withdrew."""
    Purpose = env["crm.consent.purpose"]
    return Purpose.search([("code", "=", "bench_newsletter")]) or Purpose.create(
        {"name": "Bench newsletter", "code": "bench_newsletter", "policy": "opt_out"}
    )


def send_mailing(env, purpose, res_ids):
    mailing = env["mailing.mailing"].create(
        {
            "subject": "Baseline",
            "body_arch": BODY,
            "body_html": BODY,
            "mailing_model_id": env["ir.model"]._get_id("res.partner"),
            "mailing_domain": repr([("id", "in", [])]),
            "crm_consent_purpose_id": purpose.id,
        }
    )
    env.cr.commit()

    def run():
        for batch in split_every(BATCH, res_ids, list):
            mailing.action_send_mail(batch)
            env.cr.commit()

    return run


def build_journey(env, purpose, tag, n):
    journey = (
        env["crm.marketing.journey"]
        .with_context(**QUIET)
        .create(
            {
                "name": f"Bench {n}",
                "domain": repr([("name", "=like", f"Bench {tag} %")]),
                "consent_purpose_id": purpose.id,
                "state": "running",
            }
        )
    )
    Step = env["crm.marketing.journey.step"]
    wait = Step.create(
        {"journey_id": journey.id, "name": "Wait", "action_type": "wait"}
    )
    email = Step.create(
        {"journey_id": journey.id, "name": "Offer", "parent_id": wait.id}
    )
    email.mailing_id.write({"body_arch": BODY, "body_html": BODY})
    env.cr.commit()
    return journey, email


def process_all(env):
    batch = env.ref("crm_marketing.batch_process_journeys")
    # What ir.cron's runner does: call again while work remains, commit after
    # each call (one chunk of due activities each, 1,000 by default).
    while batch._run_chunk()[0]:
        env.cr.commit()
    env.cr.commit()


def main(conf, db, sizes):
    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    rows = []
    for n in sizes:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            purpose = bench_purpose(env)
            baseline_ids = create_contacts(env, n, f"base{n}")
            create_contacts(env, n, f"jrn{n}")
            cr.commit()

            rows.append(
                measure(
                    env,
                    "Odoo mailing send (baseline)",
                    n,
                    send_mailing(env, purpose, baseline_ids),
                )
            )
            journey, email = build_journey(env, purpose, f"jrn{n}", n)
            rows.append(measure(env, "journey enrolment", n, journey._enrol))
            cr.commit()
            rows.append(
                measure(env, "journey wait + email", n, lambda e=env: process_all(e))
            )
            sent = env["mailing.trace"].search_count(
                [("mass_mailing_id", "=", email.mailing_id.id)]
            )
            done = env["crm.marketing.journey.participant"].search_count(
                [("journey_id", "=", journey.id), ("state", "=", "completed")]
            )
            print(f"  journey: {sent} emails for {n} participants, {done} completed")
            cr.commit()

    print_table(rows)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3:]])
