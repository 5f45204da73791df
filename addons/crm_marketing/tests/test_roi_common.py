from datetime import date

from odoo import Command
from odoo.tests import new_test_user

from .common import CrmMarketingCommon


class RoiCommon(CrmMarketingCommon):
    """A product costing 40 (10 in the other company), a campaign with its medium
    and source, and helpers to invoice it. Shared by the test_roi* modules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env, "portal_roi", groups="base.group_portal"
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Espresso Machine", "type": "consu", "list_price": 100.0}
        )
        cls.product.with_company(cls.company).standard_price = 40.0
        cls.product.with_company(cls.other_company).standard_price = 10.0
        cls.medium_newsletter = cls.env["utm.medium"].create({"name": "Newsletter"})
        cls.source_spring = cls.env["utm.source"].create({"name": "Spring letter"})
        cls.campaign = cls.env["utm.campaign"].create({"title": "Spring Sale"})
        cls.spring_utm = {
            "campaign_id": cls.campaign.id,
            "medium_id": cls.medium_newsletter.id,
            "source_id": cls.source_spring.id,
        }

    @classmethod
    def _invoice_product(
        cls,
        quantity,
        price_unit=100.0,
        utm=None,
        move_type="out_invoice",
        invoice_date=date(2026, 3, 10),
        product=None,
        company=None,
        post=True,
    ):
        move = (
            cls.env["account.move"]
            .with_company(company or cls.company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": cls.customer.id,
                    "invoice_date": invoice_date,
                    **(utm or {}),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": (product or cls.product).id,
                                "quantity": quantity,
                                "price_unit": price_unit,
                                "tax_ids": [Command.set([])],
                            }
                        )
                    ],
                }
            )
        )
        if post:
            move.action_post()
        return move

    def _campaign_figures(self, campaign, user=None, company=None):
        """{field: sum} of the ROI report for ``campaign`` as ``user``."""
        report = self.env["crm.marketing.roi.report"].with_user(
            user or self.marketing_manager
        )
        domain = [("campaign_id", "=", campaign.id)]
        if company:
            report = report.with_company(company)
            domain.append(("company_id", "=", company.id))
        measures = ["revenue", "goods_cost", "margin", "marketing_cost", "roi"]
        [row] = report._read_group(
            domain,
            [],
            [f"{measure}:sum" for measure in measures],
        )
        return dict(zip(measures, row, strict=True))
