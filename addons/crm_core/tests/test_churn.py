from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import CrmCoreCommon


@tagged("post_install", "-at_install")
class TestChurnRisk(CrmCoreCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = fields.Date.today()
        days = lambda n: today - timedelta(days=n)  # noqa: E731
        # Loyal: a monthly invoice up to last week, paid, met yesterday.
        cls.loyal = cls.customer
        for age in (97, 67, 37, 7):
            invoice = cls._create_customer_invoice(
                cls.loyal,
                1000,
                invoice_date=days(age),
                due_date=days(age) + timedelta(30),
            )
            if age > 30:
                cls._register_payment(invoice, 1000, payment_date=days(age - 20))
        cls.env["crm.interaction"].create(
            {
                "name": "Call",
                "partner_id": cls.contact_1.id,
                "date": fields.Datetime.now() - timedelta(days=1),
            }
        )
        # Leaving: bought every month, then silence, an unpaid invoice, no contact.
        cls.leaving = cls.other_customer
        cls.leaving.user_id = cls.salesman_b
        for age in (200, 170, 140, 120):
            cls._create_customer_invoice(
                cls.leaving,
                2000,
                invoice_date=days(age),
                due_date=days(age) + timedelta(30),
            )

    def test_scores_and_reasons_on_constructed_histories(self):
        self.env["crm.churn.analysis"]._score(self.loyal | self.leaving)
        self.assertEqual(self.loyal.churn_score, 0)
        self.assertFalse(self.loyal.churn_at_risk)
        self.assertFalse(self.loyal.churn_reasons)
        # 35 silence + 25 trend + 20 overdue + 20 no interaction.
        self.assertEqual(self.leaving.churn_score, 100)
        self.assertTrue(self.leaving.churn_at_risk)
        self.assertIn(
            "No invoice for 120 days; usually one every 27 days.",
            self.leaving.churn_reasons,
        )
        self.assertIn(
            "4 invoice(s) overdue, 8000.0 still due.", self.leaving.churn_reasons
        )
        self.assertIn("No interaction logged.", self.leaving.churn_reasons)
        # The contact shows the same 360° as its company; the filter finds it.
        self.assertIn(
            self.leaving,
            self.env["res.partner"]
            .with_user(self.salesman_b)
            .search([("churn_at_risk", "=", True)]),
        )

    def test_churn_is_read_by_crm_users_only(self):
        self.env["crm.churn.analysis"]._score(self.leaving)
        portal = new_test_user(self.env, "churn_portal", groups="base.group_portal")
        portal.partner_id.parent_id = self.leaving
        for user in (portal, self.employee):
            leaving = self.leaving.with_user(user)
            self.assertEqual(leaving.read(["name"])[0]["name"], "Globex")
            for field in ("churn_score", "churn_reasons", "churn_at_risk"):
                with self.assertRaises(AccessError, msg=f"{user.login} {field}"):
                    leaving.read([field])
        self.assertEqual(self.leaving.with_user(self.salesman_b).churn_score, 100)

    def test_scored_per_company_from_its_own_invoices(self):
        today = fields.Date.today()
        shared = self.env["res.partner"].create({"name": "Initech", "is_company": True})
        # Owes the other company, in that company's books; pays this one on time.
        self._create_customer_invoice(
            shared,
            700,
            invoice_date=today - timedelta(60),
            due_date=today - timedelta(30),
            company=self.other_company,
        )
        invoice = self._create_customer_invoice(
            shared, 100, invoice_date=today - timedelta(5)
        )
        self._register_payment(invoice, 100)
        self.env["crm.churn.analysis"]._cron_score_customers()
        here = shared.with_company(self.company)
        there = shared.with_company(self.other_company)
        self.assertNotIn("overdue", here.churn_reasons)
        self.assertIn("1 invoice(s) overdue, 700.0 still due.", there.churn_reasons)
        self.assertGreater(there.churn_score, here.churn_score)
        # Scoring one company leaves the other's score as it was.
        self.env["crm.churn.analysis"]._score(here)
        self.assertIn("700.0 still due", there.churn_reasons)

    def _shrinking_customer(self):
        today = fields.Date.today()
        partner = self.env["res.partner"].create(
            {"name": "Shrinking", "is_company": True}
        )
        self._create_customer_invoice(
            partner, 1000, invoice_date=today - timedelta(120)
        )
        self._create_customer_invoice(partner, 200, invoice_date=today - timedelta(10))
        self._register_payment(partner.invoice_ids, 1200)
        return partner

    def test_amount_trend(self):
        partner = self._shrinking_customer()
        self.env["crm.churn.analysis"]._score(partner)
        self.assertIn("Invoiced 80% less over the last 90 days", partner.churn_reasons)
        # 25 trend + 20 no interaction: under the default threshold of 50.
        self.assertEqual(partner.churn_score, 45)
        self.assertFalse(partner.churn_at_risk)

    def test_paying_later_than_before(self):
        today = fields.Date.today()
        partner = self.env["res.partner"].create(
            {"name": "Slow payer", "is_company": True}
        )
        # Paid on the due date five months ago, 40 days after it last month.
        on_time = self._create_customer_invoice(
            partner,
            500,
            invoice_date=today - timedelta(170),
            due_date=today - timedelta(140),
        )
        self._register_payment(on_time, 500, payment_date=today - timedelta(140))
        late = self._create_customer_invoice(
            partner,
            500,
            invoice_date=today - timedelta(80),
            due_date=today - timedelta(60),
        )
        self._register_payment(late, 500, payment_date=today - timedelta(20))
        self.env["crm.churn.analysis"]._score(partner | self.loyal)
        self.assertIn(
            "Pays later: 40 days after the due date lately, 0 days before.",
            partner.churn_reasons,
        )
        self.assertFalse(self.loyal.churn_reasons)

    def test_overdue_trend(self):
        today = fields.Date.today()
        behind, steady = self.env["res.partner"].create(
            [
                {"name": "Falling behind", "is_company": True},
                {"name": "Steady debt", "is_company": True},
            ]
        )
        # Paid on time five months ago; 700 overdue now.
        on_time = self._create_customer_invoice(
            behind,
            300,
            invoice_date=today - timedelta(180),
            due_date=today - timedelta(150),
        )
        self._register_payment(on_time, 300, payment_date=today - timedelta(150))
        self._create_customer_invoice(
            behind,
            700,
            invoice_date=today - timedelta(60),
            due_date=today - timedelta(30),
        )
        # The same 500 overdue 90 days ago and now: no trend.
        self._create_customer_invoice(
            steady,
            500,
            invoice_date=today - timedelta(150),
            due_date=today - timedelta(120),
        )
        self.env["crm.churn.analysis"]._score(behind | steady)
        self.assertIn(
            "Overdue amount grew from 0 to 700.0 in 90 days.", behind.churn_reasons
        )
        self.assertIn("1 invoice(s) overdue, 500.0 still due.", steady.churn_reasons)
        self.assertNotIn("Overdue amount grew", steady.churn_reasons)

    def test_account_owner_gets_one_activity_when_crossing_the_threshold(self):
        Analysis = self.env["crm.churn.analysis"]
        activities = lambda: self.env["mail.activity"].search(  # noqa: E731
            [("res_model", "=", "res.partner"), ("res_id", "=", self.leaving.id)]
        )
        self.assertEqual(Analysis._score(self.leaving), self.leaving)
        self.assertEqual(activities().user_id, self.salesman_b)
        self.assertIn("No interaction logged.", activities().note)
        # Still at risk the next day: no second activity.
        self.assertFalse(Analysis._score(self.leaving))
        self.assertEqual(len(activities()), 1)

    def test_threshold_from_settings_and_daily_cron(self):
        partner = self._shrinking_customer()
        self.env["res.config.settings"].create({"crm_churn_threshold": 40}).execute()
        self.env["crm.churn.analysis"]._cron_score_customers()
        self.assertEqual(partner.churn_score, 45)
        self.assertTrue(partner.churn_at_risk)
        self.assertFalse(self.loyal.churn_at_risk)
        self.assertTrue(self.loyal.churn_date)

    def test_other_addons_add_signals_through_the_hook(self):
        Analysis = type(self.env["crm.churn.analysis"])
        original = Analysis._churn_signals

        def with_tickets(analysis, partners):
            signals = original(analysis, partners)
            signals[self.loyal.id].append((60, "3 support tickets breached their SLA."))
            return signals

        with patch.object(Analysis, "_churn_signals", with_tickets):
            self.env["crm.churn.analysis"]._score(self.loyal)
        self.assertEqual(self.loyal.churn_score, 60)
        self.assertTrue(self.loyal.churn_at_risk)
        self.assertEqual(
            self.loyal.churn_reasons, "3 support tickets breached their SLA."
        )

    def test_scoring_queries_do_not_grow_with_the_batch(self):
        Partner = self.env["res.partner"]
        # Everyone crosses the threshold: the activities are part of the batch.
        self.env["ir.config_parameter"].set_param("crm_core.churn_threshold", 10)
        queries = []
        for size in (2, 5, 40):  # the first batch warms the caches
            partners = Partner.create(
                [{"name": f"C{i}", "is_company": True} for i in range(size)]
            )
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.cr.sql_log_count
            self.env["crm.churn.analysis"]._score(partners)
            queries.append(self.cr.sql_log_count - start)
            self.assertEqual(set(partners.mapped("churn_score")), {20})
            self.assertEqual(
                self.env["mail.activity"].search_count(
                    [("res_model", "=", "res.partner"), ("res_id", "in", partners.ids)]
                ),
                size,
            )
        self.assertEqual(queries[1], queries[2], queries)
