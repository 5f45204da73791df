"""Segment refresh at scale, against one raw SQL aggregation of the same invoices.

Run through bench/run.sh with crm_marketing installed:

    BENCH_ADDONS=crm_marketing BENCH_SCRIPT=bench_segment.py \\
        CRM_BENCH_DB=crm_bench_seg bench/run.sh 10000

For each N it creates a company of its own and N customers with one to five
posted invoices each, three on average (cloned in SQL from one real posted
invoice: the refresh reads invoice headers only), then times in the same run:

- the baseline: one SQL pass aggregating those invoices per customer (count,
  first and last date, net untaxed amount), fetched;
- the first refresh of an RFM segment (two cells and three lifecycle stages),
  which computes the company's RFM analysis on the way and fills the members;
- the same refresh again the same day (no member changes);
- the next day's refresh, after 1% of the customers bought today;
- the refresh of a filter-only segment (every customer, no invoice criteria).

The target is a refresh within 3x of the baseline; the number that must not
grow with N is queries per record.
"""

import sys

from bench_crm import QUIET, measure, print_table

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.tools import SQL, config


def create_company(env, n):
    company = env["res.company"].create({"name": f"Bench segments {n}"})
    env["account.chart.template"].try_loading("generic_coa", company)
    env.user.company_ids += company
    return env(context=dict(env.context, allowed_company_ids=company.ids))


def create_customers(env, n):
    """N customers, each with 1 to 5 posted invoices of varied dates and amounts."""
    ids = []
    for start in range(0, n, 10000):
        partners = (
            env["res.partner"]
            .with_context(**QUIET)
            .create(
                [
                    {"name": f"Bench customer {i}", "is_company": True}
                    for i in range(start, min(n, start + 10000))
                ]
            )
        )
        ids += partners.ids
    template = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": ids[0],
            "invoice_date": "2026-01-01",
            "invoice_line_ids": [Command.create({"name": "x", "price_unit": 100})],
        }
    )
    template.action_post()
    invoice_customers(
        env,
        template,
        ids,
        last_age=SQL("MOD(partner.id, 5)"),
        days_ago=SQL("age * 60 + MOD(partner.id * 7, 500)"),
        batch="history",
    )
    return env["res.partner"].browse(ids), template


def invoice_customers(env, template, partner_ids, last_age, days_ago, batch):
    """Clone ``template`` into posted invoices of ``partner_ids``: one per age
    from 0 to ``last_age``, dated ``days_ago`` before today (SQL expressions of
    ``partner`` and ``age``)."""
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
               CURRENT_DATE - (%(days_ago)s),
               CURRENT_DATE - (%(days_ago)s) + 30,
               'BENCH/' || partner.id || '/' || age || '/' || %(batch)s,
               100 + MOD(partner.id * 13 + age * 31, 5000),
               0
          FROM account_move template,
               res_partner partner,
               generate_series(0, %(last_age)s) AS age
         WHERE template.id = %(template)s AND partner.id = ANY(%(partners)s)
        """,
            columns=column_list,
            template_columns=template_columns,
            days_ago=days_ago,
            last_age=last_age,
            batch=batch,
            template=template.id,
            partners=list(partner_ids),
        )
    )
    env.invalidate_all()


def aggregate(env, company):
    """The baseline: one aggregation pass over the company's posted invoices."""
    return env.execute_query(
        SQL(
            """
        SELECT move.commercial_partner_id,
               COUNT(*) FILTER (WHERE move.move_type = 'out_invoice'),
               MIN(move.invoice_date), MAX(move.invoice_date),
               SUM(move.amount_untaxed_signed)
          FROM account_move move
         WHERE move.company_id = %s
           AND move.move_type IN ('out_invoice', 'out_refund')
           AND move.state = 'posted'
         GROUP BY move.commercial_partner_id
        """,
            company.id,
        )
    )


def main(conf, db, sizes):
    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    rows, ratios = [], []
    for n in sizes:
        with registry.cursor() as cr:
            env = create_company(api.Environment(cr, SUPERUSER_ID, {}), n)
            company = env.company
            partners, template = create_customers(env, n)
            cr.commit()
            invoices = env["account.move"].search_count(
                [("partner_id", "in", partners.ids), ("state", "=", "posted")]
            )
            print(f"  {n} customers, {invoices} posted invoices", flush=True)
            cr.execute("ANALYZE account_move")
            cr.execute("ANALYZE res_partner")

            criteria = env["crm.marketing.segment.criterion"].search([])
            rfm_segment = env["crm.marketing.segment"].create(
                {
                    "name": f"Bench RFM {n}",
                    "rfm_cell_ids": [
                        Command.set(
                            criteria.filtered(
                                lambda c: (
                                    c.code in ("champions", "loyal")
                                    and c.kind == "rfm_cell"
                                )
                            ).ids
                        )
                    ],
                    "lifecycle_ids": [
                        Command.set(
                            criteria.filtered(
                                lambda c: (
                                    c.code in ("new", "active", "at_risk")
                                    and c.kind == "lifecycle"
                                )
                            ).ids
                        )
                    ],
                }
            )
            filter_segment = env["crm.marketing.segment"].create(
                {
                    "name": f"Bench filter {n}",
                    "domain": repr(
                        [
                            ("name", "=like", "Bench customer %"),
                            ("id", ">=", partners.ids[0]),
                        ]
                    ),
                }
            )
            # Warm the caches the first query of each kind would pay for.
            aggregate(env, company)
            cr.commit()

            baseline = measure(
                env,
                "baseline: one SQL aggregation",
                n,
                lambda e=env, c=company: aggregate(e, c),
            )
            first = measure(
                env, "refresh RFM segment (first, no members)", n, rfm_segment._refresh
            )
            again = measure(
                env, "refresh RFM segment again (same day)", n, rfm_segment._refresh
            )
            # The next day's work: 1% of the customers bought today.
            invoice_customers(
                env,
                template,
                partners.ids[::100],
                last_age=SQL("0"),
                days_ago=SQL("0"),
                batch="today",
            )
            daily = measure(
                env, "refresh RFM segment after 1% bought", n, rfm_segment._refresh
            )
            plain = measure(
                env, "refresh filter-only segment", n, filter_segment._refresh
            )
            rows += [baseline, first, again, daily, plain]
            rfm_rows = env["crm.marketing.rfm"].search_count(
                [("company_id", "=", company.id)]
            )
            print(
                f"  RFM rows {rfm_rows}, RFM segment {rfm_segment.member_count} "
                f"members, filter segment {filter_segment.member_count}",
                flush=True,
            )
            ratios += [
                (n, label, seconds / baseline[2])
                for label, _n, seconds, *_rest in (first, again, daily, plain)
            ]
            cr.rollback()

    print_table(rows)
    print("\n| N | refresh | x baseline |\n|---|---|---|")
    for n, label, ratio in ratios:
        print(f"| {n} | {label} | {ratio:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3:]])
