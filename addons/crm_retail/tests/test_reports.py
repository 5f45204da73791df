from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from .common import RetailCommon


@tagged("post_install", "-at_install")
class TestRetailReports(RetailCommon):
    """The retail RFM and the loyalty liability on a hand-built history, and who
    may read them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.today()
        Partner = cls.env["res.partner"]
        cls.cafe = Partner.create({"name": "Corner Cafe", "is_company": True})
        cls.deli = Partner.create({"name": "Deli Two", "is_company": True})
        cls.tea_room = Partner.create({"name": "Tea Room", "is_company": True})
        # Bean There: 3 invoices (one of them to its contact), a credit note.
        for partner, lines, days in (
            (cls.contact, [(cls.frother, 50, 40.0)], 5),
            (cls.customer, [(cls.beans, 100, 10.0)], 60),
            (cls.customer, [(cls.beans, 100, 10.0)], 200),
            (cls.cafe, [(cls.beans, 100, 10.0)], 10),
            (cls.cafe, [(cls.beans, 50, 10.0)], 40),
            (cls.deli, [(cls.beans, 30, 10.0)], 100),
            (cls.tea_room, [(cls.beans, 30, 10.0)], 10),
        ):
            cls._invoice(partner, lines, date=cls.today - timedelta(days=days))
        cls._invoice(
            cls.customer,
            [(cls.beans, 50, 10.0)],
            date=cls.today - timedelta(days=3),
            move_type="out_refund",
        )
        # Drafts and the other company's invoices do not count.
        cls._invoice(cls.cafe, [(cls.beans, 500, 10.0)], date=cls.today, post=False)
        cls.other_customer_b = Partner.create(
            {"name": "Far Away Shop", "is_company": True}
        )
        move_b = (
            cls.env["account.move"]
            .with_company(cls.other_company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": cls.other_customer_b.id,
                    "invoice_date": cls.today,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": cls.beans.id,
                                "quantity": 7,
                                "price_unit": 10.0,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        move_b.action_post()
        cls.gold = cls.env["crm.retail.tier"].create(
            {"program_id": cls.program.id, "name": "Gold", "threshold": 2000}
        )

        cls.retail_manager = new_test_user(
            cls.env,
            "retail_manager",
            groups="crm_retail.group_retail_manager",
            company_id=cls.company.id,
        )
        cls.accountant = new_test_user(
            cls.env,
            "retail_accountant",
            groups="account.group_account_readonly",
            company_id=cls.company.id,
        )
        cls.retail_manager_b = new_test_user(
            cls.env,
            "retail_manager_b",
            groups="crm_retail.group_retail_manager",
            company_id=cls.other_company.id,
            company_ids=[Command.set(cls.other_company.ids)],
        )

    # ------------------------------------------------------------------
    # RFM
    # ------------------------------------------------------------------
    def _rfm(self, user=None):
        report = self.env["crm.retail.rfm.report"].with_user(
            user or self.retail_manager
        )
        return {row.partner_id: row for row in report.search([])}

    def test_rfm_scores_and_segments(self):
        """Four customers, scored by NTILE(5) with ties sharing a score:

        ============  ====  ====  ======  ===  ===  ===  ============
        customer      last  inv.  net     R    F    M    segment
        ============  ====  ====  ======  ===  ===  ===  ============
        Bean There    -5    3     3500    4    4    4    Champions
        Corner Cafe   -10   2     1500    2    3    3    At Risk
        Tea Room      -10   1     300     2    1    1    Hibernating
        Deli Two      -100  1     300     1    1    1    Lost
        ============  ====  ====  ======  ===  ===  ===  ============
        """
        card = self._card()
        # sudo: the tier is the review's to set; the test sets it directly.
        card.sudo().crm_tier_id = self.gold
        rows = self._rfm()
        self.assertEqual(
            set(rows),
            {self.customer, self.cafe, self.deli, self.tea_room},
            "one row per commercial entity with a posted invoice, this company only",
        )
        expected = {
            self.customer: (5, 3, 3500.0, "444", "champions"),
            self.cafe: (10, 2, 1500.0, "233", "at_risk"),
            self.tea_room: (10, 1, 300.0, "211", "hibernating"),
            self.deli: (100, 1, 300.0, "111", "lost"),
        }
        for partner, values in expected.items():
            row = rows[partner]
            self.assertEqual(
                (
                    row.recency_days,
                    row.frequency,
                    row.monetary,
                    row.rfm_code,
                    row.segment,
                ),
                values,
                partner.name,
            )
            self.assertEqual(row.company_id, self.company)
        bean_there = rows[self.customer]
        self.assertEqual(bean_there.last_purchase_date, self.today - timedelta(days=5))
        self.assertEqual(
            (
                bean_there.recency_score,
                bean_there.frequency_score,
                bean_there.monetary_score,
            ),
            (4, 4, 4),
        )
        # Its card: 2000 + 1000 + 1000 earned, 500 taken back by the credit note.
        self.assertEqual(bean_there.card_id, card)
        self.assertEqual((bean_there.tier_id, bean_there.points), (self.gold, 3500.0))
        self.assertEqual(rows[self.cafe].points, 1500.0)
        self.assertFalse(rows[self.cafe].tier_id)

    def test_rfm_restricted_customer_left_out(self):
        """Someone who restricted processing is not profiled, and no longer counts
        in the others' scores."""
        self.deli.privacy_restricted = True
        rows = self._rfm()
        self.assertNotIn(self.deli, rows)
        # Three customers left: Tea Room is now the oldest and smallest.
        self.assertEqual(rows[self.tea_room].rfm_code, "111")
        self.assertEqual(rows[self.customer].rfm_code, "333")

    def test_rfm_grouped_in_pivot(self):
        groups = (
            self.env["crm.retail.rfm.report"]
            .with_user(self.retail_manager)
            ._read_group([], ["segment"], ["__count", "monetary:sum"])
        )
        self.assertEqual(
            sorted(groups),
            sorted(
                [
                    ("at_risk", 1, 1500.0),
                    ("champions", 1, 3500.0),
                    ("hibernating", 1, 300.0),
                    ("lost", 1, 300.0),
                ]
            ),
        )

    def test_rfm_companies_and_rights(self):
        rows_b = self._rfm(self.retail_manager_b)
        self.assertEqual(list(rows_b), [self.other_customer_b])
        self.assertEqual(rows_b[self.other_customer_b].monetary, 70.0)
        self.assertNotIn(self.other_customer_b, self._rfm())
        for user in (self.store_staff, self.accountant):
            with self.assertRaises(AccessError):
                self.env["crm.retail.rfm.report"].with_user(user).search([])

    # ------------------------------------------------------------------
    # Liability
    # ------------------------------------------------------------------
    def _liability_program(self, company, point_value):
        program = self.env["loyalty.program"].create(
            {
                "name": f"Liability {company.name}",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "company_id": company.id,
                "crm_earn_from_invoices": True,
                "crm_point_value": point_value,
                "rule_ids": [
                    Command.create(
                        {"reward_point_mode": "money", "reward_point_amount": 1}
                    )
                ],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount_mode": "per_point",
                            "discount": 1,
                            "required_points": 1,
                        }
                    )
                ],
            }
        )
        partner = self.env["res.partner"].create({"name": f"Holder {company.name}"})
        card = self.env["loyalty.card"].create(
            {"program_id": program.id, "partner_id": partner.id}
        )
        return program, card

    def _record(self, card, month, kind, issued=0.0, used=0.0):
        """A ledger line recorded in ``month`` (the 2nd, at noon UTC)."""
        line = (
            self.env["loyalty.history"]
            # sudo: the test writes the ledger as the posting flows do.
            .sudo()
            .create(
                {
                    "card_id": card.id,
                    "description": kind or "manual",
                    "issued": issued,
                    "used": used,
                    "crm_kind": kind,
                }
            )
        )
        line.flush_recordset()
        recorded = datetime.combine(month + timedelta(days=1), time(12))
        self.env.cr.execute(
            SQL(
                "UPDATE loyalty_history SET create_date = %s WHERE id = %s",
                recorded,
                line.id,
            )
        )
        line.invalidate_recordset(["create_date"])
        return line

    def test_liability_per_month(self):
        program, card = self._liability_program(self.company, 0.05)
        month = self.today.replace(day=1)
        m3, m1 = month - relativedelta(months=3), month - relativedelta(months=1)
        self._record(card, m3, "earn", issued=1000)
        self._record(card, m3, "earn", issued=500)
        self._record(card, m1, "redeem", used=300)
        self._record(card, m1, "refund", used=100)
        self._record(card, month, "expire", used=200)
        self._record(card, month, "release", issued=50)
        self._record(card, month, False, used=25)  # a manual correction
        rows = (
            self.env["crm.retail.loyalty.liability"]
            .with_user(self.accountant)
            .search([("program_id", "=", program.id)], order="date")
        )
        self.assertEqual(
            [
                (
                    row.date,
                    row.points_issued,
                    row.points_taken_back,
                    row.points_used,
                    row.points_expired,
                    row.points_outstanding,
                    row.outstanding_value,
                    row.expired_value,
                )
                for row in rows
            ],
            [
                (m3, 1500, 0, 0, 0, 1500, 75, 0),
                # No movement: the balance is carried to the month's end.
                (m3 + relativedelta(months=1), 0, 0, 0, 0, 1500, 75, 0),
                (m1, 0, 100, 300, 0, 1100, 55, 0),
                (month, 50, 0, 25, 200, 925, 46.25, 10),
            ],
        )
        # What is owed today is the current month's balance, not a sum of months
        # (the dashboard's "Points Liability Today" reads it so).
        self.assertEqual(rows.filtered("is_current").mapped("date"), [month])
        today = self.env["crm.retail.loyalty.liability"].read_group(
            [("program_id", "=", program.id), ("is_current", "=", True)],
            ["points_outstanding:sum"],
            [],
        )
        self.assertEqual(today[0]["points_outstanding"], 925)
        self.assertEqual(rows.company_id, self.company)
        self.assertEqual(rows.currency_id, self.company.currency_id)

    def test_liability_from_posted_invoices(self):
        """The ledger lines of the posting flows land in the report: this month,
        Bean There's 4000 earned less the 500 its credit note took back, plus the
        other customers' 2100."""
        row = (
            self.env["crm.retail.loyalty.liability"]
            .with_user(self.retail_manager)
            .search(
                [
                    ("program_id", "=", self.program.id),
                    ("date", "=", self.today.replace(day=1)),
                ]
            )
        )
        self.assertEqual(
            (row.points_issued, row.points_taken_back, row.points_outstanding),
            (6100, 500, 5600),
        )
        self.assertAlmostEqual(row.outstanding_value, 560.0)

    def test_liability_companies_and_rights(self):
        program_a, card_a = self._liability_program(self.company, 1.0)
        program_b, card_b = self._liability_program(self.other_company, 1.0)
        month = self.today.replace(day=1)
        self._record(card_a, month, "earn", issued=10)
        self._record(card_b, month, "earn", issued=20)
        Liability = self.env["crm.retail.loyalty.liability"]
        seen_a = Liability.with_user(self.accountant).search([]).program_id
        self.assertIn(program_a, seen_a)
        self.assertNotIn(program_b, seen_a)
        seen_b = Liability.with_user(self.retail_manager_b).search([])
        self.assertEqual(seen_b.program_id, program_b)
        self.assertEqual(seen_b.points_outstanding, 20)
        with self.assertRaises(AccessError):
            Liability.with_user(self.store_staff).search([])
