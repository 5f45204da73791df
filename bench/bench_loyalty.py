"""Loyalty from invoices: the cost of posting invoices with a program active.

Run through ``BENCH_ADDONS=crm_retail BENCH_SCRIPT=bench_loyalty.py bench/run.sh 2000``.
For each N, 2N draft invoices of two lines are created for N/10 customers and
posted one by one (``action_post``, as a clerk does), alternately by chunks of
50 with no loyalty program and with a program earning on invoices (tiers and
expiry on), so that both see the same database. Prints seconds and queries per
invoice for both, and for the ledger hook alone (``_crm_loyalty_post``, timed
inside the posts with the program): its cost per invoice must stay flat as N
grows.
"""

import os
import sys
import time

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


CHUNK = 50


def post_one_by_one(invoices):
    for invoice in invoices:
        invoice.action_post()


def time_the_hook(env, stats):
    """Wrap the ledger hook to add its seconds and queries to
    ``stats[stats["active"]]``."""
    Move = type(env["account.move"])
    hook = Move._crm_loyalty_post

    def timed(self):
        queries, start = self.env.cr.sql_log_count, time.perf_counter()
        hook(self)
        self.env.flush_all()
        stats[stats["active"]][0] += time.perf_counter() - start
        stats[stats["active"]][1] += self.env.cr.sql_log_count - queries

    Move._crm_loyalty_post = timed
    return lambda: setattr(Move, "_crm_loyalty_post", hook)


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
            totals = {False: [0.0, 0], True: [0.0, 0]}
            hook = {False: [0.0, 0], True: [0.0, 0], "active": False}
            restore = time_the_hook(env, hook)
            try:
                for start in range(0, n, CHUNK):
                    for active, moves in ((False, without), (True, with_program)):
                        program.active = hook["active"] = active
                        chunk = moves[start : start + CHUNK]
                        _label, _n, seconds, _rate, per = measure(
                            env, "", len(chunk), lambda m=chunk: post_one_by_one(m)
                        )
                        totals[active][0] += seconds
                        totals[active][1] += per * len(chunk)
            finally:
                restore()
            for stats, label in (
                (totals[False], "post invoices, no loyalty program"),
                (hook[False], "  of which the ledger hook (no program)"),
                (totals[True], "post invoices, program earning on invoices"),
                (hook[True], "  of which the ledger hook"),
            ):
                seconds, queries = stats
                rows.append((label, n, seconds, n / seconds, queries / n))
            cards = env["loyalty.card"].search([("program_id", "=", program.id)])
            points = sum(cards.mapped("points"))
            print(f"  {len(cards)} cards, {points:.0f} points for {n} invoices")
            cr.rollback()
    print_table(rows, digits=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3:]])
