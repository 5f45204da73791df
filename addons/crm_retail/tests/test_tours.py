from odoo.tests import tagged

from odoo.addons.crm_core.tests.common import BrowserTourCase

from .test_customer_360 import Retail360Common


@tagged("post_install", "-at_install")
class TestRetailCardTour(Retail360Common, BrowserTourCase):
    """Store staff (the lowest retail group) open a customer with a card in the
    web client, at desktop and phone width: the Customer 360° page shows the
    tier, points, points expiring soon and the products to recommend, and opens
    the card. The customer, card, lots and recommendation are built by the test
    (Retail360Common), not taken from the demo data."""

    def _run(self, size):
        self.start_tour_at(
            size,
            f"/odoo/res.partner/{self.customer.id}",
            "crm_retail_card",
            login=self.store_staff.login,
        )

    def test_card_desktop(self):
        self._run("desktop")

    def test_card_phone(self):
        self._run("phone")
