from datetime import timedelta

from odoo import Command, fields
from odoo.tests import new_test_user

from odoo.addons.crm_core.tests.common import CrmCoreCommon


class RecommendationCommon(CrmCoreCommon):
    """A coffee shop and its purchase history.

    - Three cafés bought Espresso Beans, a Milk Frother and, two of them, a
      Barista Course (a service) on one invoice each; "Café Jordan" bought only
      the beans: the frother is bought together with the beans.
    - Three customers of paper filters: one every 30 days until 30 days ago (due
      for reorder), one every 30 days until 10 days ago (not due yet), one every
      30 days until 240 days ago (lapsed).
    - In the main warehouse: 100 beans, 5 frothers, 240 grinders (Coffee, never
      sold: overstocked), 50 filters.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env.user.groups_id += cls.env.ref("crm_retail.group_retail_manager")
        cls.today = fields.Date.context_today(cls.env.user)
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        Category = cls.env["product.category"]
        cls.coffee = Category.create({"name": "Coffee"})
        cls.accessories = Category.create({"name": "Accessories"})
        cls.supplies = Category.create({"name": "Supplies"})
        cls.beans = cls._product("Espresso Beans", cls.coffee)
        cls.frother = cls._product("Milk Frother", cls.accessories)
        cls.grinder = cls._product("Coffee Grinder", cls.coffee)
        cls.filters = cls._product("Paper Filters", cls.supplies)
        cls.course = cls._product("Barista Course", cls.accessories, kind="service")

        Partner = cls.env["res.partner"]
        cls.cafes = Partner.create(
            [
                {"name": f"Café {n}", "is_company": True, "email": f"cafe{n}@shop.test"}
                for n in (1, 2, 3)
            ]
        )
        cls.jordan = Partner.create(
            {"name": "Café Jordan", "is_company": True, "email": "jordan@cafe.test"}
        )
        cls.regular, cls.not_due, cls.lapsed = Partner.create(
            [
                {"name": "Regular Roasters", "email": "orders@regular.test"},
                {"name": "Recent Roasters", "email": "orders@recent.test"},
                {"name": "Lapsed Roasters", "email": "orders@lapsed.test"},
            ]
        )
        for index, cafe in enumerate(cls.cafes):
            products = cls.beans + cls.frother
            if index < 2:
                products += cls.course
            cls._invoice(cafe, products, days_ago=100)
        cls._invoice(cls.jordan, cls.beans, days_ago=50)
        for partner, last in (
            (cls.regular, 30),
            (cls.not_due, 10),
            (cls.lapsed, 240),
        ):
            for days_ago in (last + 60, last + 30, last):
                cls._invoice(partner, cls.filters, days_ago=days_ago)

        cls._set_stock(cls.beans, 100)
        cls._set_stock(cls.frother, 5)
        cls._set_stock(cls.grinder, 240)
        cls._set_stock(cls.filters, 50)

        cls.store_staff = new_test_user(
            cls.env,
            "reco_store_staff",
            groups="crm_retail.group_retail_user",
            company_id=cls.company.id,
        )
        cls.store_staff_b = new_test_user(
            cls.env,
            "reco_store_staff_b",
            groups="crm_retail.group_retail_user",
            company_id=cls.other_company.id,
            company_ids=[Command.set(cls.other_company.ids)],
        )

    @classmethod
    def _product(cls, name, category, kind="storable"):
        return cls.env["product.product"].create(
            {
                "name": name,
                "categ_id": category.id,
                "type": "service" if kind == "service" else "consu",
                "is_storable": kind == "storable",
                "list_price": 10.0,
                "taxes_id": [Command.clear()],
            }
        )

    @classmethod
    def _invoice(cls, partner, products, days_ago=0, company=None):
        invoice = (
            cls.env["account.move"]
            .with_company(company or cls.company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": cls.today - timedelta(days=days_ago),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "quantity": 1,
                                "price_unit": 10.0,
                                "tax_ids": [Command.clear()],
                            }
                        )
                        for product in products
                    ],
                }
            )
        )
        invoice.action_post()
        return invoice

    @classmethod
    def _set_stock(cls, product, quantity, warehouse=None):
        """Make the on-hand quantity of ``product`` in ``warehouse`` ``quantity``."""
        location = (warehouse or cls.warehouse).lot_stock_id
        Quant = cls.env["stock.quant"]
        current = Quant._get_available_quantity(product, location)
        Quant._update_available_quantity(product, location, quantity - current)

    @classmethod
    def _receive_later(cls, product, quantity, days):
        """A confirmed receipt of ``quantity`` arriving in ``days`` days."""
        move = cls.env["stock.move"].create(
            {
                "name": f"Receipt of {product.name}",
                "product_id": product.id,
                "product_uom_qty": quantity,
                "product_uom": product.uom_id.id,
                "location_id": cls.env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": cls.warehouse.lot_stock_id.id,
                "company_id": cls.company.id,
            }
        )
        move._action_confirm()
        move.date = fields.Datetime.now() + timedelta(days=days)
        return move

    @classmethod
    def _deliver(cls, product, quantity):
        """A done delivery of ``quantity`` from the main warehouse today."""
        move = cls.env["stock.move"].create(
            {
                "name": f"Delivery of {product.name}",
                "product_id": product.id,
                "product_uom_qty": quantity,
                "product_uom": product.uom_id.id,
                "location_id": cls.warehouse.lot_stock_id.id,
                "location_dest_id": cls.env.ref("stock.stock_location_customers").id,
                "company_id": cls.company.id,
            }
        )
        move._action_confirm()
        move._action_assign()
        move.picked = True
        move._action_done()
        return move

    def _refresh(self, company=None):
        return self.env["crm.retail.recommendation"]._refresh(company or self.company)

    def _recommended(self, partner, company=None):
        """{(product, kind): reason} stored for ``partner``."""
        return {
            (reco.product_id, reco.kind): reco.reason
            for reco in self.env["crm.retail.recommendation"].search(
                [
                    ("partner_id", "=", partner.id),
                    ("company_id", "=", (company or self.company).id),
                ]
            )
        }
