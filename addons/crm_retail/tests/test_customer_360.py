from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import RetailCommon

FIELDS_360 = [
    "crm_retail_card_id",
    "crm_retail_tier_id",
    "crm_retail_points",
    "crm_retail_points_expiring",
    "crm_retail_next_expiry",
    "crm_retail_last_purchase",
    "crm_retail_recommendation_line_ids",
]


class Retail360Common(RetailCommon):
    """Bean There (with its contact Jordan) holds a Gold card: 200 points earned
    20 days ago and 100 earned almost a year ago that expire within days; a
    grinder in stock is recommended to it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.today()
        cls.recent_invoice = cls._invoice(
            cls.contact, [(cls.frother, 5, 40.0)], date=cls.today - timedelta(days=20)
        )
        cls.old_date = cls.today - relativedelta(months=12) + timedelta(days=10)
        cls.old_invoice = cls._invoice(
            cls.customer, [(cls.beans, 10, 10.0)], date=cls.old_date
        )
        cls.card = cls.env["loyalty.card"].search(
            [("program_id", "=", cls.program.id), ("partner_id", "=", cls.customer.id)]
        )
        cls.gold = cls.env["crm.retail.tier"].create(
            {"program_id": cls.program.id, "name": "Gold", "threshold": 2000}
        )
        # Tiers come from the paid revenue at the review; here, set by hand.
        cls.card.sudo().crm_tier_id = cls.gold

        cls.grinder = cls.env["product.product"].create(
            {
                "name": "Burr Grinder",
                "is_storable": True,
                "list_price": 120.0,
                "taxes_id": [fields.Command.clear()],
            }
        )
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.env["stock.quant"]._update_available_quantity(
            cls.grinder, cls.warehouse.lot_stock_id, 8
        )
        cls.recommendation = cls.env["crm.retail.recommendation"].create(
            {
                "partner_id": cls.customer.id,
                "product_id": cls.grinder.id,
                "company_id": cls.company.id,
                "warehouse_id": cls.warehouse.id,
                "kind": "co_purchase",
                "source_product_id": cls.beans.id,
                "customer_count": 3,
                "score": 0.6,
                "free_qty": 8,
            }
        )

    def _lot_expiry(self, invoice):
        return self.card.crm_lot_ids.filtered(
            lambda lot: lot.move_id == invoice
        ).expiry_date


@tagged("post_install", "-at_install")
class TestCustomer360(Retail360Common):
    def test_360_of_the_customer_and_of_its_contact(self):
        """Store staff see the company's card on the company and on its contact."""
        expiry = self._lot_expiry(self.old_invoice)
        self.assertLessEqual(expiry, self.today + timedelta(days=30))
        for partner in (self.customer, self.contact):
            partner = partner.with_user(self.store_staff)
            self.assertEqual(partner.crm_retail_card_id, self.card, partner.name)
            self.assertEqual(partner.crm_retail_tier_id, self.gold)
            self.assertEqual(partner.crm_retail_points, 300.0)
            self.assertEqual(partner.crm_retail_points_expiring, 100.0)
            self.assertEqual(partner.crm_retail_next_expiry, expiry)
            self.assertEqual(
                partner.crm_retail_last_purchase, self.today - timedelta(days=20)
            )
            self.assertEqual(
                partner.crm_retail_recommendation_line_ids, self.recommendation
            )
            self.assertEqual(
                partner.crm_retail_recommendation_line_ids.reason,
                "Customers who buy Espresso Beans also buy Burr Grinder (3 customers)",
            )

    def test_360_empty_without_card_and_without_stock(self):
        newcomer = self.env["res.partner"].create({"name": "Newcomer"})
        newcomer = newcomer.with_user(self.store_staff)
        self.assertFalse(newcomer.crm_retail_card_id)
        self.assertFalse(newcomer.crm_retail_tier_id)
        self.assertEqual(newcomer.crm_retail_points, 0.0)
        self.assertFalse(newcomer.crm_retail_last_purchase)
        self.assertFalse(newcomer.crm_retail_recommendation_line_ids)
        # Sold out since the refresh: no longer offered.
        self.env["stock.quant"]._update_available_quantity(
            self.grinder, self.warehouse.lot_stock_id, -8
        )
        self.env.invalidate_all()
        self.assertFalse(
            self.customer.with_user(self.store_staff).crm_retail_recommendation_line_ids
        )

    def test_360_per_company(self):
        """In another company, neither its card nor its invoices are shown."""
        staff = self.store_staff
        staff.company_ids += self.other_company
        partner = self.customer.with_user(staff).with_company(self.other_company)
        self.assertFalse(partner.crm_retail_card_id)
        self.assertEqual(partner.crm_retail_points, 0.0)
        self.assertFalse(partner.crm_retail_last_purchase)
        self.assertFalse(partner.crm_retail_recommendation_line_ids)

    def test_360_hidden_from_users_without_retail_rights(self):
        """A CRM user without a retail group sees the 360° page, but neither the
        fields nor the section: reading them is refused."""
        for user in (self.salesman_a, self.clerk):
            partner = self.customer.with_user(user)
            for field in FIELDS_360:
                with self.assertRaises(AccessError, msg=field):
                    partner.read([field])
        arch = (
            self.env["res.partner"]
            .with_user(self.salesman_a)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertIn('name="customer_360"', arch)
        self.assertNotIn("crm_retail_points", arch)
        self.assertNotIn("customer_360_retail", arch)
        staff_arch = (
            self.env["res.partner"]
            .with_user(self.store_staff)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertIn("crm_retail_points", staff_arch)
        self.assertIn("crm_retail_recommendation_line_ids", staff_arch)

    def test_360_card_button(self):
        action = self.contact.with_user(self.store_staff).action_view_crm_retail_card()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("loyalty.card", self.card.id)
        )

    def test_360_queries_do_not_grow_with_partners(self):
        """One query per kind of figure for a page of customers, not one per
        customer."""
        Partner = self.env["res.partner"]
        others = Partner.create([{"name": f"Shopper {i}"} for i in range(6)])
        for partner in others:
            self._invoice(partner, [(self.beans, 1, 10.0)], date=self.today)

        def count(partners):
            partners = partners.with_user(self.store_staff)
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            partners.read(FIELDS_360)
            return self.cr.sql_log_count - before

        count(self.customer)  # warm the caches that are not per partner
        self.assertEqual(count(self.customer), count(self.customer | others))

    # ------------------------------------------------------------------
    # Churn
    # ------------------------------------------------------------------
    def _loyalty_signals(self, partners):
        signals = self.env["crm.churn.analysis"]._churn_signals(partners)
        return {
            partner: [
                (points, reason)
                for points, reason in signals.get(partner.id, [])
                if "loyalty points" in reason
            ]
            for partner in partners
        }

    def test_churn_loyalty_inactivity(self):
        """Bean There earned before, but nothing for 150 days."""
        self.card.history_ids.flush_recordset()
        long_ago = datetime.combine(
            self.today - timedelta(days=150), datetime.min.time()
        )
        self.env.cr.execute(
            SQL(
                "UPDATE loyalty_history SET create_date = %s WHERE card_id = %s",
                long_ago,
                self.card.id,
            )
        )
        self.env.invalidate_all()
        fresh = self.env["res.partner"].create({"name": "Fresh Shopper"})
        self._invoice(fresh, [(self.beans, 1, 10.0)], date=self.today)
        signals = self._loyalty_signals(self.customer | fresh)
        days = (fields.Datetime.now() - long_ago).days
        self.assertEqual(
            signals[self.customer],
            [
                (
                    15,
                    f"No loyalty points earned for {days} days (last on "
                    f"{long_ago.date()}).",
                )
            ],
        )
        self.assertEqual(signals[fresh], [])

    def test_churn_unused_expiring_points(self):
        """Corner Cafe's points expire within 30 days and it has not bought for
        almost a year; Bean There's too, but it bought 20 days ago."""
        cafe = self.env["res.partner"].create(
            {"name": "Corner Cafe", "is_company": True}
        )
        invoice = self._invoice(cafe, [(self.beans, 12, 10.0)], date=self.old_date)
        expiry = (
            self._card(cafe)
            .crm_lot_ids.filtered(lambda lot: lot.move_id == invoice)
            .expiry_date
        )
        signals = self._loyalty_signals(cafe | self.customer)
        self.assertEqual(
            signals[cafe],
            [
                (
                    10,
                    f"120 loyalty points expire within 30 days (first on {expiry}) "
                    "and no purchase for 60 days.",
                )
            ],
        )
        self.assertEqual(signals[self.customer], [])

    def test_churn_score_adds_the_loyalty_signals(self):
        cafe = self.env["res.partner"].create(
            {"name": "Corner Cafe", "is_company": True}
        )
        self._invoice(cafe, [(self.beans, 12, 10.0)], date=self.old_date)
        self.env["crm.churn.analysis"]._score(cafe)
        self.assertIn("loyalty points expire", cafe.churn_reasons)
