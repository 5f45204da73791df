"""Engagement score recompute at scale, against a naive per-lead ORM recompute.

Run through ``BENCH_ADDONS=crm_marketing BENCH_SCRIPT=bench_engagement.py
CRM_BENCH_DB=crm_bench_eng bench/run.sh 10000``. For each N it creates N leads
(half of them with a contact, four leads per contact) and 10 engagement events
per lead (8 on the lead, 2 on its contact alone, or on the lead when it has no
contact), spread over the last 180 days and the shipped event types, then times
in the same run:

- the naive baseline: for each lead, search its events, decay them in Python
  and write the score and reasons (one lead at a time, as an ORM loop would);
  skipped above ``BENCH_NAIVE_MAX`` leads (default 20,000), measured on the
  first ``BENCH_NAIVE_MAX`` leads otherwise;
- our batch recompute (``_recompute_scores`` on all N leads: one aggregation and
  one update per 1,000 leads);
- the daily decay crons (``_cron_recompute_scores`` and
  ``_cron_recompute_lead_scores``: every contact, then every lead with events),
  called again while work remains, a chunk of the batch's size each time.

Marketing qualification is switched off so that both compute the same thing.
Prints records per second and queries per record; the number that must not grow
with N is queries per record.
"""

import os
import sys
import time

import odoo
from odoo import SUPERUSER_ID, api, fields
from odoo.tools import SQL, config

sys.path.insert(0, os.path.dirname(__file__))
from bench_crm import QUIET, measure, print_table

EVENTS_PER_LEAD = 10
LEADS_PER_CONTACT = 4
NAIVE_MAX = int(os.environ.get("BENCH_NAIVE_MAX", 20000))


def create_leads(env, n):
    """N leads, every other one with a contact shared by four leads."""
    contacts = (
        env["res.partner"]
        .with_context(**QUIET)
        .create(
            [
                {"name": f"Bench contact {i}", "email": f"bench{n}_{i}@example.com"}
                for i in range(max(n // (2 * LEADS_PER_CONTACT), 1))
            ]
        )
    )
    ids = []
    for start in range(0, n, 5000):
        leads = (
            env["crm.lead"]
            .with_context(**QUIET)
            .create(
                [
                    {
                        "name": f"Bench lead {i}",
                        "type": "lead",
                        "user_id": False,
                        "partner_id": contacts[(i // 2) % len(contacts)].id
                        if i % 2
                        else False,
                    }
                    for i in range(start, min(n, start + 5000))
                ]
            )
        )
        ids += leads.ids
    env.flush_all()
    return ids


def create_events(env, lead_ids):
    """10 events per lead, in SQL: dates over 180 days, types in turn."""
    rules = env["crm.marketing.engagement.rule"].search([], order="id")
    env.cr.execute(
        SQL(
            """
        INSERT INTO crm_marketing_engagement_event
               (rule_id, model, res_id, partner_id, lead_id, company_id, date,
                points, description, create_uid, create_date, write_uid, write_date)
        SELECT rule.id,
               CASE WHEN k > 8 AND lead.partner_id IS NOT NULL
                    THEN 'res.partner' ELSE 'crm.lead' END,
               CASE WHEN k > 8 AND lead.partner_id IS NOT NULL
                    THEN lead.partner_id ELSE lead.id END,
               lead.partner_id,
               CASE WHEN k > 8 AND lead.partner_id IS NOT NULL
                    THEN NULL ELSE lead.id END,
               lead.company_id,
               NOW() AT TIME ZONE 'UTC'
                   - MOD(lead.id * 7 + k * 13, 180) * INTERVAL '1 day'
                   - MOD(lead.id + k, 24) * INTERVAL '1 hour',
               rule.points,
               'bench: ' || rule.code || ' ' || k,
               1, NOW(), 1, NOW()
          FROM crm_lead lead
         CROSS JOIN generate_series(1, %(per_lead)s) AS k
          JOIN crm_marketing_engagement_rule rule
            ON rule.id = (%(rules)s)[1 + MOD(lead.id + k, %(rule_count)s)]
         WHERE lead.id IN %(leads)s
        """,
            per_lead=EVENTS_PER_LEAD,
            rules=rules.ids,
            rule_count=len(rules),
            leads=tuple(lead_ids),
        )
    )
    count = env.cr.rowcount
    env.cr.execute("ANALYZE crm_marketing_engagement_event")
    return count


def naive_recompute(env, leads):
    """The obvious ORM loop: one search and one write per lead."""
    Event = env["crm.marketing.engagement.event"]
    now = fields.Datetime.now()
    for lead in leads:
        domain = [("lead_id", "=", lead.id)]
        if lead.partner_id:
            domain = [
                "|",
                *domain,
                "&",
                ("lead_id", "=", False),
                ("partner_id", "=", lead.partner_id.id),
            ]
        contributions = []
        for event in Event.search(domain).filtered("rule_id.active"):
            age = max((now - event.date).total_seconds() / 86400, 0)
            value = event.points * 0.5 ** (age / event.rule_id.half_life_days)
            contributions.append((value, event.description, event.date))
        top = sorted(contributions, key=lambda c: (-abs(c[0]), c[2]))[:3]
        lead.write(
            {
                "crm_engagement_score": sum(c[0] for c in contributions),
                "crm_engagement_reasons": "\n".join(
                    f"{description} ({value:+.1f})" for value, description, _d in top
                ),
                "crm_engagement_date": now,
            }
        )
        env.flush_all()


def decay_crons(env):
    batches = [
        env.ref("crm_marketing.batch_recompute_contact_scores"),
        env.ref("crm_marketing.batch_recompute_lead_scores"),
    ]

    def run():
        # What ir.cron's runner does with each cron: call again while work
        # remains (one chunk of the batch each call).
        for batch in batches:
            while batch._run_chunk()[1]:
                pass

    return run


def main(conf, db, sizes):
    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    rows = []
    for n in sizes:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["ir.config_parameter"].set_param("crm_marketing.mql_threshold", 0)
            start = time.perf_counter()
            lead_ids = create_leads(env, n)
            events = create_events(env, lead_ids)
            print(
                f"  {n} leads, {events} events created in "
                f"{time.perf_counter() - start:.1f} s",
                flush=True,
            )
            Event = env["crm.marketing.engagement.event"]
            leads = env["crm.lead"].browse(lead_ids)
            naive = leads[:NAIVE_MAX]
            rows.append(
                measure(
                    env,
                    "naive per-lead ORM recompute (baseline)",
                    len(naive),
                    lambda env=env, naive=naive: naive_recompute(env, naive),
                )
            )
            naive_scores = dict(
                zip(naive.ids, naive.mapped("crm_engagement_score"), strict=True)
            )
            rows.append(
                measure(
                    env,
                    "batch recompute of the leads",
                    n,
                    lambda Event=Event, leads=leads: Event._recompute_scores(leads),
                )
            )
            differ = [
                lead.id
                for lead in naive
                # More than the field's precision (0.1) apart.
                if abs(lead.crm_engagement_score - naive_scores[lead.id]) > 0.1001
            ]
            print(
                f"  batch and naive scores differ on {len(differ)} of "
                f"{len(naive)} leads",
                flush=True,
            )
            with_events = env.execute_query(
                SQL(
                    "SELECT COUNT(DISTINCT lead_id) + COUNT(DISTINCT partner_id) "
                    "FROM crm_marketing_engagement_event"
                )
            )[0][0]
            rows.append(
                measure(
                    env,
                    "daily decay crons (contacts and leads)",
                    with_events,
                    decay_crons(env),
                )
            )
            cr.rollback()

    print_table(rows, digits=4)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3:]])
