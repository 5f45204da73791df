from odoo.tests import new_test_user, tagged

from odoo.addons.crm_core.tests.test_dashboard import DashboardCase

from .test_customer_360 import Retail360Common


@tagged("post_install", "-at_install")
class TestDashboard(Retail360Common, DashboardCase):
    """A retail manager opens the Retail dashboard: the members per tier, the
    points liability and the points issued this month and the recommendations are
    computed from the card, invoices and recommendation of the test. Store staff do
    not see it."""

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

    def test_dashboard_figures_for_managers_only(self):
        self.assertEqual(self.card.crm_tier_id, self.gold)
        self.assertEqual(self.card.points, 300)
        self.assertDashboardServes(self.dashboard, self.retail_manager)
        self.assertDashboardHidden(self.dashboard, self.store_staff)

    def test_dashboard_opens(self):
        self.open_dashboard("crm_retail_dashboard", self.retail_manager)
