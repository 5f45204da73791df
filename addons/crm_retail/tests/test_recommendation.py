from datetime import timedelta

from odoo import Command, sql_db
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import format_date

from odoo.addons.crm_retail.models.crm_retail_recommendation import LOCK_KEY

from .common_recommendation import RecommendationCommon


@tagged("post_install", "-at_install")
class TestRecommendation(RecommendationCommon):
    # ------------------------------------------------------------
    # The three kinds, with the stock
    # ------------------------------------------------------------

    def test_recommendations_with_reasons(self):
        self._refresh()
        self.assertEqual(
            self._recommended(self.jordan),
            {
                (self.frother, "co_purchase"): "Customers who buy Espresso Beans "
                "also buy Milk Frother (3 customers)",
                (self.grinder, "overstock"): "Overstocked: 240 in stock, they buy "
                "Coffee",
            },
            "The service bought with the beans by two cafés is never recommended; "
            "the beans, already bought, neither.",
        )
        last = self.today - timedelta(days=30)
        self.assertEqual(
            self._recommended(self.regular),
            {
                (self.filters, "reorder"): "Bought every ~30 days, last on "
                f"{format_date(self.env, last)}"
            },
        )
        for cafe in self.cafes:
            self.assertEqual(
                set(self._recommended(cafe)), {(self.grinder, "overstock")}
            )
        jordan = self.env["crm.retail.recommendation"].search(
            [("partner_id", "=", self.jordan.id)]
        )
        frother = jordan.filtered(lambda reco: reco.product_id == self.frother)
        self.assertEqual(frother.source_product_id, self.beans)
        self.assertAlmostEqual(frother.score, 0.75, msg="3 of the 4 beans buyers")
        self.assertEqual(jordan.warehouse_id, self.warehouse)

    def test_reorder_not_due_or_lapsed(self):
        self._refresh()
        self.assertFalse(self._recommended(self.not_due), "Bought 10 days ago")
        self.assertFalse(self._recommended(self.lapsed), "Last bought 240 days ago")

    def test_co_purchase_follows_stock_and_incoming_horizon(self):
        self._set_stock(self.frother, 0)
        self._refresh()
        self.assertNotIn((self.frother, "co_purchase"), self._recommended(self.jordan))

        self._receive_later(self.frother, 10, days=2)
        self._refresh()
        self.assertIn(
            (self.frother, "co_purchase"),
            self._recommended(self.jordan),
            "Arrives within the 7-day horizon",
        )

        self.env["ir.config_parameter"].set_param(
            "crm_retail.incoming_horizon_days", "0"
        )
        self._refresh()
        self.assertNotIn(
            (self.frother, "co_purchase"),
            self._recommended(self.jordan),
            "A horizon of 0 days counts the stock on hand only",
        )

    def test_reserved_stock_is_not_free(self):
        self.env["stock.quant"]._update_available_quantity(
            self.frother, self.warehouse.lot_stock_id, 0, reserved_quantity=5
        )
        self._refresh()
        self.assertNotIn((self.frother, "co_purchase"), self._recommended(self.jordan))

    def test_overstock_needs_stock_beyond_cover_days(self):
        # 200 delivered in the last 90 days: 240 last 108 days, under 120.
        self._deliver(self.grinder, 200)
        self._set_stock(self.grinder, 240)
        self._refresh()
        self.assertNotIn((self.grinder, "overstock"), self._recommended(self.jordan))

        self.env["ir.config_parameter"].set_param(
            "crm_retail.overstock_cover_days", "100"
        )
        self._refresh()
        self.assertIn((self.grinder, "overstock"), self._recommended(self.jordan))

    def test_warehouse_of_the_last_order(self):
        second = self.env["stock.warehouse"].create(
            {"name": "Second Shop", "code": "SHOP2", "company_id": self.company.id}
        )
        self.env["sale.order"].create(
            {"partner_id": self.jordan.id, "warehouse_id": second.id}
        )
        self._refresh()
        self.assertFalse(self._recommended(self.jordan), "Nothing in stock there")

        self._set_stock(self.frother, 2, warehouse=second)
        self._refresh()
        self.assertEqual(
            set(self._recommended(self.jordan)), {(self.frother, "co_purchase")}
        )

    def test_refresh_replaces_and_skips_a_busy_company(self):
        # A second worker refreshing the same company: this one skips it.
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other_cr:
            other_cr.execute(
                "SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_KEY, self.company.id)
            )
            self.assertTrue(other_cr.fetchone()[0])
            self.assertEqual(self._refresh(), {})
            other_cr.rollback()
        self.assertFalse(self._recommended(self.jordan))

        result = self._refresh()
        self.assertEqual(result, {self.company: (6, 0)})
        self.assertEqual(self._refresh(), result, "Replaced, not added")
        self.assertEqual(
            self.env["crm.retail.recommendation"].search_count(
                [("company_id", "=", self.company.id)]
            ),
            6,
        )
        # Until this transaction ends, the other worker skips the company.
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other_cr:
            other_cr.execute(
                "SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_KEY, self.company.id)
            )
            self.assertFalse(other_cr.fetchone()[0])
            other_cr.rollback()

    # ------------------------------------------------------------
    # Reading: stock checked again, constant queries
    # ------------------------------------------------------------

    def test_for_partners_checks_stock_again(self):
        self._refresh()
        Recommendation = self.env["crm.retail.recommendation"].with_user(
            self.store_staff
        )
        contact = self.env["res.partner"].create(
            {"name": "Jordan", "parent_id": self.jordan.id}
        )
        result = Recommendation._for_partners(self.jordan + contact)
        self.assertEqual(result[self.jordan.id].product_id, self.grinder + self.frother)
        self.assertEqual(result[contact.id], result[self.jordan.id])
        self.assertEqual(
            Recommendation._for_partners(self.jordan, limit=1)[
                self.jordan.id
            ].product_id,
            self.grinder,
        )

        self._set_stock(self.frother, 0)
        self.assertEqual(
            Recommendation._for_partners(self.jordan)[self.jordan.id].product_id,
            self.grinder,
            "Sold out since the refresh",
        )

    def test_for_partners_query_count_is_constant(self):
        partners = self.env["res.partner"].create(
            [{"name": f"Customer {n}", "is_company": True} for n in range(20)]
        )
        self.env["crm.retail.recommendation"].create(
            [
                {
                    "partner_id": partner.id,
                    "product_id": product.id,
                    "company_id": self.company.id,
                    "warehouse_id": self.warehouse.id,
                    "kind": "overstock",
                    "score": 0.5,
                    "free_qty": 10,
                }
                for partner in partners
                for product in self.grinder + self.beans + self.frother
            ]
        )
        Recommendation = self.env["crm.retail.recommendation"].with_user(
            self.store_staff
        )
        partners = partners.with_user(self.store_staff)
        # Warm the caches of the access rules and settings.
        partners.invalidate_model()
        Recommendation._for_partners(partners[:1])
        for group in (partners[:1], partners):
            group.invalidate_model()
            Recommendation.invalidate_model()
            with self.assertQueryCount(3):
                result = Recommendation._for_partners(group)
            self.assertEqual(len(result), len(group))
            self.assertEqual(len(result[group[-1].id]), 3)

    def test_segment_domain_on_partners(self):
        self._refresh()
        self.assertEqual(
            self.env["res.partner"].search(
                [("crm_retail_recommendation_ids.product_id", "=", self.frother.id)]
            ),
            self.jordan,
        )
        self.assertEqual(
            self.env["res.partner"].search(
                [("crm_retail_recommendation_ids.kind", "=", "reorder")]
            ),
            self.regular,
        )

    # ------------------------------------------------------------
    # Quotation
    # ------------------------------------------------------------

    def test_suggest_wizard_adds_lines(self):
        self._refresh()
        order = (
            self.env["sale.order"]
            .with_user(self.store_staff)
            .create({"partner_id": self.jordan.id})
        )
        wizard_form = Form(
            self.env["crm.retail.suggest.wizard"]
            .with_user(self.store_staff)
            .with_context(default_order_id=order.id)
        )
        self.assertEqual(len(wizard_form.line_ids), 2)
        for index in range(2):
            with wizard_form.line_ids.edit(index) as line:
                if line.product_id == self.frother:
                    line.selected = True
                    line.quantity = 2
                    self.assertEqual(
                        line.reason,
                        "Customers who buy Espresso Beans also buy Milk Frother "
                        "(3 customers)",
                    )
        wizard = wizard_form.save()
        wizard.action_add()
        self.assertEqual(
            [(line.product_id, line.product_uom_qty) for line in order.order_line],
            [(self.frother, 2)],
        )
        # The frother is on the quotation now: only the grinder is suggested.
        wizard = (
            self.env["crm.retail.suggest.wizard"]
            .with_user(self.store_staff)
            .create({"order_id": order.id})
        )
        self.assertEqual(wizard.line_ids.product_id, self.grinder)

        order.action_confirm()
        wizard.line_ids.selected = True
        with self.assertRaises(UserError):
            wizard.action_add()
        self.assertEqual(len(order.order_line), 1)

    def test_suggest_wizard_marks_lines_with_their_kind(self):
        """The lines added from the recommendations keep their kind after the
        recommendations are rebuilt and the order confirmed; a line added by hand
        has none, and a copy of the order was recommended nothing."""
        self._refresh()
        order = (
            self.env["sale.order"]
            .with_user(self.store_staff)
            .create(
                {
                    "partner_id": self.jordan.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.beans.id, "product_uom_qty": 3}
                        )
                    ],
                }
            )
        )
        wizard = (
            self.env["crm.retail.suggest.wizard"]
            .with_user(self.store_staff)
            .create({"order_id": order.id})
        )
        wizard.line_ids.selected = True
        wizard.action_add()
        expected = {
            (self.beans, False),
            (self.frother, "co_purchase"),
            (self.grinder, "overstock"),
        }
        self.assertEqual(
            {
                (line.product_id, line.crm_recommendation_kind)
                for line in order.order_line
            },
            expected,
        )

        order.action_confirm()
        self._refresh()
        order.invalidate_recordset()
        self.assertEqual(order.state, "sale")
        self.assertEqual(
            {
                (line.product_id, line.crm_recommendation_kind)
                for line in order.order_line
            },
            expected,
        )
        copy = order.copy()
        self.assertEqual(len(copy.order_line), 3)
        self.assertFalse(any(copy.order_line.mapped("crm_recommendation_kind")))

    # ------------------------------------------------------------
    # Back in stock
    # ------------------------------------------------------------

    def _mails(self, alerts):
        return self.env["mail.mail"].search(
            [("model", "=", "crm.retail.stock.alert"), ("res_id", "in", alerts.ids)]
        )

    def test_back_in_stock_for_a_due_reorder(self):
        Alert = self.env["crm.retail.stock.alert"]
        self._set_stock(self.filters, 0)
        self.assertEqual(self._refresh(), {self.company: (5, 1)})
        self.assertFalse(self._recommended(self.regular))
        alert = Alert.search([("partner_id", "=", self.regular.id)])
        self.assertRecordValues(
            alert,
            [
                {
                    "product_id": self.filters.id,
                    "warehouse_id": self.warehouse.id,
                    "source": "bought",
                    "state": "waiting",
                }
            ],
        )
        self._refresh()
        self.assertEqual(Alert.search([]), alert, "Still one waiting alert")

        Alert._cron_send_back_in_stock()
        self.assertFalse(self._mails(alert), "Still out of stock")

        self._set_stock(self.filters, 20)
        Alert._cron_send_back_in_stock()
        mail = self._mails(alert)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.regular)
        self.assertIn("Paper Filters", mail.subject)
        self.assertEqual(alert.state, "sent")
        self.assertTrue(alert.date_sent)

        Alert._cron_send_back_in_stock()
        self.assertEqual(len(self._mails(alert)), 1, "Sent once")

    def test_back_in_stock_skips_blacklisted_and_no_email(self):
        self._set_stock(self.frother, 0)
        Partner = self.env["res.partner"]
        asking, blacklisted, no_email = Partner.create(
            [
                {"name": "Settings", "email": "settings@asking.test"},
                {"name": "en_US", "email": "Blocked@Example.test"},
                {"name": "Jordan"},
            ]
        )
        self.env["mail.blacklist"]._add("blocked@example.test")
        Alert = self.env["crm.retail.stock.alert"].with_user(self.store_staff)
        alerts = Alert.create(
            [
                {"partner_id": partner.id, "product_id": self.frother.id}
                for partner in asking + blacklisted + no_email
            ]
        )
        self.assertEqual(alerts.warehouse_id, self.warehouse)
        self.assertEqual(set(alerts.mapped("source")), {"asked"})
        with self.assertRaises(ValidationError):
            Alert.create({"partner_id": asking.id, "product_id": self.frother.id})

        self._set_stock(self.frother, 3)
        self.env["crm.retail.stock.alert"]._cron_send_back_in_stock()
        self.assertEqual(self._mails(alerts).recipient_ids, asking)
        self.assertEqual(alerts.mapped("state"), ["sent", "cancelled", "cancelled"])
        self.assertEqual(
            alerts[1:].mapped("cancel_reason"),
            [
                "The customer's email address is blacklisted.",
                "The customer has no email address.",
            ],
        )

    # ------------------------------------------------------------
    # Access
    # ------------------------------------------------------------

    def test_access(self):
        self._refresh()
        other_reco = self.env["crm.retail.recommendation"].create(
            {
                "partner_id": self.jordan.id,
                "product_id": self.beans.id,
                "company_id": self.other_company.id,
                "kind": "overstock",
            }
        )
        staff_recos = (
            self.env["crm.retail.recommendation"].with_user(self.store_staff).search([])
        )
        self.assertTrue(staff_recos)
        self.assertEqual(staff_recos.company_id, self.company)
        self.assertEqual(
            self.env["crm.retail.recommendation"]
            .with_user(self.store_staff_b)
            .search([]),
            other_reco,
        )
        self.assertTrue(
            self.env["crm.retail.product.affinity"]
            .with_user(self.store_staff)
            .search([("product_id", "=", self.beans.id)])
        )
        with self.assertRaises(AccessError):
            other_reco.with_user(self.store_staff).read(["product_id"])
        with self.assertRaises(AccessError):
            self.env["crm.retail.recommendation"].with_user(
                self.store_staff
            ).action_refresh()
        with self.assertRaises(AccessError):
            self.env["crm.retail.recommendation"].with_user(self.store_staff).create(
                {
                    "partner_id": self.jordan.id,
                    "product_id": self.beans.id,
                    "kind": "reorder",
                }
            )
        # A CRM salesman without the retail groups reads nothing of it.
        for model in (
            "crm.retail.recommendation",
            "crm.retail.product.affinity",
            "crm.retail.stock.alert",
        ):
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.salesman_a).search([])
        with self.assertRaises(AccessError):
            self.env["crm.retail.recommendation"].with_user(
                self.salesman_a
            )._for_partners(self.jordan)

    def test_manager_refresh_button(self):
        manager = self.env["res.users"].create(
            {
                "name": "Retail Manager",
                "login": "reco_retail_manager",
                "groups_id": [
                    Command.link(self.env.ref("crm_retail.group_retail_manager").id)
                ],
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
            }
        )
        self.env["crm.retail.recommendation"].with_user(manager).action_refresh()
        self.assertIn((self.frother, "co_purchase"), self._recommended(self.jordan))
