from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.crm_marketing.models.crm_marketing_rfm import (
    RFM_CELL_MAP,
    RFM_CELLS,
)

from .test_segment_common import EXPECTED, SegmentCommon


@tagged("post_install", "-at_install")
class TestSegmentRfm(SegmentCommon):
    def _rows(self, company=None):
        rows = self.env["crm.marketing.rfm"].search(
            [("company_id", "=", (company or self.company).id)]
        )
        return {row.partner_id: row for row in rows}

    def test_scores_and_cells_by_quintile(self):
        rows = self._rows()
        self.assertEqual(
            self._keys(self.env["res.partner"].union(*rows)), sorted(EXPECTED)
        )
        for key, (code, cell, lifecycle) in EXPECTED.items():
            row = rows[self.customers[key]]
            with self.subTest(customer=key):
                self.assertEqual(
                    (row.rfm_code, row.cell, row.lifecycle), (code, cell, lifecycle)
                )
        c7 = rows[self.customers["c7"]]
        # Credit notes lower the amount, not the count or the recency.
        self.assertEqual((c7.frequency, c7.recency_days), (3, 30))
        self.assertAlmostEqual(c7.monetary, 4600)
        # The draft invoice of today does not count.
        c1 = rows[self.customers["c1"]]
        self.assertEqual((c1.frequency, c1.recency_days), (1, 300))
        self.assertAlmostEqual(c1.monetary, 200)
        # Four customers with one invoice share the lowest frequency score.
        self.assertEqual(
            {rows[self.customers[key]].frequency_score for key in ("c0", "c1", "c6")},
            {1},
        )

    def test_other_company_invoices_count_there_only(self):
        elsewhere = self._rows(self.other_company)
        self.assertEqual(
            set(elsewhere), {self.customers["c0"], self.other_company_customer}
        )
        row = elsewhere[self.customers["c0"]]
        self.assertEqual((row.frequency, row.recency_days), (1, 0))
        self.assertAlmostEqual(row.monetary, 99000)
        self.assertEqual(row.lifecycle, "new")
        # Here, c0's recent invoice elsewhere changes nothing.
        here = self._rows()[self.customers["c0"]]
        self.assertEqual((here.recency_days, here.rfm_code), (400, "111"))
        self.assertNotIn(self.other_company_customer, self._rows())

    def test_a_new_invoice_shows_at_once(self):
        c6 = self.customers["c6"]
        self.assertEqual(self._rows()[c6].frequency, 1)
        self._create_customer_invoice(c6, 100)
        row = self._rows()[c6]
        self.assertEqual((row.frequency, row.recency_days), (2, 0))
        self.assertEqual(len(self._rows()), 10, "nobody left the analysis")

    def test_cancelled_invoices_leave_the_analysis(self):
        invoice = self.env["account.move"].search(
            [("partner_id", "=", self.customers["c3"].id), ("state", "=", "posted")]
        )
        invoice.button_draft()
        invoice.button_cancel()
        rows = self._rows()
        self.assertNotIn(self.customers["c3"], rows)
        self.assertEqual(len(rows), 9)

    def test_restricted_and_erased_people_are_not_profiled(self):
        c8, c9 = self.customers["c8"], self.customers["c9"]
        export = self.env["crm.privacy.engine"]._export(c9)
        self.assertEqual(
            [(row["cell"], row["rfm_code"]) for row in export["crm.marketing.rfm"]],
            [("loyal", "533")],
        )
        # sudo: restriction is recorded by a data-subject request.
        c8.sudo().privacy_restricted = True
        self.assertNotIn(c8, self._rows())
        self.env["crm.privacy.engine"]._erase(c9)
        self.assertNotIn(c9, self._rows())
        self.assertEqual(len(self._rows()), 8)

    def test_marketers_read_cells_managers_read_amounts(self):
        row = self._rows()[self.customers["c8"]]
        as_marketer = row.with_user(self.marketer)
        self.assertEqual(as_marketer.cell, "champions")
        with self.assertRaises(AccessError):
            as_marketer.read(["monetary"])
        self.assertAlmostEqual(row.with_user(self.marketing_manager).monetary, 9000)
        with self.assertRaises(AccessError):
            self.env["crm.marketing.rfm"].with_user(self.salesman_a).search([])
        other_marketer = new_test_user(
            self.env,
            "marketer_other_rfm",
            groups="crm_marketing.group_marketing_user",
            company_id=self.other_company.id,
            company_ids=[Command.set(self.other_company.ids)],
        )
        visible = (
            self.env["crm.marketing.rfm"]
            .with_user(other_marketer)
            .search([("partner_id", "in", self.customers["c0"].ids)])
        )
        self.assertEqual(visible.company_id, self.other_company)

    def test_every_score_has_a_named_cell(self):
        self.assertEqual(
            set(RFM_CELL_MAP), {(r, fm) for r in range(1, 6) for fm in range(1, 6)}
        )
        self.assertEqual(set(RFM_CELL_MAP.values()), {code for code, _ in RFM_CELLS})
