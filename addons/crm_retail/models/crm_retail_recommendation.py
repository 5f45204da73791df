import logging
import zlib
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, format_date, formatLang

_logger = logging.getLogger(__name__)

# Defaults of the settings (ir.config_parameter) and fixed sizes of the refresh.
INCOMING_HORIZON_DAYS = 7
OVERSTOCK_COVER_DAYS = 120
SALES_WINDOW_DAYS = 90
TOP_RELATED = 10  # related products kept per product (co-purchase)
TOP_PER_KIND = 5  # recommendations kept per customer and kind
# Incoming stock moves that will arrive unless cancelled.
INCOMING_STATES = ("confirmed", "waiting", "assigned", "partially_available")
# First key of the transaction-level advisory lock of a company's refresh.
LOCK_KEY = zlib.crc32(b"crm.retail.recommendation") & 0x7FFFFFFF
# The temporary tables of a company's refresh (dropped after it).
TEMP_TABLES = {
    name: SQL.identifier(f"crm_retail_reco_{name}")
    for name in ("eligible", "bought", "customer", "available")
}
KINDS = [
    ("co_purchase", "Bought Together"),
    ("reorder", "Due for Reorder"),
    ("overstock", "Overstock"),
]


class CrmRetailRecommendation(models.Model):
    """What to offer a customer, and why: stored rows refreshed daily in a few
    set-based queries, a chunk of customers at a time (batch "recommendations"),
    or for all the customers of a company at once (a manager's refresh).

    Three kinds: products that the customers who bought the same things also
    bought (co-purchase), products the customer buys at a regular rhythm and is
    due to buy again (reorder), and overstocked products of the categories the
    customer buys (overstock). Only storable products with free quantity in the
    customer's warehouse, now or arriving within the incoming horizon, are kept;
    the stock is checked again when the recommendations are read
    (:meth:`_for_partners`).
    """

    _name = "crm.retail.recommendation"
    _description = "Product Recommendation"
    _order = "score desc, id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    product_id = fields.Many2one(
        "product.product",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.company,
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        readonly=True,
        ondelete="cascade",
        check_company=True,
        help="The customer's warehouse: the one of their last sale order, else the "
        "company's first warehouse. The product has free quantity there.",
    )
    kind = fields.Selection(
        KINDS,
        required=True,
        readonly=True,
    )
    score = fields.Float(
        readonly=True,
        digits=(16, 4),
        aggregator="max",
        help="From 0 to 1, higher first. Bought together: share of the buyers of "
        "the product they bought who also bought this one. Reorder: 1 when the "
        "usual interval has just passed, lower as it gets early or late. "
        "Overstock: share of the stock beyond the cover days.",
    )
    reason = fields.Char(compute="_compute_reason")
    source_product_id = fields.Many2one(
        "product.product",
        string="Because They Bought",
        readonly=True,
        ondelete="set null",
    )
    customer_count = fields.Integer(
        readonly=True,
        aggregator="max",
        help="Customers who bought both products.",
    )
    interval_days = fields.Integer(
        string="Usual Interval (days)",
        readonly=True,
        aggregator="avg",
    )
    last_date = fields.Date(string="Last Bought", readonly=True)
    free_qty = fields.Float(
        string="Free Quantity",
        readonly=True,
        digits="Product Unit of Measure",
        aggregator=None,
        help="Free quantity in the warehouse at the refresh, incoming stock "
        "within the horizon included.",
    )

    @api.depends(
        "kind",
        "product_id",
        "source_product_id",
        "customer_count",
        "interval_days",
        "last_date",
        "free_qty",
    )
    @api.depends_context("lang")
    def _compute_reason(self):
        for reco in self:
            product = reco.product_id.with_context(display_default_code=False)
            if reco.kind == "co_purchase":
                reco.reason = self.env._(
                    "Customers who buy %(bought)s also buy %(product)s "
                    "(%(count)s customers)",
                    bought=reco.source_product_id.with_context(
                        display_default_code=False
                    ).display_name,
                    product=product.display_name,
                    count=reco.customer_count,
                )
            elif reco.kind == "reorder":
                reco.reason = self.env._(
                    "Bought every ~%(days)s days, last on %(date)s",
                    days=reco.interval_days,
                    date=format_date(self.env, reco.last_date),
                )
            elif reco.kind == "overstock":
                reco.reason = self.env._(
                    "Overstocked: %(qty)s in stock, they buy %(category)s",
                    qty=formatLang(self.env, reco.free_qty, digits=0),
                    category=reco.product_id.categ_id.name,
                )
            else:
                reco.reason = False

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_refresh(self):
        """Refresh the recommendations of the user's companies now (managers)."""
        if not self.env.user.has_group("crm_retail.group_retail_manager"):
            raise AccessError(
                self.env._("Only retail managers can refresh the recommendations.")
            )
        self._refresh(self.env.companies)
        return {
            "type": "ir.actions.client",
            "tag": "soft_reload",
        }

    # ------------------------------------------------------------
    # Reading, with the stock checked again
    # ------------------------------------------------------------

    @api.model
    def _for_partners(self, partners, limit=5, company=None):
        """{partner id: recommendations} for display, best first, at most
        ``limit`` per partner and one per product, for ``company`` (the current
        company by default). A contact gets the recommendations of its company.

        The free quantity of every recommended product is checked again in the
        recommendation's warehouse, in one query for all the partners: a product
        sold out since the refresh is not offered. A constant number of queries
        whatever the number of partners."""
        company = company or self.env.company
        commercial_ids = {
            partner.id: partner.commercial_partner_id.id for partner in partners
        }
        recommendations = self.search_fetch(
            [
                ("partner_id", "in", list(set(commercial_ids.values()))),
                ("company_id", "=", company.id),
            ],
            ["partner_id", "product_id", "warehouse_id", "kind", "score"],
        )
        available = self._available_pairs(
            {
                (reco.warehouse_id.id, reco.product_id.id)
                for reco in recommendations
                if reco.warehouse_id
            }
        )
        kept = defaultdict(list)
        seen = set()
        for reco in recommendations:  # best first (_order)
            partner_id, product_id = reco.partner_id.id, reco.product_id.id
            if (
                (reco.warehouse_id.id, product_id) not in available
                or (partner_id, product_id) in seen
                or len(kept[partner_id]) >= limit
            ):
                continue
            seen.add((partner_id, product_id))
            kept[partner_id].append(reco.id)
        return {
            partner_id: self.browse(kept[commercial_id])
            for partner_id, commercial_id in commercial_ids.items()
        }

    @api.model
    def _available_pairs(self, pairs):
        """The (warehouse id, product id) of ``pairs`` with free quantity."""
        if not pairs:
            return set()
        warehouse_ids = sorted({warehouse_id for warehouse_id, _product in pairs})
        product_ids = sorted({product_id for _warehouse, product_id in pairs})
        self._flush_stock()
        # Raw SQL: store staff may have no right on stock quants and moves; only
        # which of their recommendations stay leaves this method, no quantity.
        rows = self.env.execute_query(
            SQL(
                """
                SELECT free.warehouse_id, free.product_id
                  FROM (%(free)s) free
                 WHERE free.qty > 0
                """,
                free=self._free_qty_query(
                    SQL(
                        """
                        SELECT warehouse.id, view.parent_path
                          FROM stock_warehouse warehouse
                          JOIN stock_location view
                            ON view.id = warehouse.view_location_id
                         WHERE warehouse.id = ANY(%s)
                        """,
                        warehouse_ids,
                    ),
                    product_ids=product_ids,
                ),
            )
        )
        return {tuple(row) for row in rows} & set(pairs)

    # ------------------------------------------------------------
    # Settings and stock
    # ------------------------------------------------------------

    @api.model
    def _get_setting(self, key, default, minimum):
        # sudo: reading a setting of this feature, which users may not read.
        value = self.env["ir.config_parameter"].sudo().get_param(key)
        try:
            return max(minimum, int(value)) if value not in (None, False) else default
        except ValueError:
            return default

    @api.model
    def _incoming_horizon_days(self):
        return self._get_setting(
            "crm_retail.incoming_horizon_days", INCOMING_HORIZON_DAYS, 0
        )

    @api.model
    def _overstock_cover_days(self):
        return self._get_setting(
            "crm_retail.overstock_cover_days", OVERSTOCK_COVER_DAYS, 1
        )

    @api.model
    def _flush_stock(self):
        self.env["stock.quant"].flush_model(
            ["product_id", "location_id", "quantity", "reserved_quantity"]
        )
        self.env["stock.move"].flush_model(
            [
                "product_id",
                "product_qty",
                "location_id",
                "location_dest_id",
                "state",
                "date",
            ]
        )
        self.env["stock.location"].flush_model(["parent_path", "usage"])
        self.env["stock.warehouse"].flush_model(["view_location_id", "active"])

    @api.model
    def _free_qty_query(self, warehouses, product_ids=None):
        """SQL of the free quantity per (warehouse_id, product_id, qty):
        on hand minus reserved in the internal locations under the warehouse,
        plus the stock moves arriving into it before today + the incoming horizon
        (none when the horizon is 0). ``warehouses`` is SQL selecting
        (id, parent_path of the view location); ``product_ids`` (ids, or SQL of a
        parenthesized subquery) restricts the products."""
        horizon_days = self._incoming_horizon_days()
        horizon = fields.Datetime.to_datetime(fields.Date.context_today(self))
        horizon += timedelta(days=horizon_days)
        quant_products = move_products = SQL("TRUE")
        if product_ids is not None:
            if not isinstance(product_ids, SQL):
                product_ids = SQL("(SELECT UNNEST(%s::integer[]))", list(product_ids))
            quant_products = SQL("quant.product_id IN %s", product_ids)
            move_products = SQL("move.product_id IN %s", product_ids)
        return SQL(
            """
            SELECT stock.warehouse_id, stock.product_id, SUM(stock.qty) AS qty
              FROM (
                    SELECT warehouse.id AS warehouse_id, quant.product_id,
                           quant.quantity - quant.reserved_quantity AS qty
                      FROM stock_quant quant
                      JOIN stock_location location
                        ON location.id = quant.location_id
                       AND location.usage = 'internal'
                      JOIN (%(warehouses)s) warehouse (id, parent_path)
                        ON location.parent_path LIKE warehouse.parent_path || %(any)s
                     WHERE %(quant_products)s
                 UNION ALL
                    SELECT warehouse.id, move.product_id, move.product_qty
                      FROM stock_move move
                      JOIN stock_location destination
                        ON destination.id = move.location_dest_id
                      JOIN stock_location source ON source.id = move.location_id
                      JOIN (%(warehouses)s) warehouse (id, parent_path)
                        ON destination.parent_path LIKE warehouse.parent_path || %(any)s
                       AND source.parent_path NOT LIKE warehouse.parent_path || %(any)s
                     WHERE %(incoming)s
                       AND move.state IN %(states)s
                       AND move.date < %(horizon)s
                       AND %(move_products)s
                   ) stock
             GROUP BY stock.warehouse_id, stock.product_id
            """,
            warehouses=warehouses,
            quant_products=quant_products,
            move_products=move_products,
            incoming=SQL("TRUE") if horizon_days else SQL("FALSE"),
            states=INCOMING_STATES,
            horizon=horizon,
            any="%",
        )

    # ------------------------------------------------------------
    # Refresh
    # ------------------------------------------------------------

    @api.model
    def _refresh(self, companies):
        """Recompute the recommendations of ``companies``, each in set-based
        SQL. A company whose refresh is running in another transaction, or whose
        customers a chunk of the batch refreshes, is skipped (transaction-level
        advisory lock). Returns
        {company: (recommendations, new back-in-stock alerts)}."""
        locked = companies.filtered(self._try_lock)
        for company in companies - locked:
            _logger.info(
                "Recommendations of company %s are being refreshed by another "
                "transaction: skipped.",
                company.id,
            )
        if not locked:
            return {}
        self._flush_sources()
        self.env["crm.retail.product.affinity"]._refresh_view()
        result = {company: self._refresh_company(company) for company in locked}
        self.invalidate_model()
        self.env["crm.retail.stock.alert"].invalidate_model()
        return result

    @api.model
    def _refresh_partners(self, partners):
        """Recompute the recommendations of ``partners`` (commercial entities) in
        each company they bought from or have recommendations in: the same
        statements as a company's refresh, on these customers' purchases only,
        so that each customer gets what a whole company's refresh gives them.

        Chunks of the batch share a company (shared advisory lock); a company
        that a full refresh holds in another transaction is skipped, as that
        refresh covers these customers. Returns
        {company: (recommendations, new back-in-stock alerts)}."""
        if not partners:
            return {}
        self._flush_sources()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT company_id FROM account_move
                 WHERE commercial_partner_id = ANY(%(partners)s)
                   AND move_type = 'out_invoice' AND state = 'posted'
                 UNION
                SELECT company_id FROM crm_retail_recommendation
                 WHERE partner_id = ANY(%(partners)s)
                 ORDER BY 1
                """,
                partners=partners.ids,
            )
        )
        companies = self.env["res.company"].browse(row[0] for row in rows)
        locked = companies.filtered(lambda company: self._try_lock(company, True))
        for company in companies - locked:
            _logger.info(
                "Recommendations of company %s are being refreshed by another "
                "transaction: the %s customer(s) of this chunk are skipped.",
                company.id,
                len(partners),
            )
        result = {
            company: self._refresh_company(company, partners) for company in locked
        }
        self.invalidate_model()
        self.env["crm.retail.stock.alert"].invalidate_model()
        return result

    @api.model
    def _try_lock(self, company, shared=False):
        """Hold the company's refresh for the transaction: exclusively for a
        full refresh, shared by the chunks of the batch; False when another
        transaction holds it in a conflicting mode."""
        function = (
            SQL("pg_try_advisory_xact_lock_shared")
            if shared
            else SQL("pg_try_advisory_xact_lock")
        )
        return self.env.execute_query(
            SQL("SELECT %s(%s, %s)", function, LOCK_KEY, company.id)
        )[0][0]

    @api.model
    def _flush_sources(self):
        self.env["account.move"].flush_model(
            [
                "company_id",
                "commercial_partner_id",
                "move_type",
                "state",
                "invoice_date",
            ]
        )
        self.env["account.move.line"].flush_model(
            ["move_id", "product_id", "display_type"]
        )
        self.env["product.product"].flush_model(["product_tmpl_id", "active"])
        self.env["product.template"].flush_model(
            ["categ_id", "active", "sale_ok", "is_storable", "company_id"]
        )
        self.env["sale.order"].flush_model(
            ["partner_id", "company_id", "state", "warehouse_id", "date_order"]
        )
        self.env["res.partner"].flush_model(
            ["commercial_partner_id", "email_normalized"]
        )
        self.env["mail.blacklist"].flush_model(["email", "active"])
        self._flush_stock()
        self.flush_model()
        self.env["crm.retail.stock.alert"].flush_model()

    @api.model
    def _refresh_company(self, company, partners=None):
        """Replace the company's recommendations, those of ``partners`` only
        when given; create the "bought" back-in-stock alerts of the reorders that
        are out of stock. Returns (recommendations, new alerts).

        The intermediate sets (eligible products, what each customer bought,
        each customer's warehouse, the free stock) go into temporary tables,
        analyzed, so that PostgreSQL plans the final statement on their real
        sizes: the estimates of CTEs are off by orders of magnitude and lead to
        nested loops that grow with the square of the customers."""
        self.env.cr.execute(
            SQL(
                "DELETE FROM crm_retail_recommendation WHERE company_id = %s AND %s",
                company.id,
                self._partner_filter(SQL.identifier("partner_id"), partners),
            )
        )
        for query in self._refresh_prepare(company, partners):
            self.env.cr.execute(query)
        (recommendations, alerts) = self.env.execute_query(
            self._refresh_query(company)
        )[0]
        self.env.cr.execute(SQL("DROP TABLE %s", SQL(", ").join(TEMP_TABLES.values())))
        # A chunk's counts are the batch's progress, not worth a line each.
        _logger.log(
            logging.DEBUG if partners is not None else logging.INFO,
            "Recommendations of company %s: %s rows, %s new back-in-stock alerts",
            company.id,
            recommendations,
            alerts,
        )
        return recommendations, alerts

    @api.model
    def _partner_filter(self, column, partners):
        """SQL restricting ``column`` to ``partners``; TRUE when None."""
        if partners is None:
            return SQL("TRUE")
        return SQL("%s = ANY(%s)", column, partners.ids)

    @api.model
    def _refresh_prepare(self, company, partners=None):
        """The statements filling the temporary tables of the refresh, the
        purchases of ``partners`` only when given."""
        default_warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", company.id)], limit=1
        )
        return [
            SQL(
                """
            CREATE TEMPORARY TABLE %(eligible)s ON COMMIT DROP AS
            SELECT product.id AS product_id, template.categ_id
              FROM product_product product
              JOIN product_template template ON template.id = product.product_tmpl_id
             WHERE product.active AND template.active AND template.sale_ok
               AND template.is_storable
               AND (template.company_id IS NULL OR template.company_id = %(company)s)
                """,
                eligible=TEMP_TABLES["eligible"],
                company=company.id,
            ),
            SQL(
                """
            CREATE TEMPORARY TABLE %(bought)s ON COMMIT DROP AS
            SELECT move.commercial_partner_id AS partner_id, line.product_id,
                   COUNT(DISTINCT move.invoice_date) AS dates,
                   MIN(move.invoice_date) AS first_date,
                   MAX(move.invoice_date) AS last_date
              FROM account_move move
              JOIN account_move_line line ON line.move_id = move.id
             WHERE move.company_id = %(company)s
               AND move.move_type = 'out_invoice'
               AND move.state = 'posted'
               AND move.invoice_date IS NOT NULL
               AND line.display_type = 'product'
               AND line.product_id IS NOT NULL
               AND %(partners)s
             GROUP BY move.commercial_partner_id, line.product_id
                """,
                bought=TEMP_TABLES["bought"],
                company=company.id,
                partners=self._partner_filter(
                    SQL("move.commercial_partner_id"), partners
                ),
            ),
            SQL(
                "CREATE UNIQUE INDEX ON %s (partner_id, product_id)",
                TEMP_TABLES["bought"],
            ),
            SQL(
                """
            CREATE TEMPORARY TABLE %(customer)s ON COMMIT DROP AS
            WITH last_order AS (
                SELECT DISTINCT ON (partner.commercial_partner_id)
                       partner.commercial_partner_id AS partner_id,
                       sale.warehouse_id
                  FROM sale_order sale
                  JOIN res_partner partner ON partner.id = sale.partner_id
                  JOIN stock_warehouse warehouse
                    ON warehouse.id = sale.warehouse_id AND warehouse.active
                 WHERE sale.company_id = %(company)s AND sale.state != 'cancel'
                   AND %(partners)s
                 ORDER BY partner.commercial_partner_id, sale.date_order DESC,
                          sale.id DESC
            )
            SELECT buyer.partner_id,
                   COALESCE(last_order.warehouse_id, %(default_warehouse)s)
                       AS warehouse_id
              FROM (SELECT DISTINCT partner_id FROM %(bought)s) buyer
              LEFT JOIN last_order ON last_order.partner_id = buyer.partner_id
                """,
                customer=TEMP_TABLES["customer"],
                bought=TEMP_TABLES["bought"],
                company=company.id,
                partners=self._partner_filter(
                    SQL("partner.commercial_partner_id"), partners
                ),
                default_warehouse=default_warehouse.id or None,
            ),
            SQL(
                """
            CREATE TEMPORARY TABLE %(available)s ON COMMIT DROP AS
            WITH warehouse AS (
                SELECT warehouse.id, view.parent_path
                  FROM stock_warehouse warehouse
                  JOIN stock_location view ON view.id = warehouse.view_location_id
                 WHERE warehouse.id IN (SELECT warehouse_id FROM %(customer)s)
            )
            SELECT free.warehouse_id, free.product_id, free.qty
              FROM (%(free)s) free
             WHERE free.qty > 0
               AND free.product_id IN (SELECT product_id FROM %(eligible)s)
                """,
                available=TEMP_TABLES["available"],
                customer=TEMP_TABLES["customer"],
                eligible=TEMP_TABLES["eligible"],
                free=self._free_qty_query(SQL("SELECT id, parent_path FROM warehouse")),
            ),
            SQL("ANALYZE %s", SQL(", ").join(TEMP_TABLES.values())),
        ]

    @api.model
    def _refresh_query(self, company):
        """One statement on the temporary tables: the company's recommendations
        inserted, the "bought" alerts inserted, their counts selected."""
        today = fields.Date.context_today(self)
        now = fields.Datetime.now()
        return SQL(
            """
        WITH affinity AS (
            SELECT ranked.product_id, ranked.related_product_id,
                   ranked.customer_count, ranked.confidence
              FROM (
                    SELECT affinity.product_id, affinity.related_product_id,
                           affinity.customer_count, affinity.confidence,
                           ROW_NUMBER() OVER (
                               PARTITION BY affinity.product_id
                               ORDER BY affinity.customer_count DESC,
                                        affinity.related_product_id
                           ) AS rank
                      FROM crm_retail_product_affinity affinity
                      JOIN %(eligible)s eligible
                        ON eligible.product_id = affinity.related_product_id
                     WHERE affinity.company_id = %(company)s
                   ) ranked
             WHERE ranked.rank <= %(top_related)s
        ),
        co_purchase AS (
            SELECT bought.partner_id, affinity.related_product_id AS product_id,
                   MAX(affinity.confidence) AS score,
                   (ARRAY_AGG(affinity.product_id
                              ORDER BY affinity.customer_count DESC,
                                       affinity.product_id))[1]
                       AS source_product_id,
                   MAX(affinity.customer_count) AS customer_count
              FROM %(bought)s bought
              JOIN affinity ON affinity.product_id = bought.product_id
             WHERE NOT EXISTS (
                       SELECT 1 FROM %(bought)s mine
                        WHERE mine.partner_id = bought.partner_id
                          AND mine.product_id = affinity.related_product_id
                   )
             GROUP BY bought.partner_id, affinity.related_product_id
        ),
        rhythm AS (
            SELECT bought.partner_id, bought.product_id, bought.last_date,
                   (bought.last_date - bought.first_date)::float
                       / (bought.dates - 1) AS interval_days,
                   (%(today)s::date - bought.last_date) AS days_since
              FROM %(bought)s bought
              JOIN %(eligible)s eligible ON eligible.product_id = bought.product_id
             WHERE bought.dates >= 3
        ),
        due AS MATERIALIZED (
            SELECT rhythm.partner_id, rhythm.product_id, rhythm.last_date,
                   rhythm.interval_days,
                   GREATEST(
                       0.0,
                       1 - ABS(rhythm.days_since / rhythm.interval_days - 1) / 2
                   ) AS score
              FROM rhythm
             WHERE rhythm.days_since >= 0.9 * rhythm.interval_days
               AND rhythm.days_since <= 3 * rhythm.interval_days
        ),
        warehouse AS (
            SELECT warehouse.id, view.parent_path
              FROM stock_warehouse warehouse
              JOIN stock_location view ON view.id = warehouse.view_location_id
             WHERE warehouse.id IN (SELECT warehouse_id FROM %(customer)s)
        ),
        sales AS (
            SELECT warehouse.id AS warehouse_id, move.product_id,
                   SUM(move.product_qty) AS qty
              FROM stock_move move
              JOIN stock_location source ON source.id = move.location_id
              JOIN warehouse ON source.parent_path LIKE warehouse.parent_path || %(any)s
              JOIN stock_location destination
                ON destination.id = move.location_dest_id
               AND destination.usage = 'customer'
             WHERE move.state = 'done' AND move.date >= %(sales_since)s
             GROUP BY warehouse.id, move.product_id
        ),
        overstocked AS (
            SELECT available.warehouse_id, available.product_id, eligible.categ_id,
                   1 - COALESCE(sales.qty, 0) * %(cover_days)s / %(window)s
                       / available.qty AS score
              FROM %(available)s available
              JOIN %(eligible)s eligible ON eligible.product_id = available.product_id
              LEFT JOIN sales
                ON sales.warehouse_id = available.warehouse_id
               AND sales.product_id = available.product_id
             WHERE available.qty
                   > COALESCE(sales.qty, 0) * %(cover_days)s / %(window)s
        ),
        customer_category AS (
            SELECT DISTINCT bought.partner_id, template.categ_id
              FROM %(bought)s bought
              JOIN product_product product ON product.id = bought.product_id
              JOIN product_template template ON template.id = product.product_tmpl_id
        ),
        overstock AS (
            SELECT customer.partner_id, overstocked.product_id, overstocked.score
              FROM %(customer)s customer
              JOIN customer_category
                ON customer_category.partner_id = customer.partner_id
              JOIN overstocked
                ON overstocked.warehouse_id = customer.warehouse_id
               AND overstocked.categ_id = customer_category.categ_id
             WHERE NOT EXISTS (
                       SELECT 1 FROM %(bought)s mine
                        WHERE mine.partner_id = customer.partner_id
                          AND mine.product_id = overstocked.product_id
                   )
        ),
        candidate AS (
            SELECT partner_id, product_id, 'co_purchase' AS kind, score,
                   source_product_id, customer_count,
                   NULL::integer AS interval_days, NULL::date AS last_date
              FROM co_purchase
             UNION ALL
            SELECT partner_id, product_id, 'reorder', score, NULL, NULL,
                   ROUND(interval_days)::integer, last_date
              FROM due
             UNION ALL
            SELECT partner_id, product_id, 'overstock', score, NULL, NULL, NULL, NULL
              FROM overstock
        ),
        ranked AS (
            SELECT candidate.*, customer.warehouse_id, available.qty AS free_qty,
                   ROW_NUMBER() OVER (
                       PARTITION BY candidate.partner_id, candidate.kind
                       ORDER BY candidate.score DESC, candidate.product_id
                   ) AS rank
              FROM candidate
              JOIN %(customer)s customer ON customer.partner_id = candidate.partner_id
              JOIN %(available)s available
                ON available.warehouse_id = customer.warehouse_id
               AND available.product_id = candidate.product_id
        ),
        new_recommendation AS (
            INSERT INTO crm_retail_recommendation
                   (partner_id, product_id, company_id, warehouse_id, kind, score,
                    source_product_id, customer_count, interval_days, last_date,
                    free_qty, create_uid, create_date, write_uid, write_date)
            SELECT partner_id, product_id, %(company)s, warehouse_id, kind,
                   ROUND(score::numeric, 4), source_product_id, customer_count,
                   interval_days, last_date, free_qty,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM ranked
             WHERE rank <= %(top_per_kind)s
         RETURNING id
        ),
        new_alert AS (
            INSERT INTO crm_retail_stock_alert
                   (partner_id, product_id, company_id, warehouse_id, source, state,
                    create_uid, create_date, write_uid, write_date)
            SELECT due.partner_id, due.product_id, %(company)s,
                   customer.warehouse_id, 'bought', 'waiting',
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM due
              JOIN %(customer)s customer ON customer.partner_id = due.partner_id
              JOIN res_partner partner ON partner.id = due.partner_id
             WHERE customer.warehouse_id IS NOT NULL
               AND partner.email_normalized IS NOT NULL
               AND NOT EXISTS (
                       SELECT 1 FROM mail_blacklist blacklist
                        WHERE blacklist.email = partner.email_normalized
                          AND blacklist.active
                   )
               AND NOT EXISTS (
                       SELECT 1 FROM %(available)s available
                        WHERE available.warehouse_id = customer.warehouse_id
                          AND available.product_id = due.product_id
                   )
            ON CONFLICT (partner_id, product_id, company_id)
               WHERE state = 'waiting' DO NOTHING
         RETURNING id
        )
        SELECT (SELECT COUNT(*) FROM new_recommendation),
               (SELECT COUNT(*) FROM new_alert)
            """,
            company=company.id,
            top_related=TOP_RELATED,
            top_per_kind=TOP_PER_KIND,
            today=today,
            sales_since=fields.Datetime.to_datetime(today)
            - timedelta(days=SALES_WINDOW_DAYS),
            cover_days=self._overstock_cover_days(),
            window=float(SALES_WINDOW_DAYS),
            uid=self.env.uid,
            now=now,
            any="%",
            **TEMP_TABLES,
        )

    # ------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------

    @api.model
    def _cron_refresh(self):
        """Refresh the product affinities when a run of the batch starts, then
        the recommendations a chunk of customers per call (batch
        "recommendations"); the cron comes back at once while some are left."""
        batch = self.env["crm.batch"].search(
            [("code", "=", "recommendations")], limit=1
        )
        # The co-purchases of every chunk of the run read the affinities: they are
        # refreshed once, by the worker holding the batch for the run's first chunk
        # (or, with queue_job, before the chunks are enqueued).
        if batch and not batch.cursor and batch._claim():
            # sudo: the affinities of every company, a materialized view.
            self.env["crm.retail.product.affinity"].sudo()._refresh_view()
        return self.env["crm.batch"]._run("recommendations")
