from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from odoo.addons.crm_core.tests.common import BrowserTourCase

from .common import CrmMarketingCommon

SEGMENT = "Tour new customers"
JOURNEY = "Tour welcome journey"


@tagged("post_install", "-at_install")
class TestSegmentJourneyTour(CrmMarketingCommon, BrowserTourCase):
    """A marketer builds a segment of new customers and a journey on it, through the
    web client at desktop and at phone width."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tour_marketer = new_test_user(
            cls.env,
            "tour_marketer",
            groups="crm_marketing.group_marketing_user",
            company_id=cls.company.id,
        )
        customers = cls.env["res.partner"].create(
            [{"name": f"Tour Buyer {i}", "is_company": True} for i in range(3)]
        )
        cls.new_customers, lapsed = customers[:2], customers[2]
        # First invoices today for two of them; the third bought long ago.
        for customer in cls.new_customers:
            cls._create_customer_invoice(customer, 1000)
        cls._create_customer_invoice(
            lapsed, 1000, invoice_date=fields.Date.today() - timedelta(days=400)
        )

    def _run(self, size):
        self.start_tour_at(
            size,
            "/odoo/action-crm_marketing.crm_marketing_segment_action",
            "crm_marketing_segment_journey",
            login=self.tour_marketer.login,
        )
        segment = self.env["crm.marketing.segment"].search([("name", "=", SEGMENT)])
        self.assertEqual(len(segment), 1)
        self.assertEqual(segment.target_model, "res.partner")
        self.assertEqual(
            segment.lifecycle_ids,
            self.env.ref("crm_marketing.segment_criterion_lifecycle_new"),
        )
        self.assertFalse(segment.rfm_cell_ids | segment.engagement_band_ids)
        self.assertEqual(segment.user_id, self.tour_marketer)
        self.assertEqual(segment.company_id, self.company)
        # The refresh stored the new customers, not the lapsed one.
        self.assertEqual(segment.member_count, 2)
        self.assertEqual(segment.member_ids.partner_id, self.new_customers)
        self.assertTrue(segment.date_refresh)

        journey = self.env["crm.marketing.journey"].search([("name", "=", JOURNEY)])
        self.assertEqual(len(journey), 1)
        self.assertEqual(journey.segment_id, segment)
        self.assertEqual(journey.target_model, "res.partner")
        self.assertEqual(journey.state, "draft")
        self.assertEqual(journey.user_id, self.tour_marketer)
        step = journey.step_ids
        self.assertEqual(len(step), 1)
        self.assertEqual(step.name, "Wait two days")
        self.assertEqual(step.action_type, "wait")
        self.assertEqual((step.delay_number, step.delay_unit), (2, "days"))
        self.assertFalse(step.parent_id)
        self.assertFalse(step.mailing_id)

    def test_segment_and_journey_desktop(self):
        self._run("desktop")

    def test_segment_and_journey_phone(self):
        self._run("phone")
