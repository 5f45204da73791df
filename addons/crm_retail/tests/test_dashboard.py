import json

from odoo.tests import new_test_user, tagged

from odoo.addons.crm_core.tests.test_dashboard import DashboardCase

from .test_customer_360 import Retail360Common


@tagged("post_install", "-at_install")
class TestDashboard(Retail360Common, DashboardCase):
    """A retail manager opens the Retail dashboard: the members per tier, the
    points liability and the points issued this month, the recommendations and
    the recommendations taken on confirmed orders are computed from the card,
    invoices, recommendation and order of the test. Store staff do not see it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dashboard = cls.env.ref("crm_retail.spreadsheet_dashboard_retail")
        cls.retail_manager = new_test_user(
            cls.env,
            "retail_dashboard_manager",
            groups="crm_retail.group_retail_manager",
            company_id=cls.company.id,
        )
        # Store staff add the recommended grinder to a quotation, confirmed; a
        # quotation with a recommended line is not counted.
        cls.order, cls.quotation = (
            cls.env["sale.order"]
            .with_user(cls.store_staff)
            .create([{"partner_id": cls.customer.id}, {"partner_id": cls.customer.id}])
        )
        for order in (cls.order, cls.quotation):
            wizard = (
                cls.env["crm.retail.suggest.wizard"]
                .with_user(cls.store_staff)
                .create({"order_id": order.id})
            )
            wizard.line_ids.write({"selected": True, "quantity": 2})
            wizard.action_add()
        cls.order.action_confirm()

    def _taken(self, user):
        """What the "Recommendations taken" pivot of the dashboard reads."""
        data = json.loads(self.dashboard.spreadsheet_data)
        pivot = next(
            pivot
            for pivot in data["pivots"].values()
            if pivot["model"] == "sale.order.line"
        )
        return (
            self.env["sale.order.line"]
            .with_user(user)
            ._read_group(
                pivot["domain"],
                ["crm_recommendation_kind"],
                ["__count", "price_subtotal:sum"],
            )
        )

    def test_dashboard_figures_for_managers_only(self):
        self.assertEqual(self.card.crm_tier_id, self.gold)
        self.assertEqual(self.card.points, 300)
        self.assertEqual(
            self.order.order_line.mapped("crm_recommendation_kind"), ["co_purchase"]
        )
        self.assertEqual(self._taken(self.retail_manager), [("co_purchase", 1, 240.0)])
        self.assertDashboardServes(self.dashboard, self.retail_manager)
        self.assertDashboardHidden(self.dashboard, self.store_staff)

    def test_dashboard_opens(self):
        self.open_dashboard("crm_retail_dashboard", self.retail_manager)
