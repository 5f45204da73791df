"""Stock-aware recommendations at scale, against a naive per-customer ORM pass.

Run through bench/run.sh with crm_retail installed:

    BENCH_ADDONS=crm_retail BENCH_SCRIPT=bench_recommend.py \\
        CRM_BENCH_DB=crm_bench_reco bench/run.sh 2000 10000

For each N, in a company of its own (rolled back afterwards, so that sizes do
not add up), it creates 300 storable products in 15 categories with stock in
one warehouse (one in twenty out of stock, a staple among them) and N customers
with five posted invoices of two lines each, 10 N invoice lines (cloned in SQL
from one real posted invoice). Each customer has a taste (a category): a
staple bought every 30 days, last 30 to 39 days ago (due for reorder), and a
product of that category varying from invoice to invoice (co-purchases). Then
it times, in the same run:

- the refresh of the company's recommendations (set-based SQL: product
  affinities, co-purchase, reorder, overstock, stock; and the back-in-stock
  alerts of the reorders out of stock), for all N customers;
- ``_for_partners`` on 100 customers (the 360 and the quotation wizard's read,
  stock checked again);
- the naive way, on a sample of 100 customers: per customer, ``search_read``
  of their invoice lines, of the lines of the customers who bought the same
  products, co-purchase counted in Python, reorder rhythm in Python, and the
  free quantity of the candidates through the ORM (``free_qty`` in the
  warehouse).

The target is 100,000 customers and 1,000,000 invoice lines: what must not
grow with N is the time and the queries per customer of the refresh; the naive
pass grows with the number of customers sharing a customer's products.
"""

import os
import sys
from collections import Counter, defaultdict

import odoo
from odoo import SUPERUSER_ID, Command, api, fields
from odoo.tools import SQL, config

sys.path.insert(0, os.path.dirname(__file__))
from bench_crm import QUIET, measure, print_table

CATEGORIES = 15
PER_CATEGORY = 20
INVOICES = 5  # per customer, two lines each
SAMPLE = 100


def create_company(env, n):
    company = env["res.company"].create({"name": f"Bench recommendations {n}"})
    env["account.chart.template"].try_loading("generic_coa", company)
    env.user.company_ids += company
    env = env(context=dict(env.context, allowed_company_ids=company.ids))
    # Outside tests, a new company gets its warehouse from the stock settings.
    warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)])
    if not warehouse:
        warehouse = env["stock.warehouse"].create(
            {"name": f"Bench shop {n}", "code": "BSHOP", "company_id": company.id}
        )
    return env, warehouse


def create_products(env, warehouse):
    categories = env["product.category"].create(
        [{"name": f"Bench category {c}"} for c in range(CATEGORIES)]
    )
    products = env["product.product"].create(
        [
            {
                "name": f"Bench product {c}-{p}",
                "categ_id": categories[c].id,
                "type": "consu",
                "is_storable": True,
                "list_price": 10,
                "taxes_id": [Command.clear()],
            }
            for c in range(CATEGORIES)
            for p in range(PER_CATEGORY)
        ]
    )
    Quant = env["stock.quant"]
    for index, product in enumerate(products):
        if index % 20 != 1:  # one in twenty out of stock
            Quant._update_available_quantity(
                product, warehouse.lot_stock_id, 50 + index
            )
    return products


def create_customers(env, n, products):
    ids = []
    for start in range(0, n, 10000):
        partners = (
            env["res.partner"]
            .with_context(**QUIET)
            .create(
                [
                    {
                        "name": f"Bench customer {i}",
                        "is_company": True,
                        "email": f"customer{i}@bench.example.com",
                    }
                    for i in range(start, min(n, start + 10000))
                ]
            )
        )
        ids += partners.ids
    template = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": ids[0],
            "invoice_date": fields.Date.today(),
            "invoice_line_ids": [
                Command.create(
                    {
                        "product_id": products[0].id,
                        "price_unit": 10,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        }
    )
    template.action_post()
    env.flush_all()
    clone_moves(env, template, ids)
    clone_lines(env, template, products)
    env.invalidate_all()
    return env["res.partner"].browse(ids)


def _columns(env, model, skip):
    return [
        name
        for name, field in env[model]._fields.items()
        if field.store and field.column_type and name not in skip
    ]


def clone_moves(env, template, partner_ids):
    """INVOICES posted invoices per customer, every 30 days, the last 30 to 39
    days ago."""
    columns = _columns(
        env,
        "account.move",
        (
            "id",
            "partner_id",
            "commercial_partner_id",
            "invoice_date",
            "invoice_date_due",
            "date",
            "name",
        ),
    )
    env.cr.execute(
        SQL(
            """
        INSERT INTO account_move (%(columns)s, partner_id, commercial_partner_id,
                                  invoice_date, invoice_date_due, date, name)
        SELECT %(template_columns)s, partner.id, partner.id,
               CURRENT_DATE - (30 + age * 30 + MOD(partner.id, 10)),
               CURRENT_DATE - (30 + age * 30 + MOD(partner.id, 10)),
               CURRENT_DATE - (30 + age * 30 + MOD(partner.id, 10)),
               'BENCHRECO/' || partner.id || '/' || age
          FROM account_move template,
               res_partner partner,
               generate_series(0, %(last)s) AS age
         WHERE template.id = %(template)s AND partner.id = ANY(%(partners)s)
        """,
            columns=SQL(", ").join(SQL.identifier(c) for c in columns),
            template_columns=SQL(", ").join(
                SQL.identifier("template", c) for c in columns
            ),
            last=INVOICES - 1,
            template=template.id,
            partners=list(partner_ids),
        )
    )


def clone_lines(env, template, products):
    """Two product lines per cloned invoice: the customer's staple (the same
    on every invoice) and a product of their category varying by invoice."""
    line = template.invoice_line_ids[:1]
    columns = _columns(
        env,
        "account.move.line",
        ("id", "move_id", "product_id", "partner_id", "date", "name"),
    )
    env.cr.execute(
        SQL(
            """
        INSERT INTO account_move_line (%(columns)s, move_id, product_id,
                                       partner_id, date, name)
        SELECT %(line_columns)s, move.id,
               (%(products)s)[1 + taste * %(per_category)s
                              + CASE WHEN slot = 0
                                     THEN MOD(move.partner_id, 3)
                                     ELSE 3 + MOD(move.partner_id * 7 + age * 13, 17)
                                END],
               move.partner_id, move.date, 'Bench line'
          FROM account_move move
         CROSS JOIN LATERAL (
                SELECT SPLIT_PART(move.name, '/', 3)::integer AS age,
                       MOD(move.partner_id, %(categories)s) AS taste
               ) AS customer
         CROSS JOIN generate_series(0, 1) AS slot
          JOIN account_move_line line ON line.id = %(line)s
         WHERE move.name LIKE %(prefix)s
           AND move.company_id = %(company)s
        """,
            columns=SQL(", ").join(SQL.identifier(c) for c in columns),
            line_columns=SQL(", ").join(SQL.identifier("line", c) for c in columns),
            products=products.ids,
            per_category=PER_CATEGORY,
            categories=CATEGORIES,
            line=line.id,
            company=env.company.id,
            prefix="BENCHRECO/%",
        )
    )


def naive(env, partners, warehouse, company):
    """Per customer, with the ORM: their lines, the lines of the customers who
    bought the same products, co-purchase and reorder in Python, free quantity
    of the candidates in the warehouse."""
    Line = env["account.move.line"]
    base = [
        ("company_id", "=", company.id),
        ("move_id.move_type", "=", "out_invoice"),
        ("parent_state", "=", "posted"),
        ("display_type", "=", "product"),
    ]
    today = fields.Date.context_today(env.user)
    result = {}
    for partner in partners:
        mine = Line.search_read(
            base + [("move_id.commercial_partner_id", "=", partner.id)],
            ["product_id", "date"],
        )
        bought = {line["product_id"][0] for line in mine}
        others = Line.search_read(
            base
            + [
                ("product_id", "in", list(bought)),
                ("move_id.commercial_partner_id", "!=", partner.id),
            ],
            ["partner_id", "product_id"],
        )
        neighbours = {line["partner_id"][0] for line in others}
        their_lines = Line.search_read(
            base + [("partner_id", "in", list(neighbours))],
            ["partner_id", "product_id"],
        )
        baskets = defaultdict(set)
        for line in their_lines:
            baskets[line["partner_id"][0]].add(line["product_id"][0])
        together = Counter(
            product
            for basket in baskets.values()
            if basket & bought
            for product in basket - bought
        )
        dates = defaultdict(set)
        for line in mine:
            dates[line["product_id"][0]].add(line["date"])
        due = []
        for product, seen in dates.items():
            if len(seen) >= 3:
                interval = (max(seen) - min(seen)).days / (len(seen) - 1)
                since = (today - max(seen)).days
                if 0.9 * interval <= since <= 3 * interval:
                    due.append(product)
        candidates = [product for product, _count in together.most_common(10)] + due
        products = (
            env["product.product"]
            .browse(candidates)
            .with_context(warehouse_id=warehouse.id)
        )
        result[partner.id] = [
            product.id for product in products if product.free_qty > 0
        ][:10]
    return result


def main(conf, db, sizes):
    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    rows = []
    for n in sizes:
        with registry.cursor() as cr:
            env, warehouse = create_company(api.Environment(cr, SUPERUSER_ID, {}), n)
            company = env.company
            products = create_products(env, warehouse)
            partners = create_customers(env, n, products)
            env.flush_all()
            for table in ("account_move", "account_move_line", "res_partner"):
                cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
            lines = env.execute_query(
                SQL(
                    "SELECT COUNT(*) FROM account_move_line WHERE company_id = %s "
                    "AND display_type = 'product' AND name = 'Bench line'",
                    company.id,
                )
            )[0][0]
            print(f"  {n} customers, {lines} posted invoice lines", flush=True)

            Recommendation = env["crm.retail.recommendation"]
            counts = {}
            rows.append(
                measure(
                    env,
                    "refresh: set-based SQL, all customers",
                    n,
                    lambda r=Recommendation, c=company, out=counts: out.update(
                        r._refresh(c)
                    ),
                )
            )
            recommendations, alerts = counts[company]
            print(
                f"  {recommendations} recommendations, {alerts} back-in-stock alerts",
                flush=True,
            )
            sample = partners[:: max(1, n // SAMPLE)][:SAMPLE]
            rows.append(
                measure(
                    env,
                    f"_for_partners: {len(sample)} customers in one call",
                    len(sample),
                    lambda r=Recommendation, s=sample: r._for_partners(s),
                )
            )
            rows.append(
                measure(
                    env,
                    f"naive ORM per customer ({len(sample)} sampled)",
                    len(sample),
                    lambda e=env, s=sample, w=warehouse, c=company: naive(e, s, w, c),
                )
            )
            cr.rollback()
            print_table(rows[-3:])

    print_table(rows)
    print("\n| N | refresh ms/customer | naive ms/customer | naive / refresh |")
    print("|---|---|---|---|")
    for index in range(0, len(rows), 3):
        refresh, _read, slow = rows[index : index + 3]
        per_refresh = 1000 * refresh[2] / refresh[1]
        per_naive = 1000 * slow[2] / slow[1]
        print(
            f"| {refresh[1]} | {per_refresh:.3f} | {per_naive:.1f} | "
            f"{per_naive / per_refresh:.0f}x |"
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3:]])
