from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import config

from .common import FRONT_DESK, HealthcareCommon, utc

NINE = utc(2030, 1, 7, 8, 0)
LINE_NAME = "Consultation 2030-01-07"


@tagged("post_install", "-at_install")
class TestInvoicing(HealthcareCommon):
    """Completed visits invoice the type's product, split with the insurer,
    one by one or for a whole day, by a front desk user with Billing rights;
    lines never say anything clinical."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create(
            {
                "name": "Consultation",
                "type": "service",
                "list_price": 75.55,
                "taxes_id": [Command.set([])],
                "description_sale": "Colposcopy with biopsy",
            }
        )
        cls.consultation.product_id = cls.product
        cls.billing_desk = new_test_user(
            cls.env,
            "hc_billing_desk",
            groups=f"{FRONT_DESK},account.group_account_invoice",
            company_id=cls.company.id,
            tz="Europe/Brussels",
        )
        with patch.dict(config.options, {"crm_healthcare_key": cls.fernet_key}):
            cls.patient_1.clinical_note = "Suspected cervical dysplasia"

    @classmethod
    def _visit(cls, start, patient=None, provider=None):
        appointment = cls._book(start, patient=patient, provider=provider)
        appointment.action_check_in()
        appointment.action_done()
        return appointment

    def _invoices(self, action):
        return self.env["account.move"].search(
            action.get("domain") or [("id", "=", action["res_id"])]
        )

    def _lines_by_partner(self, moves):
        return {
            move.partner_id.name: [
                (line.name, line.product_id, line.price_unit)
                for line in move.invoice_line_ids
            ]
            for move in moves
        }

    def test_visit_without_insurer_invoices_the_patient(self):
        visit = self._visit(NINE, self.patient_2, self.provider_2)
        action = visit.with_user(self.billing_desk).action_invoice()
        moves = self._invoices(action)
        self.assertEqual(len(moves), 1)
        self.assertEqual(moves.partner_id, self.patient_2.partner_id)
        self.assertEqual(moves.move_type, "out_invoice")
        self.assertEqual(moves.state, "draft")
        self.assertEqual(moves.amount_total, 75.55)
        self.assertEqual(
            self._lines_by_partner(moves),
            {"Casey Other": [(LINE_NAME, self.product, 75.55)]},
        )
        self.assertTrue(visit.invoiced)
        self.assertEqual(visit.invoice_line_ids, moves.invoice_line_ids)

    def test_insurer_pays_the_covered_share_the_patient_the_rest(self):
        visit = self._visit(NINE)
        moves = self._invoices(visit.with_user(self.billing_desk).action_invoice())
        # 80 % of 75.55 = 60.44; the patient pays the rest so both add up.
        self.assertEqual(
            self._lines_by_partner(moves),
            {
                "Mutual Health Insurance": [(LINE_NAME, self.product, 60.44)],
                "Jordan Settings": [(LINE_NAME, self.product, 15.11)],
            },
        )
        self.assertAlmostEqual(sum(moves.mapped("amount_total")), 75.55)
        self.assertEqual(visit.invoice_line_ids, moves.invoice_line_ids)
        self.assertEqual(visit.invoice_count, 2)

    def test_full_coverage_invoices_the_insurer_only(self):
        self.patient_1.coverage_percent = 100
        visit = self._visit(NINE)
        moves = self._invoices(visit.with_user(self.billing_desk).action_invoice())
        self.assertEqual(moves.partner_id, self.insurer)
        self.assertEqual(moves.amount_total, 75.55)

    def test_nothing_clinical_on_invoices(self):
        visit = self._visit(NINE)
        moves = self._invoices(visit.with_user(self.billing_desk).action_invoice())
        moves.action_post()
        texts = " ".join(
            str(value)
            for move in moves
            for value in (
                move.ref,
                move.narration,
                move.invoice_origin,
                move.payment_reference,
                *move.line_ids.mapped("name"),
            )
        )
        for clinical in (
            "Colposcopy",  # the type's clinical name and the product's description
            "biopsy",
            "Penicillin",  # allergies
            "dysplasia",  # clinical note
            "POL-1",  # policy number
            visit.patient_id.medical_record_number,
        ):
            self.assertNotIn(clinical, texts)
        self.assertEqual(set(moves.invoice_line_ids.mapped("name")), {LINE_NAME})

    def test_a_visit_is_invoiced_once(self):
        visit = self._visit(NINE)
        visit.with_user(self.billing_desk).action_invoice()
        with self.assertRaisesRegex(UserError, "already invoiced"):
            visit.with_user(self.billing_desk).action_invoice()
        # Nor again in the day's batch.
        wizard = (
            self.env["crm.healthcare.invoice.day"]
            .with_user(self.billing_desk)
            .create({"date": "2030-01-07"})
        )
        self.assertFalse(wizard.appointment_ids)
        with self.assertRaisesRegex(UserError, "no completed visit"):
            wizard.action_invoice()
        # Cancelling the invoice frees the visit.
        visit.invoice_line_ids.move_id.button_cancel()
        self.assertFalse(visit.invoiced)
        moves = self._invoices(visit.with_user(self.billing_desk).action_invoice())
        self.assertEqual(len(moves), 2)

    def test_only_completed_visits_by_billing_users(self):
        booked = self._book(NINE, patient=self.patient_2)
        with self.assertRaisesRegex(UserError, "not done"):
            booked.with_user(self.billing_desk).action_invoice()
        visit = self._visit(utc(2030, 1, 7, 9, 0), self.patient_2)
        with self.assertRaisesRegex(UserError, "Billing"):
            visit.with_user(self.front_desk).action_invoice()
        self.assertFalse(visit.invoiced)
        self.consultation.product_id = False
        with self.assertRaisesRegex(UserError, "service product"):
            visit.with_user(self.billing_desk).action_invoice()

    def test_invoice_the_day_in_batch_per_partner(self):
        jordan_1 = self._visit(NINE)
        jordan_2 = self._visit(utc(2030, 1, 7, 13, 0))
        casey = self._visit(NINE, self.patient_2, self.provider_2)
        next_day = self._visit(utc(2030, 1, 8, 8, 0), self.patient_2)
        open_visit = self._book(utc(2030, 1, 7, 14, 0), patient=self.patient_2)
        wizard = (
            self.env["crm.healthcare.invoice.day"]
            .with_user(self.billing_desk)
            .create({"date": "2030-01-07"})
        )
        self.assertEqual(wizard.appointment_ids, jordan_1 | jordan_2 | casey)
        moves = self._invoices(wizard.action_invoice())
        self.assertEqual(
            self._lines_by_partner(moves),
            {
                "Mutual Health Insurance": [(LINE_NAME, self.product, 60.44)] * 2,
                "Jordan Settings": [(LINE_NAME, self.product, 15.11)] * 2,
                "Casey Other": [(LINE_NAME, self.product, 75.55)],
            },
        )
        self.assertTrue(all((jordan_1 | jordan_2 | casey).mapped("invoiced")))
        self.assertEqual(len(jordan_1.invoice_line_ids), 2)
        self.assertNotEqual(jordan_1.invoice_line_ids, jordan_2.invoice_line_ids)
        self.assertFalse(next_day.invoiced or open_visit.invoiced)
