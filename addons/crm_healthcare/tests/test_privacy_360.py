import json
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import config

from .common import HealthcareCommon, utc

FIGURES = [
    "healthcare_visit_count",
    "healthcare_no_show_count",
    "healthcare_balance",
]


@tagged("post_install", "-at_install")
class TestPrivacy360(HealthcareCommon):
    """The contact's 360° shows the clinic's figures to its staff only; a
    data-subject export hands over the patient record's administrative data
    and visits, erasure keeps the medical record and says why."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with patch.dict(config.options, {"crm_healthcare_key": cls.fernet_key}):
            cls.patient_1.clinical_note = "Suspected arrhythmia"
        cls.partner = cls.patient_1.partner_id
        for start in (utc(2030, 1, 7, 8, 0), utc(2030, 1, 7, 9, 0)):
            visit = cls._book(start)
            visit.action_check_in()
            visit.action_done()
        # Monday 2025-01-06, long past: missed.
        cls._book(utc(2025, 1, 6, 8, 0)).action_no_show()
        cls._book(utc(2030, 1, 8, 8, 0))
        cls._create_customer_invoice(cls.partner, 120.0)

    def test_front_desk_sees_visits_no_shows_and_balance(self):
        values = self.partner.with_user(self.front_desk).read(FIGURES)[0]
        self.assertEqual(
            (
                values["healthcare_visit_count"],
                values["healthcare_no_show_count"],
                values["healthcare_balance"],
            ),
            (2, 1, 120.0),
        )
        self.assertEqual(
            str(self.partner.with_user(self.front_desk).healthcare_next_visit),
            "2030-01-08 08:00:00",
        )
        arch = (
            self.env["res.partner"]
            .with_user(self.front_desk)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertIn('name="healthcare_360"', arch)
        self.assertIn("healthcare_balance", arch)

    def test_salesman_sees_no_clinic_figure(self):
        partner = self.partner.with_user(self.salesman)
        self.assertTrue(partner.read(["name"]))
        for field in FIGURES:
            with self.assertRaises(AccessError):
                partner.read([field])
        self.assertFalse(set(FIGURES) & set(partner.fields_get()))
        arch = (
            self.env["res.partner"]
            .with_user(self.salesman)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertNotIn("healthcare_visit_count", arch)
        self.assertNotIn("healthcare_balance", arch)

    def test_clinician_counts_only_their_visits(self):
        values = self.partner.with_user(self.clinician_2).read(FIGURES)[0]
        self.assertEqual(values["healthcare_visit_count"], 0)

    def test_export_has_the_patient_record_and_visits_not_clinical_data(self):
        data = (
            self.env["crm.privacy.engine"]
            .with_user(self.compliance)
            ._export(self.partner)
        )
        (patient,) = data["crm.healthcare.patient"]
        self.assertEqual(
            patient["medical_record_number"], self.patient_1.medical_record_number
        )
        self.assertEqual(str(patient["date_of_birth"]), "1980-05-04")
        self.assertEqual(patient["insurer_id"][1], "Mutual Health Insurance")
        self.assertNotIn("allergies", patient)
        self.assertNotIn("clinical_note", patient)
        visits = data["crm.healthcare.appointment"]
        self.assertEqual(
            sorted(visit["state"] for visit in visits),
            ["booked", "done", "done", "no_show"],
        )
        self.assertEqual(
            {visit["appointment_type_id"][1] for visit in visits}, {"Consultation"}
        )
        dump = json.dumps(data, default=str)
        for clinical in ("Penicillin", "arrhythmia", "Colposcopy"):
            self.assertNotIn(clinical, dump)
        self.assertNotIn("Casey Other", dump, "Another patient's data is not exported.")

    def test_erasure_keeps_the_medical_record_and_says_so(self):
        mrn = self.patient_1.medical_record_number
        request = (
            self.env["crm.privacy.request"]
            .with_user(self.compliance)
            .create({"partner_id": self.partner.id, "request_type": "erasure"})
        )
        request.action_erase()
        self.env.invalidate_all()
        self.assertTrue(self.partner.privacy_erased)
        self.assertFalse(self.partner.email)
        self.assertNotIn("Jordan", self.partner.name)
        # The medical record stays, as the law requires.
        self.assertTrue(self.patient_1.exists())
        self.assertEqual(self.patient_1.medical_record_number, mrn)
        self.assertEqual(self.patient_1.allergies, "Penicillin")
        self.assertEqual(len(self.patient_1.appointment_ids), 4)
        self.assertIn("Patient kept: medical records must be kept", request.resolution)
        self.assertIn("Appointment kept: medical records", request.resolution)
        self.assertNotIn("Jordan", request.resolution)
