"""Lead assignment and churn scoring at scale, against Odoo's own assignment.

Run through bench/run.sh, which prepares a throwaway database. For each N it
creates N unassigned leads and N customers with an invoice history, then times:

- Odoo's crm.team assignment (``_action_assign_leads``) of the whole backlog;
- our assignment rules (``crm.assignment.rule._assign_backlog``) of the same
  backlog, reset in between;
- our churn scoring (``crm.churn.analysis._cron_score_customers``).

Mail tracking is off for both assignments so that the engines are compared, not
the chatter. Prints records per second and queries per record.
"""

import os
import sys
import time

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.tools import SQL, config

QUIET = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "crm_skip_assignment": True,
}
MEMBERS = 5
# Odoo's own assignment slows down faster than linearly: skip it above this size.
ODOO_MAX = int(os.environ.get("BENCH_ODOO_MAX", 20000))


def measure(env, label, count, func):
    env.flush_all()
    env.invalidate_all()
    start_queries, start = env.cr.sql_log_count, time.perf_counter()
    func()
    env.flush_all()
    seconds = time.perf_counter() - start
    queries = env.cr.sql_log_count - start_queries
    return (label, count, seconds, count / seconds, queries / count)


def print_table(rows, digits=3):
    """The rows of ``measure`` as a Markdown table."""
    header = ("what", "N", "seconds", "records/s", "queries/record")
    print("\n| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for label, count, seconds, rate, per_record in rows:
        print(
            f"| {label} | {count} | {seconds:.2f} | {rate:.0f} | "
            f"{per_record:.{digits}f} |"
        )


def reset_backlog(env, lead_ids):
    env.flush_all()
    env.cr.execute(
        SQL(
            "UPDATE crm_lead SET user_id = NULL, team_id = NULL, date_open = NULL, "
            "assignment_rule_id = NULL, assignment_reason = NULL WHERE id IN %s",
            tuple(lead_ids),
        )
    )
    env.invalidate_all()


def setup_team(env, n):
    users = (
        env["res.users"]
        .with_context(**QUIET)
        .create(
            [
                {
                    "name": f"Bench seller {i}",
                    "login": f"bench_seller_{n}_{i}",
                    "groups_id": [Command.link(env.ref("crm_core.group_crm_user").id)],
                }
                for i in range(MEMBERS)
            ]
        )
    )
    # Odoo gives each member assignment_max / 30 leads a day: enough for all.
    capacity = 30 * (n // MEMBERS + 1)
    team = env["crm.team"].create(
        {
            "name": f"Bench team {n}",
            "assignment_max": capacity * MEMBERS,
            "crm_team_member_ids": [
                Command.create({"user_id": user.id, "assignment_max": capacity})
                for user in users
            ],
        }
    )
    return team


def create_leads(env, n):
    countries = env["res.country"].search([], limit=20).ids
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
                        "team_id": False,
                        "country_id": countries[i % len(countries)],
                        "expected_revenue": 100 * (i % 50),
                    }
                    for i in range(start, min(n, start + 5000))
                ]
            )
        )
        ids += leads.ids
    env.flush_all()
    return ids


def create_customers(env, n):
    """N customers, each with 3 posted invoices (cloned in SQL) and most with a call."""
    partners = (
        env["res.partner"]
        .with_context(**QUIET)
        .create([{"name": f"Bench customer {i}", "is_company": True} for i in range(n)])
    )
    template = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partners[0].id,
            "invoice_date": "2026-01-01",
            "invoice_line_ids": [Command.create({"name": "x", "price_unit": 100})],
        }
    )
    template.action_post()
    env.flush_all()
    columns = [
        name
        for name, field in env["account.move"]._fields.items()
        if field.store
        and field.column_type
        and name
        not in (
            "id",
            "partner_id",
            "commercial_partner_id",
            "invoice_date",
            "invoice_date_due",
            "name",
            "amount_untaxed_signed",
            "amount_residual_signed",
        )
    ]
    column_list = SQL(", ").join(SQL.identifier(c) for c in columns)
    template_columns = SQL(", ").join(SQL.identifier("template", c) for c in columns)
    env.cr.execute(
        SQL(
            """
        INSERT INTO account_move (%(columns)s, partner_id, commercial_partner_id,
                                  invoice_date, invoice_date_due, name,
                                  amount_untaxed_signed, amount_residual_signed)
        SELECT %(template_columns)s, partner.id, partner.id,
               CURRENT_DATE - (age * 30 + MOD(partner.id, 40)),
               CURRENT_DATE - (age * 30 + MOD(partner.id, 40)) + 30,
               'BENCH/' || partner.id || '/' || age,
               100 + MOD(partner.id, 300),
               CASE WHEN age = 0 THEN 100 ELSE 0 END
          FROM account_move template,
               res_partner partner,
               generate_series(0, 2) AS age
         WHERE template.id = %(template)s AND partner.id IN %(partners)s
        """,
            columns=column_list,
            template_columns=template_columns,
            template=template.id,
            partners=tuple(partners.ids),
        )
    )
    env.cr.execute(
        SQL(
            """
        INSERT INTO crm_interaction (name, channel, direction, date, partner_id,
                                     commercial_partner_id, company_id, create_date,
                                     write_date)
        SELECT 'Call', 'call', 'outbound',
               NOW() - MOD(partner.id, 200) * INTERVAL '1 day',
               partner.id, partner.id, %(company)s, NOW(), NOW()
          FROM res_partner partner
         WHERE partner.id IN %(partners)s AND MOD(partner.id, 4) != 0
        """,
            company=env.company.id,
            partners=tuple(partners.ids),
        )
    )
    env.invalidate_all()
    return partners


def main(conf, db, sizes):
    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    rows = []
    for n in sizes:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            team = setup_team(env, n)
            lead_ids = create_leads(env, n)
            cr.commit()

            if n <= ODOO_MAX:
                odoo_team = team.with_context(**QUIET)
                rows.append(
                    measure(
                        env,
                        "Odoo crm.team assignment",
                        n,
                        lambda t=odoo_team: t._action_assign_leads(
                            force_quota=True, creation_delta_days=0
                        ),
                    )
                )
                placed = env["crm.lead"].search_count(
                    [("id", "in", lead_ids), ("user_id", "!=", False)]
                )
                print(f"  Odoo placed {placed} of {n} leads", flush=True)
                reset_backlog(env, lead_ids)
            else:
                print(f"  Odoo's assignment skipped above BENCH_ODOO_MAX={ODOO_MAX}")
            env["crm.assignment.rule"].create(
                {
                    "name": f"Bench {n}",
                    "team_id": team.id,
                    "distribution": "round_robin",
                }
            )
            rules = env["crm.assignment.rule"].with_context(**QUIET)
            rows.append(
                measure(env, "crm_core assignment rules", n, rules._assign_backlog)
            )
            placed = env["crm.lead"].search_count(
                [("id", "in", lead_ids), ("user_id", "!=", False)]
            )
            print(f"  crm_core placed {placed} of {n} leads", flush=True)
            cr.commit()

            partners = create_customers(env, n)
            cr.commit()
            analysis = env["crm.churn.analysis"].with_context(**QUIET)
            rows.append(
                measure(
                    env, "crm_core churn scoring", n, analysis._cron_score_customers
                )
            )
            at_risk = env["res.partner"].search_count(
                [("id", "in", partners.ids), ("churn_at_risk", "=", True)]
            )
            print(f"  churn: {at_risk} of {n} customers at risk", flush=True)
            cr.rollback()

    print_table(rows)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3:]])
