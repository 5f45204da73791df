from odoo import api, fields, models, tools
from odoo.tools import SQL

# A pair bought by fewer customers than this is chance, not an affinity.
MIN_CUSTOMERS = 2


class CrmRetailProductAffinity(models.Model):
    """Products bought by the same customers, per company, from posted customer
    invoices: how many customers bought both, and the support, confidence and
    lift of "bought X, so buys Y".

    A materialized view: the self-join of each customer's products is too heavy
    to run at every read of the report. The daily recommendation refresh
    refreshes it first and reads the co-purchases from it.
    """

    _name = "crm.retail.product.affinity"
    _description = "Product Affinity"
    _auto = False
    _order = "company_id, product_id, customer_count desc, related_product_id"
    _depends = {
        "account.move": ["company_id", "commercial_partner_id", "move_type", "state"],
        "account.move.line": ["move_id", "product_id", "display_type"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    product_id = fields.Many2one(
        "product.product", string="Product Bought", readonly=True
    )
    related_product_id = fields.Many2one(
        "product.product", string="Also Bought", readonly=True
    )
    product_categ_id = fields.Many2one(
        "product.category", string="Product Category", readonly=True
    )
    related_categ_id = fields.Many2one(
        "product.category", string="Also Bought Category", readonly=True
    )
    customer_count = fields.Integer(
        string="Customers", readonly=True, help="Customers who bought both products."
    )
    product_customer_count = fields.Integer(
        string="Customers of the Product",
        readonly=True,
        aggregator="max",
        help="Customers who bought the product bought.",
    )
    support = fields.Float(
        readonly=True,
        digits=(16, 4),
        aggregator="avg",
        help="Share of the company's customers who bought both products.",
    )
    confidence = fields.Float(
        readonly=True,
        digits=(16, 4),
        aggregator="avg",
        help="Share of the customers of the product bought who also bought the "
        "other one.",
    )
    lift = fields.Float(
        readonly=True,
        digits=(16, 2),
        aggregator="avg",
        help="Confidence divided by the share of all customers who bought the other "
        "product: above 1, buying the first makes buying the second likelier.",
    )

    def init(self):
        # drop_view_if_exists drops a materialized view as well as a plain one.
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE MATERIALIZED VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._query(),
            )
        )
        # REFRESH ... CONCURRENTLY needs a unique index; readers are not blocked.
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX %s ON %s (id)",
                SQL.identifier(f"{self._table}_id_uniq"),
                SQL.identifier(self._table),
            )
        )
        self.env.cr.execute(
            SQL(
                "CREATE INDEX %s ON %s (company_id, product_id)",
                SQL.identifier(f"{self._table}_company_product_idx"),
                SQL.identifier(self._table),
            )
        )

    def _query(self):
        return SQL(
            """
            WITH bought AS (
                SELECT DISTINCT move.company_id,
                       move.commercial_partner_id AS partner_id, line.product_id
                  FROM account_move move
                  JOIN account_move_line line ON line.move_id = move.id
                 WHERE move.move_type = 'out_invoice'
                   AND move.state = 'posted'
                   AND line.display_type = 'product'
                   AND line.product_id IS NOT NULL
            ),
            company_customers AS (
                SELECT company_id, COUNT(DISTINCT partner_id) AS customers
                  FROM bought
                 GROUP BY company_id
            ),
            product_customers AS (
                SELECT company_id, product_id, COUNT(*) AS customers
                  FROM bought
                 GROUP BY company_id, product_id
            ),
            pair AS (
                SELECT bought.company_id, bought.product_id,
                       other.product_id AS related_product_id,
                       COUNT(*) AS customer_count
                  FROM bought
                  JOIN bought other
                    ON other.company_id = bought.company_id
                   AND other.partner_id = bought.partner_id
                   AND other.product_id != bought.product_id
                 GROUP BY bought.company_id, bought.product_id, other.product_id
                HAVING COUNT(*) >= %(min_customers)s
            )
            SELECT ROW_NUMBER() OVER (
                       ORDER BY pair.company_id, pair.product_id,
                                pair.related_product_id
                   ) AS id,
                   pair.company_id,
                   pair.product_id,
                   pair.related_product_id,
                   template.categ_id AS product_categ_id,
                   related_template.categ_id AS related_categ_id,
                   pair.customer_count,
                   product_customers.customers AS product_customer_count,
                   pair.customer_count::float / company_customers.customers
                       AS support,
                   pair.customer_count::float / product_customers.customers
                       AS confidence,
                   pair.customer_count::float * company_customers.customers
                       / (product_customers.customers
                          * related_customers.customers) AS lift
              FROM pair
              JOIN company_customers
                ON company_customers.company_id = pair.company_id
              JOIN product_customers
                ON product_customers.company_id = pair.company_id
               AND product_customers.product_id = pair.product_id
              JOIN product_customers related_customers
                ON related_customers.company_id = pair.company_id
               AND related_customers.product_id = pair.related_product_id
              JOIN product_product product ON product.id = pair.product_id
              JOIN product_template template ON template.id = product.product_tmpl_id
              JOIN product_product related ON related.id = pair.related_product_id
              JOIN product_template related_template
                ON related_template.id = related.product_tmpl_id
            """,
            min_customers=MIN_CUSTOMERS,
        )

    @api.model
    def _refresh_view(self):
        """Recompute the affinities of every company from the posted invoices."""
        self.env["account.move"].flush_model(
            ["company_id", "commercial_partner_id", "move_type", "state"]
        )
        self.env["account.move.line"].flush_model(
            ["move_id", "product_id", "display_type"]
        )
        self.env.cr.execute(
            SQL(
                "REFRESH MATERIALIZED VIEW CONCURRENTLY %s",
                SQL.identifier(self._table),
            )
        )
        self.invalidate_model()
