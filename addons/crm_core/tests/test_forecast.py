from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CrmCoreCommon


@tagged("post_install", "-at_install")
class TestForecast(CrmCoreCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stage_proposal = cls.env["crm.stage"].create(
            {"name": "Proposal", "sequence": 5}
        )
        Lead = cls.env["crm.lead"].with_context(crm_skip_assignment=True)
        common = {
            "type": "opportunity",
            "team_id": cls.team_a.id,
            "user_id": cls.salesman_a.id,
            "company_id": cls.company.id,
        }
        Lead.create(
            [
                {
                    **common,
                    "name": "December deal",
                    "stage_id": cls.stage_proposal.id,
                    "expected_revenue": 1000,
                    "probability": 40,
                    "date_deadline": "2026-12-15",
                },
                {
                    **common,
                    "name": "January deal",
                    "stage_id": cls.stage_new.id,
                    "expected_revenue": 500,
                    "probability": 20,
                    "date_deadline": "2027-01-10",
                },
                {
                    **common,
                    "name": "Won deal",
                    "stage_id": cls.stage_won.id,
                    "expected_revenue": 9000,
                    "date_deadline": "2026-12-20",
                },
            ]
        )
        lost = Lead.create(
            {
                **common,
                "name": "Lost deal",
                "expected_revenue": 7000,
                "date_deadline": "2026-12-01",
            }
        )
        lost.action_set_lost()
        for amount, move_type in ((600, "out_invoice"), (100, "out_refund")):
            move = cls._create_customer_invoice(
                cls.customer,
                amount,
                move_type=move_type,
                invoice_date=date(2026, 12, 5),
                post=False,
            )
            move.invoice_user_id = cls.salesman_a
            move.action_post()
        # Odoo's lead scoring counted the won and lost deals above into team A's
        # history; set it to known figures: of the leads that reached "Proposal",
        # 3 were won and 1 lost; no history for the other stages.
        Frequency = cls.env["crm.lead.scoring.frequency"].sudo()
        Frequency.search(
            [("variable", "=", "stage_id"), ("team_id", "=", cls.team_a.id)]
        ).unlink()
        Frequency.create(
            {
                "variable": "stage_id",
                "value": str(cls.stage_proposal.id),
                "won_count": 3,
                "lost_count": 1,
                "team_id": cls.team_a.id,
            }
        )

    def _figures(self, user):
        groups = (
            self.env["crm.forecast.report"]
            .with_user(user)
            ._read_group(
                [("team_id", "=", self.team_a.id)],
                ["date:month"],
                [
                    "weighted_revenue:sum",
                    "forecast_revenue:sum",
                    "invoiced_revenue:sum",
                ],
            )
        )
        return {month.strftime("%Y-%m"): values for month, *values in groups}

    def test_forecast_against_invoiced_per_month(self):
        self.assertEqual(
            self._figures(self.manager),
            {
                # 1000 at 40 %, 1000 at 75 % (3 won of 4); 600 invoiced, 100 credited.
                "2026-12": [400.0, 750.0, 500.0],
                # No history for "New" in team A: the forecast falls back on 20 %.
                "2027-01": [100.0, 100.0, 0.0],
            },
        )

    def test_win_rate_and_export(self):
        self.manager.groups_id += self.env.ref("base.group_allow_export")
        report = self.env["crm.forecast.report"].with_user(self.manager)
        december = report.search(
            [
                ("team_id", "=", self.team_a.id),
                ("kind", "=", "pipeline"),
                ("stage_id", "=", self.stage_proposal.id),
            ]
        )
        self.assertEqual(december.win_rate, 75.0)
        rows = report.search([("team_id", "=", self.team_a.id)]).export_data(
            ["date", "kind", "team_id", "forecast_revenue", "invoiced_revenue"]
        )["datas"]
        self.assertEqual(len(rows), 4)

    def test_salesperson_refused(self):
        with self.assertRaises(AccessError):
            self.env["crm.forecast.report"].with_user(self.salesman_a).search([])

    def test_credit_note_counts_against_the_invoices_salesperson(self):
        invoice = self._create_customer_invoice(
            self.customer, 800, invoice_date=date(2026, 11, 5), post=False
        )
        invoice.invoice_user_id = self.salesman_a
        invoice.action_post()
        # The accountant, in no sales team, issues the credit note.
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "date": date(2026, 11, 20)})
        )
        credit_note = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        credit_note.invoice_user_id = self.env.user
        credit_note.action_post()
        row = self.env["crm.forecast.report"].search([("move_id", "=", credit_note.id)])
        self.assertEqual(row.user_id, self.salesman_a)
        self.assertEqual(row.team_id, self.team_a)
        self.assertEqual(row.invoiced_revenue, -800.0)
