from datetime import date

from odoo import Command
from odoo.tests import tagged

from .test_roi_common import RoiCommon


@tagged("post_install", "-at_install")
class TestRoiMargin(RoiCommon):
    """Cost of goods captured when invoices are posted, and attribution of the
    invoiced margin to campaigns."""

    def _line(self, move):
        return move.invoice_line_ids.filtered(lambda line: line.product_id)

    def test_cost_captured_at_posting_survives_cost_change(self):
        invoice = self._invoice_product(3, utm=self.spring_utm)
        self.assertEqual(self._line(invoice).crm_cost_at_posting, 120.0)
        self.assertEqual(
            self._campaign_figures(self.campaign),
            {
                "revenue": 300.0,
                "goods_cost": 120.0,
                "margin": 180.0,
                "marketing_cost": 0.0,
                "roi": False,
            },
        )

        self.product.with_company(self.company).standard_price = 70.0

        self.assertEqual(self._line(invoice).crm_cost_at_posting, 120.0)
        self.assertEqual(self._campaign_figures(self.campaign)["margin"], 180.0)

    def test_partial_credit_note_at_the_invoiced_cost(self):
        invoice = self._invoice_product(3, utm=self.spring_utm)
        self.product.with_company(self.company).standard_price = 70.0
        refund = invoice._reverse_moves([{"invoice_date": date(2026, 4, 20)}])
        # A credit note typed by hand names no campaign: it follows the invoice it
        # reverses.
        refund.write({"campaign_id": False, "medium_id": False, "source_id": False})
        self._line(refund).quantity = 1
        refund.action_post()

        # One machine comes back at the 40 it left at, not at today's 70.
        self.assertEqual(self._line(refund).crm_cost_at_posting, -40.0)
        figures = self._campaign_figures(self.campaign)
        self.assertEqual(figures["revenue"], 200.0)
        self.assertEqual(figures["goods_cost"], 80.0)
        self.assertEqual(figures["margin"], 120.0)

        # A credit note reversing nothing takes the product's cost of the day.
        standalone = self._invoice_product(
            2, move_type="out_refund", utm=self.spring_utm
        )
        self.assertEqual(self._line(standalone).crm_cost_at_posting, -140.0)
        self.assertEqual(self._campaign_figures(self.campaign)["margin"], 60.0)

    def test_reset_to_draft_captures_the_cost_again(self):
        invoice = self._invoice_product(3, utm=self.spring_utm)
        self.product.with_company(self.company).standard_price = 70.0

        invoice.button_draft()
        self._line(invoice).quantity = 2
        invoice.action_post()

        # Posting again is a new posting: quantity and cost are today's.
        self.assertEqual(self._line(invoice).crm_cost_at_posting, 140.0)
        self.assertEqual(self._campaign_figures(self.campaign)["margin"], 60.0)

    def test_cost_in_the_product_unit(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        invoice = self._invoice_product(2, price_unit=1000.0, post=False)
        self._line(invoice).product_uom_id = dozen
        invoice.action_post()
        # Two dozen machines at 40 each.
        self.assertEqual(self._line(invoice).crm_cost_at_posting, 960.0)

    def test_other_company_cost_and_lines_without_product(self):
        invoice = self._invoice_product(
            3, utm=self.spring_utm, company=self.other_company
        )
        self.assertEqual(self._line(invoice).crm_cost_at_posting, 30.0)
        service = self._create_customer_invoice(self.customer, 500.0, post=False)
        service.write(self.spring_utm)
        service.action_post()
        self.assertEqual(service.invoice_line_ids.crm_cost_at_posting, 0.0)
        # The service's 500 is all margin; the other company's invoice is not here.
        self.assertEqual(self._campaign_figures(self.campaign)["margin"], 500.0)

    def test_capture_queries_do_not_grow_with_the_batch(self):
        second = self.env["product.product"].create(
            {"name": "Grinder", "type": "consu", "standard_price": 15.0}
        )

        def queries_to_capture(count):
            invoices = self.env["account.move"].browse()
            for index in range(count):
                invoices += self._invoice_product(
                    index + 1, product=second if index % 2 else None, post=False
                )
            invoices.action_post()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            invoices.line_ids._crm_capture_cost_at_posting()
            return self.env.cr.sql_log_count - before, invoices

        queries_to_capture(1)  # warm the registry's caches (units, precisions)
        small_count, _small = queries_to_capture(2)
        large_count, large = queries_to_capture(8)
        self.assertEqual(large_count, small_count)
        self.assertEqual(
            large.invoice_line_ids.mapped("crm_cost_at_posting"),
            [40.0, 30.0, 120.0, 60.0, 200.0, 90.0, 280.0, 120.0],
        )

    def test_attribution_through_the_order_and_the_won_lead(self):
        campaign_order = self.env["utm.campaign"].create({"title": "Order campaign"})
        campaign_lead = self.env["utm.campaign"].create({"title": "Lead campaign"})
        lead = (
            self.env["crm.lead"]
            .with_context(crm_skip_assignment=True)
            .create(
                {
                    "name": "Ten machines",
                    "type": "opportunity",
                    "partner_id": self.customer.id,
                    "campaign_id": campaign_lead.id,
                    "stage_id": self.stage_won.id,
                }
            )
        )
        orders = self.env["sale.order"].create(
            [
                {"partner_id": self.customer.id, "campaign_id": campaign_order.id},
                {"partner_id": self.customer.id, "opportunity_id": lead.id},
            ]
        )
        for order, quantity in zip(orders, (2, 5), strict=True):
            order.order_line = [
                Command.create(
                    {
                        "product_id": self.product.id,
                        "product_uom_qty": quantity,
                        "price_unit": 100.0,
                        "tax_id": [Command.set([])],
                    }
                )
            ]
        orders.action_confirm()
        invoices = orders._create_invoices()
        # The invoice of the first order would carry its campaign: drop it to see
        # the order's own attribution at work.
        invoices.write(
            {
                "invoice_date": date(2026, 3, 15),
                "campaign_id": False,
                "medium_id": False,
                "source_id": False,
            }
        )
        invoices.action_post()

        self.assertEqual(
            self._campaign_figures(campaign_order),
            {
                "revenue": 200.0,
                "goods_cost": 80.0,
                "margin": 120.0,
                "marketing_cost": 0.0,
                "roi": False,
            },
        )
        self.assertEqual(self._campaign_figures(campaign_lead)["margin"], 300.0)
