from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL, config

from .common import HealthcareCommon

NOTE = "Patient reports chest pain after exercise"


@tagged("post_install", "-at_install")
class TestClinicalNoteEncryption(HealthcareCommon):
    def _column(self, patient):
        self.env.flush_all()
        return self.env.execute_query(
            SQL(
                """
                SELECT clinical_note_encrypted
                  FROM crm_healthcare_patient
                 WHERE id = %s
                """,
                patient.id,
            )
        )[0][0]

    def test_column_holds_no_plaintext_and_round_trips(self):
        with patch.dict(config.options, {"crm_healthcare_key": self.fernet_key}):
            self.patient_1.with_user(self.clinician_1).clinical_note = NOTE
            stored = self._column(self.patient_1)
            self.assertTrue(stored)
            self.assertNotIn("chest", stored)
            self.assertEqual(
                Fernet(self.fernet_key).decrypt(stored.encode()).decode(), NOTE
            )
            self.patient_1.invalidate_recordset()
            self.assertEqual(
                self.patient_1.with_user(self.clinician_1).clinical_note, NOTE
            )
            self.patient_1.clinical_note = False
            self.assertFalse(self._column(self.patient_1))
            self.patient_1.clinical_note = NOTE
        # Another key decrypts nothing, and says nothing.
        other_key = Fernet.generate_key().decode()
        with (
            patch.dict(config.options, {"crm_healthcare_key": other_key}),
            self.assertLogs(
                "odoo.addons.crm_healthcare.models.crm_healthcare_patient", "WARNING"
            ),
        ):
            self.patient_1.invalidate_recordset()
            self.assertFalse(self.patient_1.clinical_note)

    def test_no_key(self):
        with patch.dict(config.options, {"crm_healthcare_key": self.fernet_key}):
            self.patient_1.clinical_note = NOTE
        with patch.dict(config.options, {"crm_healthcare_key": ""}):
            self.patient_1.invalidate_recordset()
            # Nothing decrypted, nothing raised: the form still opens.
            self.assertFalse(self.patient_1.clinical_note)
            with self.assertRaises(UserError) as caught:
                self.patient_1.with_user(self.clinician_1).clinical_note = "New"
            self.assertIn("crm_healthcare_key", str(caught.exception))
        self.assertTrue(self._column(self.patient_1))

    def test_not_exportable_nor_searchable(self):
        fields = self.env["crm.healthcare.patient"].fields_get(
            ["clinical_note", "clinical_note_encrypted", "allergies"],
            attributes=["exportable", "searchable", "store"],
        )
        self.assertFalse(fields["clinical_note"]["exportable"])
        self.assertFalse(fields["clinical_note"]["searchable"])
        self.assertFalse(fields["clinical_note_encrypted"]["exportable"])
        self.assertTrue(fields["allergies"]["exportable"])
        field = self.env["crm.healthcare.patient"]._fields["clinical_note_encrypted"]
        self.assertFalse(field.index)
        self.assertFalse(field.prefetch)
        self.assertFalse(field.copy)
