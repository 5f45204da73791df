"""Loyalty from invoices: the cost of posting invoices with a program active.

Run through ``BENCH_ADDONS=crm_retail BENCH_SCRIPT=bench_loyalty.py bench/run.sh 2000``.
For each N, 2N draft invoices of two lines are created for N/10 customers; N
are posted one by one (``action_post``, as a clerk does) with no loyalty
program, then the other N with a program earning on invoices, with tiers and
expiry. Prints seconds and queries per invoice for both, whose difference is
the ledger's overhead: it must stay flat as N grows.
"""

import os
import sys

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.tools import config

sys.path.insert(0, os.path.dirname(__file__))
from bench_crm import QUIET, measure, print_table


def make_invoices(env, customers, product, count):
    return (
        env["account.move"]
        .with_context(**QUIET)
        .create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": customers[i % len(customers)].id,
                    "invoice_date": "2026-06-01",
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "quantity": 2,
                                "price_unit": 15.0,
                                "tax_ids": False,
                            }
                        ),
                        Command.create(
                            {
                                "product_id": product.id,
                                "quantity": 1,
                                "price_unit": 7.5,
                                "tax_ids": False,
                            }
                        ),
                    ],
                }
                for i in range(count)
            ]
        )
    )


def post_one_by_one(invoices):
    for invoice in invoices:
        invoice.action_post()


def main(conf, db, sizes):
    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    rows = []
    for n in sizes:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, dict(QUIET))
            company = env.company
            if not company.chart_template:
                env["account.chart.template"].try_loading("generic_coa", company, False)
            program = env["loyalty.program"].create(
                {
                    "name": "Bench Rewards",
                    "program_type": "loyalty",
                    "applies_on": "both",
                    "trigger": "auto",
                    "company_id": company.id,
                    "crm_earn_from_invoices": True,
                    "crm_points_validity_months": 12,
                    "active": False,
                    "rule_ids": [
                        Command.create(
                            {"reward_point_mode": "money", "reward_point_amount": 1}
                        )
                    ],
                    "reward_ids": [
                        Command.create(
                            {"reward_type": "discount", "required_points": 100}
                        )
                    ],
                    "crm_tier_ids": [
                        Command.create({"name": "Bronze", "threshold": 0}),
                        Command.create(
                            {"name": "Gold", "threshold": 1000, "multiplier": 2}
                        ),
                    ],
                }
            )
            customers = env["res.partner"].create(
                [{"name": f"Bench shopper {i}"} for i in range(max(n // 10, 1))]
            )
            product = env["product.product"].create(
                {"name": "Bench beans", "taxes_id": False}
            )
            invoices = make_invoices(env, customers, product, 2 * n)
            without, with_program = invoices[:n], invoices[n:]
            # Fresh statistics, as a live database has: the planner otherwise
            # takes the tables for the empty ones they were.
            env.flush_all()
            cr.execute("ANALYZE account_move, account_move_line, res_partner")
            rows.append(
                measure(
                    env,
                    "post invoices, no loyalty program",
                    n,
                    lambda m=without: post_one_by_one(m),
                )
            )
            program.active = True
            rows.append(
                measure(
                    env,
                    "post invoices, program earning on invoices",
                    n,
                    lambda m=with_program: post_one_by_one(m),
                )
            )
            cards = env["loyalty.card"].search([("program_id", "=", program.id)])
            points = sum(cards.mapped("points"))
            print(f"  {len(cards)} cards, {points:.0f} points for {n} invoices")
            cr.rollback()
    print_table(rows, digits=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3:]])
