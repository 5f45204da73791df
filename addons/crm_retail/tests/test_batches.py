from datetime import timedelta

from odoo import Command, fields, sql_db
from odoo.tests import tagged

from odoo.addons.crm_core.tests.batch_common import BatchCronChecks, BatchQueueChecks
from odoo.addons.crm_retail.models.crm_retail_recommendation import LOCK_KEY

from .common import RetailCommon
from .common_recommendation import RecommendationCommon


class RetailBatchRows:
    """Rows for crm_retail's batches: cards with points past their date, tiered
    cards not reviewed today, customers due to buy again a product in stock,
    alerts whose product is back."""

    BATCHES = {
        "expire_points": "_expired_cards",
        "review_tiers": "_cards_to_review",
        "recommendations": "_customers_due",
        "back_in_stock": "_alerts_back",
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )

    def _customers(self, count, name):
        return self.env["res.partner"].create(
            [
                {
                    "name": f"{name} {i}",
                    "is_company": True,
                    "email": f"{name.lower()}{i}@shop.test",
                }
                for i in range(count)
            ]
        )

    def _storable(self, name, quantity):
        product = self.env["product.product"].create(
            {
                "name": name,
                "type": "consu",
                "is_storable": True,
                "list_price": 10.0,
                "taxes_id": [Command.clear()],
            }
        )
        self.env["stock.quant"]._update_available_quantity(
            product, self.warehouse.lot_stock_id, quantity
        )
        return product

    def _cards(self, customers):
        return self.env["loyalty.card"].search(
            [("program_id", "=", self.program.id), ("partner_id", "in", customers.ids)],
            order="id",
        )

    def _expired_cards(self, count):
        """Cards holding points earned 13 months ago, valid 12."""
        customers = self._customers(count, "Expired")
        for customer in customers:
            self._invoice(
                customer,
                [(self.beans, 10, 10.0)],
                date=self.today - timedelta(days=400),
            )
        return self._cards(customers)

    def effect_expire_points(self, cards):
        return [(card.points, len(card.history_ids)) for card in cards]

    def _cards_to_review(self, count):
        if not self.program.crm_tier_ids:
            self.program.crm_tier_ids = [
                Command.create({"name": "Bronze", "threshold": 0, "multiplier": 1})
            ]
        customers = self._customers(count, "Tiered")
        return self.env["loyalty.card"].create(
            [
                {"program_id": self.program.id, "partner_id": customer.id}
                for customer in customers
            ]
        )

    def effect_review_tiers(self, cards):
        return [(card.crm_tier_id.id, card.crm_tier_reviewed_on) for card in cards]

    def _customers_due(self, count):
        """Customers buying a product in stock every 30 days, last 30 days ago:
        due to reorder it."""
        product = self._storable("Batch Filters", 50)
        customers = self._customers(count, "Regular")
        for customer in customers:
            for days_ago in (90, 60, 30):
                self._invoice(
                    customer,
                    [(product, 1, 10.0)],
                    date=self.today - timedelta(days=days_ago),
                )
        return customers

    def effect_recommendations(self, customers):
        return sorted(
            (reco.partner_id.id, reco.product_id.id, reco.kind, reco.score)
            for reco in self.env["crm.retail.recommendation"].search(
                [("partner_id", "in", customers.ids)]
            )
        )

    def _alerts_back(self, count):
        product = self._storable("Batch Grinder", 5)
        customers = self._customers(count, "Waiting")
        return self.env["crm.retail.stock.alert"].create(
            [
                {
                    "partner_id": customer.id,
                    "product_id": product.id,
                    "company_id": self.company.id,
                    "warehouse_id": self.warehouse.id,
                }
                for customer in customers
            ]
        )

    def effect_back_in_stock(self, alerts):
        return alerts.mapped("state")


@tagged("post_install", "-at_install")
class TestRetailBatches(RetailBatchRows, BatchCronChecks, RetailCommon):
    def test_batches_are_declared(self):
        for code, xmlid in (
            ("expire_points", "crm_retail.ir_cron_expire_points"),
            ("review_tiers", "crm_retail.ir_cron_review_tiers"),
            ("recommendations", "crm_retail.ir_cron_refresh_recommendations"),
            ("back_in_stock", "crm_retail.ir_cron_send_back_in_stock"),
        ):
            with self.subTest(batch=code):
                self.assertEqual(self._batch(code).cron_id, self.env.ref(xmlid))

    def test_expiry_notice_follows_each_program_period(self):
        """A card is a row of the expiry batch once its points are within its
        program's notice period, until it is warned, once."""
        self.program.crm_expiry_notice_days = 20
        soon, later = self._customers(2, "Notice")
        # Points valid 12 months: they expire in 10 and in 40 days.
        self._invoice(soon, [(self.beans, 1, 10.0)], date=self.today - timedelta(355))
        self._invoice(later, [(self.beans, 1, 10.0)], date=self.today - timedelta(325))
        soon_card, later_card = self._cards(soon) | self._cards(later)
        batch = self._batch("expire_points")
        todo = batch._todo_ids()
        self.assertIn(soon_card.id, todo)
        self.assertNotIn(later_card.id, todo)

        def mails(card):
            return self.env["mail.mail"].search_count(
                [("model", "=", "loyalty.card"), ("res_id", "=", card.id)]
            )

        self.env["loyalty.card"]._cron_expire_points()
        self.env["loyalty.card"]._cron_expire_points()
        self.assertEqual((mails(soon_card), mails(later_card)), (1, 0))
        self.assertNotIn(soon_card.id, batch._todo_ids())
        self.assertEqual(soon_card.points, 10.0, "warned, not expired")
        self.program.crm_expiry_notice_days = 60
        self.assertIn(later_card.id, batch._todo_ids())


@tagged("-standard", "crm_queue_job", "post_install", "-at_install")
class TestRetailBatchesQueued(RetailBatchRows, BatchQueueChecks, RetailCommon):
    pass


@tagged("post_install", "-at_install")
class TestRecommendationBatch(RecommendationCommon):
    """The daily refresh a chunk of customers at a time gives each customer what
    a refresh of the whole company gives them."""

    def _snapshot(self):
        return sorted(
            (
                reco.partner_id.id,
                reco.product_id.id,
                reco.kind,
                reco.score,
                reco.source_product_id.id,
                reco.customer_count,
                reco.interval_days,
                reco.warehouse_id.id,
            )
            for reco in self.env["crm.retail.recommendation"].search(
                [("company_id", "=", self.company.id)]
            )
        )

    def _run_cron(self):
        """Call the cron as its runner does until the run is over; returns the
        calls made."""
        batch = self.env.ref("crm_retail.batch_recommendations")
        Recommendation = self.env["crm.retail.recommendation"]
        for calls in range(1, batch._todo_count() + 2):
            Recommendation._cron_refresh()
            if not batch.cursor:
                return calls
        self.fail("the refresh does not move on")

    def test_chunks_give_what_a_company_refresh_gives(self):
        self._set_stock(self.filters, 0)
        self._refresh()
        expected = self._snapshot()
        alerts = self.env["crm.retail.stock.alert"].search([])
        self.assertTrue(expected)
        self.assertEqual(len(alerts), 1, "the due filters are out of stock")
        # A customer's recommendations left from an invoice since cancelled.
        gone = self.env["res.partner"].create({"name": "Gone Roasters"})
        self.env["crm.retail.recommendation"].create(
            {
                "partner_id": gone.id,
                "product_id": self.grinder.id,
                "company_id": self.company.id,
                "kind": "overstock",
            }
        )
        self.env["crm.retail.recommendation"].search(
            [("partner_id", "=", self.jordan.id)]
        ).unlink()
        self.env.ref("crm_retail.batch_recommendations").chunk_size = 2
        self.assertGreater(self._run_cron(), 1)
        self.assertEqual(self._snapshot(), expected)
        self.assertEqual(self.env["crm.retail.stock.alert"].search([]), alerts)

    def test_chunks_and_company_refresh_do_not_overlap(self):
        """A full refresh of a company in another transaction makes a chunk skip
        that company (the refresh covers its customers); chunks share it."""
        Recommendation = self.env["crm.retail.recommendation"]
        # The co-purchases of this test's invoices.
        self.env["crm.retail.product.affinity"]._refresh_view()
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other_cr:
            other_cr.execute(
                "SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_KEY, self.company.id)
            )
            self.assertTrue(other_cr.fetchone()[0])
            self.assertEqual(Recommendation._refresh_partners(self.jordan), {})
            other_cr.rollback()
        self.assertFalse(self._recommended(self.jordan))
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other_cr:
            other_cr.execute(
                "SELECT pg_try_advisory_xact_lock_shared(%s, %s)",
                (LOCK_KEY, self.company.id),
            )
            self.assertTrue(other_cr.fetchone()[0])
            # Another chunk holds the company: this one refreshes its customers.
            result = Recommendation._refresh_partners(self.jordan)
            self.assertEqual(result, {self.company: (2, 0)})
            # A full refresh waits for the chunks to end.
            self.assertEqual(self._refresh(), {})
            other_cr.rollback()
        self.assertIn((self.frother, "co_purchase"), self._recommended(self.jordan))
