from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import config

from .common import HealthcareCommon, utc

NINE = utc(2030, 1, 7, 8, 0)


@tagged("post_install", "-at_install")
class TestHealthcareAccess(HealthcareCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with patch.dict(config.options, {"crm_healthcare_key": cls.fernet_key}):
            cls.patient_1.clinical_note = "Suspected arrhythmia"
            cls.patient_2.clinical_note = "Chronic back pain"
        cls.appointment_portal = cls._book(
            utc(2030, 1, 7, 10, 0), patient=cls.patient_portal
        )
        cls.appointment_2 = cls._book(
            NINE, patient=cls.patient_2, provider=cls.provider_2
        )

    def setUp(self):
        super().setUp()
        self.startPatcher(
            patch.dict(config.options, {"crm_healthcare_key": self.fernet_key})
        )

    def test_front_desk_reads_demographics_not_clinical_data(self):
        patient = self.patient_1.with_user(self.front_desk)
        values = patient.read(
            ["name", "date_of_birth", "medical_record_number", "insurer_id"]
        )[0]
        self.assertEqual(values["name"], "Jordan Settings")
        self.assertEqual(str(values["date_of_birth"]), "1980-05-04")
        self.assertTrue(values["medical_record_number"].startswith("MRN"))
        for field in ("clinical_note", "allergies", "clinical_note_encrypted"):
            with self.subTest(field=field), self.assertRaises(AccessError):
                patient.read([field])
        self.assertNotIn("clinical_note", patient.fields_get(attributes=["type"]))

    def test_clinician_reads_notes_of_own_patients_only(self):
        as_clinician = self.env["crm.healthcare.patient"].with_user(self.clinician_1)
        # Their primary patient, and the patient they see for an appointment.
        self.assertEqual(
            as_clinician.browse(self.patient_1.id).clinical_note,
            "Suspected arrhythmia",
        )
        self._book(utc(2030, 1, 7, 9, 0), patient=self.patient_2)
        self.assertEqual(
            as_clinician.search([("id", "in", self.patient_2.ids)]),
            self.patient_2,
        )
        self.assertEqual(
            as_clinician.browse(self.patient_2.id).clinical_note, "Chronic back pain"
        )
        # Not the portal patient, whom another provider sees.
        self.appointment_portal.provider_id = self.provider_2
        self.assertFalse(as_clinician.search([("id", "=", self.patient_portal.id)]))
        with self.assertRaises(AccessError):
            as_clinician.browse(self.patient_portal.id).read(["name"])
        # Nor another provider's appointments.
        Appointment = self.Appointment.with_user(self.clinician_1)
        self.assertFalse(Appointment.search([("id", "=", self.appointment_2.id)]))

    def test_clinician_cannot_read_another_providers_patient_note(self):
        patient = self.patient_2.with_user(self.clinician_1)
        with self.assertRaises(AccessError):
            patient.read(["clinical_note"])
        with self.assertRaises(AccessError):
            patient.write({"clinical_note": "Overwritten"})

    def test_clinician_writes_own_patients_note(self):
        self.patient_1.with_user(
            self.clinician_1
        ).clinical_note = "Follow-up in 3 months"
        self.patient_1.invalidate_recordset()
        self.assertEqual(self.patient_1.clinical_note, "Follow-up in 3 months")

    def test_portal_reads_own_patient_and_appointments_only(self):
        Patient = self.env["crm.healthcare.patient"].with_user(self.portal_user)
        self.assertEqual(Patient.search([]), self.patient_portal)
        self.assertEqual(
            Patient.browse(self.patient_portal.id).read(["name"])[0]["name"],
            "Paula Portal",
        )
        with self.assertRaises(AccessError):
            Patient.browse(self.patient_1.id).read(["name"])
        with self.assertRaises(AccessError):
            Patient.browse(self.patient_portal.id).read(["date_of_birth"])
        with self.assertRaises(AccessError):
            Patient.browse(self.patient_portal.id).write({"reminder_channel": "sms"})
        Appointment = self.Appointment.with_user(self.portal_user)
        self.assertEqual(Appointment.search([]), self.appointment_portal)
        with self.assertRaises(AccessError):
            Appointment.browse(self.appointment_portal.id).action_cancel()

    def test_plain_crm_user_sees_no_patient(self):
        for model in ("crm.healthcare.patient", "crm.healthcare.appointment"):
            Model = self.env[model].with_user(self.salesman)
            with self.subTest(model=model), self.assertRaises(AccessError):
                Model.search([])
        with self.assertRaises(AccessError):
            self.patient_1.with_user(self.salesman).read(["name"])
        with self.assertRaises(AccessError):
            self.appointment_2.with_user(self.salesman).read(["start"])
        with self.assertRaises(AccessError):
            self.env["crm.healthcare.patient"].with_user(self.salesman).create(
                {"partner_id": self.contact_1.id}
            )

    def test_other_company_sees_no_patient(self):
        manager = self.other_company_manager
        manager.groups_id += self.env.ref("crm_healthcare.group_healthcare_manager")
        Patient = self.env["crm.healthcare.patient"].with_user(manager)
        self.assertFalse(Patient.search([]))
        self.assertFalse(self.Appointment.with_user(manager).search([]))
        with self.assertRaises(AccessError):
            Patient.browse(self.patient_1.id).read(["name"])

    def test_reads_are_audited(self):
        Log = self.env["crm.audit.log"]
        self.patient_1.with_user(self.front_desk).read(["name", "date_of_birth"])
        entry = Log.search(
            [
                ("model", "=", "crm.healthcare.patient"),
                ("operation", "=", "read"),
                ("user_id", "=", self.front_desk.id),
            ]
        )
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.res_ids, self.patient_1.ids)
        self.assertEqual(entry.field_names, "name, date_of_birth")
        self.appointment_2.with_user(self.front_desk).search_read(
            [("id", "=", self.appointment_2.id)], ["start"]
        )
        self.assertTrue(
            Log.search_count(
                [
                    ("model", "=", "crm.healthcare.appointment"),
                    ("operation", "=", "read"),
                    ("user_id", "=", self.front_desk.id),
                ]
            )
        )

    def test_clinical_values_never_copied_into_the_audit_log(self):
        self.patient_1.with_user(self.clinician_1).write(
            {"clinical_note": "Confidential finding", "allergies": "Nuts"}
        )
        entries = self.env["crm.audit.log"].search(
            [("model", "=", "crm.healthcare.patient"), ("operation", "=", "write")]
        )
        self.assertTrue(entries)
        logged = str(entries.mapped("changes"))
        self.assertNotIn("Confidential", logged)
        self.assertNotIn("Nuts", logged)

    def test_phi_marker(self):
        phi = self.env["crm.healthcare.patient"]._crm_phi_fields()
        for name in (
            "date_of_birth",
            "medical_record_number",
            "policy_number",
            "allergies",
            "clinical_note",
        ):
            self.assertIn(name, phi)
        self.assertNotIn("name", phi)
        self.assertNotIn("partner_id", phi)
        self.assertEqual(
            self.env["crm.healthcare.appointment.type"]._crm_phi_fields(),
            ["clinical_name"],
        )
        self.assertEqual(self.env["res.partner"]._crm_phi_fields(), [])
        # Nothing protected in what the chatter or the display name shows.
        for name in phi:
            self.assertFalse(
                getattr(self.patient_1._fields[name], "tracking", None), name
            )
        self.assertEqual(self.patient_1.display_name, "Jordan Settings")
