from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import RetailCommon


@tagged("post_install", "-at_install")
class TestTiers(RetailCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write(
            {
                "crm_tier_grace_days": 30,
                "crm_tier_review_months": 12,
                "crm_tier_ids": [
                    Command.create({"name": "Bronze", "threshold": 0, "multiplier": 1}),
                    Command.create(
                        {"name": "Silver", "threshold": 500, "multiplier": 1.5}
                    ),
                    Command.create(
                        {"name": "Gold", "threshold": 2000, "multiplier": 2}
                    ),
                ],
            }
        )
        cls.bronze, cls.silver, cls.gold = cls.program.crm_tier_ids.sorted("threshold")

    def _pay(self, move, date):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({"payment_date": date})._create_payments()

    def test_upgrade_at_the_threshold_downgrade_after_review_and_grace(self):
        with freeze_time("2026-01-10"):
            first = self._invoice(
                self.customer, [(self.frother, 10, 40.0)], "2026-01-10"
            )
            card = self._card()
            self._pay(first, "2026-01-10")
        self.assertEqual(card.crm_tier_id, self.bronze)
        with freeze_time("2026-02-10"):
            second = self._invoice(
                self.customer, [(self.beans, 10, 10.0)], "2026-02-10"
            )
            self._pay(second, "2026-02-10")
        # 400 + 100 paid: exactly Silver's threshold, at once.
        self.assertEqual(card.crm_tier_id, self.silver)
        self.assertEqual(str(card.crm_tier_review_date), "2027-02-10")
        change = card.crm_tier_history_ids.sorted("id")[-1]
        self.assertEqual(
            (change.old_tier_id, change.new_tier_id), (self.bronze, self.silver)
        )
        self.assertIn("500", change.reason)
        mail = self.env["mail.mail"].search(
            [
                ("model", "=", "loyalty.card"),
                ("res_id", "=", card.id),
                ("subject", "=", "Your Shop Rewards tier: Silver"),
            ]
        )
        self.assertEqual(mail.recipient_ids, self.customer)
        # Silver earns half as much again.
        with freeze_time("2026-02-11"):
            self._invoice(self.customer, [(self.beans, 10, 10.0)], "2026-02-11")
        self.assertEqual(card.crm_lot_ids.sorted("id")[-1].points, 150.0)

        Card = self.env["loyalty.card"]
        with freeze_time("2027-01-15"):  # below 500 now, but before the review
            Card._cron_review_tiers()
        self.assertEqual(card.crm_tier_id, self.silver)
        with freeze_time("2027-03-01"):  # reviewed, within the grace period
            Card._cron_review_tiers()
        self.assertEqual(card.crm_tier_id, self.silver)
        with freeze_time("2027-03-12"):  # grace over: down to what is paid
            Card._cron_review_tiers()
        self.assertEqual(card.crm_tier_id, self.bronze)
        down = card.crm_tier_history_ids.sorted("id")[-1]
        self.assertEqual((down.direction, down.paid_revenue), ("down", 0.0))
        self.assertIn("30 days of grace", down.reason)

    def test_customer_still_qualifying_at_review_is_renewed(self):
        with freeze_time("2026-01-10"):
            invoice = self._invoice(
                self.customer, [(self.frother, 15, 40.0)], "2026-01-10"
            )
            self._pay(invoice, "2026-01-10")
        card = self._card()
        self.assertEqual(card.crm_tier_id, self.silver)
        with freeze_time("2026-12-20"):
            again = self._invoice(
                self.customer, [(self.frother, 15, 40.0)], "2026-12-20"
            )
            self._pay(again, "2026-12-20")
        with freeze_time("2027-02-15"):
            self.env["loyalty.card"]._cron_review_tiers()
        self.assertEqual(card.crm_tier_id, self.silver)
        self.assertEqual(str(card.crm_tier_review_date), "2028-02-15")

    def test_paid_revenue_is_net_of_refunds_and_ignores_unpaid(self):
        with freeze_time("2026-03-01"):
            invoice = self._invoice(
                self.customer, [(self.frother, 15, 40.0)], "2026-03-01"
            )
            self._pay(invoice, "2026-03-01")
            self._invoice(self.customer, [(self.frother, 50, 40.0)], "2026-03-01")
            refund = self._invoice(
                self.customer,
                [(self.frother, 5, 40.0)],
                "2026-03-01",
                move_type="out_refund",
                origin=invoice,
            )
            self._pay(refund, "2026-03-01")
            card = self._card()
            self.assertEqual(card._crm_paid_revenue()[card.id], 400.0)
        # Lowering the revenue never demotes before the review.
        self.assertEqual(card.crm_tier_id, self.silver)

    def test_contact_payment_counts_for_the_company(self):
        with freeze_time("2026-01-10"):
            invoice = self._invoice(
                self.contact, [(self.frother, 60, 40.0)], "2026-01-10"
            )
            self._pay(invoice, "2026-01-10")
        self.assertEqual(self._card().crm_tier_id, self.gold)

    def test_review_cron_works_in_batches_and_once_a_day(self):
        # Only this program's cards are in the batches (not the demo shop's).
        others = (
            # sudo: the demo programs of every company.
            self.env["loyalty.program"].sudo().search([("id", "!=", self.program.id)])
        )
        others.active = False
        other = self.env["res.partner"].create(
            {"name": "Second Cup", "is_company": True}
        )
        with freeze_time("2026-01-10"):
            for partner in (self.customer, other):
                self._pay(
                    self._invoice(partner, [(self.frother, 15, 40.0)], "2026-01-10"),
                    "2026-01-10",
                )
        cards = self._card() | self._card(other)
        self.assertEqual(cards.crm_tier_id, self.silver)
        self.env.ref("crm_retail.batch_review_tiers").chunk_size = 1
        with freeze_time("2027-03-15"):
            Card = self.env["loyalty.card"]
            Card._cron_review_tiers()
            self.assertEqual(
                len(cards.filtered(lambda c: c.crm_tier_id == self.bronze)), 1
            )
            Card._cron_review_tiers()
            self.assertEqual(cards.crm_tier_id, self.bronze)
            Card._cron_review_tiers()
        self.assertEqual(
            len(cards.crm_tier_history_ids.filtered(lambda h: h.direction == "down")), 2
        )

    def test_partners_are_searchable_by_tier(self):
        """What a marketing segment's filter does: a domain on partners."""
        with freeze_time("2026-01-10"):
            invoice = self._invoice(
                self.customer, [(self.frother, 15, 40.0)], "2026-01-10"
            )
            self._pay(invoice, "2026-01-10")
        Partner = self.env["res.partner"].with_user(self.store_staff)
        found = Partner.search([("crm_retail_tier_id", "=", self.silver.id)])
        self.assertEqual(found, self.customer | self.contact)
        self.assertFalse(Partner.search([("crm_retail_tier_id.name", "=", "Gold")]))
