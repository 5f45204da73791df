from odoo.exceptions import AccessError
from odoo.tests import tagged

from .test_roi_common import RoiCommon


@tagged("post_install", "-at_install")
class TestRoiAbTesting(RoiCommon):
    """An A/B test set to "Highest Invoiced Margin" sends the variant whose
    customers brought the most margin, not the most revenue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ab_campaign = cls.env["utm.campaign"].create({"title": "Summer A/B"})
        common = {
            "mailing_type": "mail",
            "body_html": "<p>Summer offers</p>",
            "mailing_model_id": cls.env.ref("base.model_res_partner").id,
            "campaign_id": cls.ab_campaign.id,
            "ab_testing_enabled": True,
            "ab_testing_pc": 10,
            # Chosen on the mailing's form, kept on its campaign.
            "ab_testing_winner_selection": "crm_invoiced_margin",
            "state": "done",
            "user_id": cls.marketer.id,
        }
        cls.mailing_a, cls.mailing_b = cls.env["mailing.mailing"].create(
            [
                {**common, "subject": "Variant A: cheap machines"},
                {**common, "subject": "Variant B: premium machines"},
            ]
        )
        cheap = cls.env["product.product"].create(
            {"name": "Entry Machine", "type": "consu", "standard_price": 90.0}
        )
        # Variant A sold more (500) at a thin margin (50); B less (300) at 180.
        cls._invoice_product(5, product=cheap, utm=cls._utm_of(cls.mailing_a))
        cls._invoice_product(3, utm=cls._utm_of(cls.mailing_b))

    @classmethod
    def _utm_of(cls, mailing):
        return {
            "campaign_id": mailing.campaign_id.id,
            "medium_id": mailing.medium_id.id,
            "source_id": mailing.source_id.id,
        }

    def test_winner_has_the_highest_invoiced_margin(self):
        mailings = (self.mailing_a | self.mailing_b).with_user(self.marketing_manager)
        self.assertEqual(mailings.mapped("crm_invoiced_margin"), [50.0, 180.0])

        self.assertEqual(
            self.ab_campaign.ab_testing_winner_selection, "crm_invoiced_margin"
        )
        # The marketer sends the winner without reading margins.
        self.mailing_a.with_user(self.marketer).action_send_winner_mailing()

        winner = self.ab_campaign.ab_testing_winner_mailing_id
        self.assertEqual(winner.subject, "Variant B: premium machines")
        self.assertEqual(winner.ab_testing_pc, 100)
        with self.assertRaises(AccessError):
            self.mailing_a.with_user(self.marketer).read(["crm_invoiced_margin"])

    def test_margin_counts_only_the_mailing_company(self):
        self._invoice_product(
            10, utm=self._utm_of(self.mailing_a), company=self.other_company
        )
        mailing_a = self.mailing_a.with_user(self.marketing_manager)
        # The marketer's company's invoices only: the other company's 900 stay out.
        self.assertEqual(mailing_a.crm_invoiced_margin, 50.0)
