from datetime import datetime

from cryptography.fernet import Fernet

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.crm_core.tests.common import CrmCoreCommon

TZ = "Europe/Brussels"
FRONT_DESK = "crm_healthcare.group_healthcare_front_desk"
CLINICIAN = "crm_healthcare.group_healthcare_clinician"
MANAGER = "crm_healthcare.group_healthcare_manager"


def utc(*args):
    """A naive UTC datetime, as Odoo stores them."""
    return datetime(*args)


class HealthcareCommon(CrmCoreCommon):
    """A clinic in Brussels working Monday to Friday 8:00-12:00 and 13:00-17:00
    local time, two providers, a room, a 30-minute consultation with 5-minute
    buffers and patients; users of each group, a portal patient and a plain CRM
    salesman (``salesman_a`` of ``CrmCoreCommon``).

    Built on the accounting test base of ``crm_core`` so that visits can be
    invoiced in the company's chart of accounts. Monday 2030-01-07 is in winter:
    Brussels is UTC+1, so 9:00 there is 8:00 UTC.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id += cls.env.ref(MANAGER)
        # Tests sign in by password like an API client, which two-factor
        # authentication refuses; test_safeguards switches it on to test it.
        cls.env["ir.config_parameter"].set_param(
            "crm_healthcare.mfa_policy", "optional"
        )
        cls.env.user.tz = TZ
        cls.company.partner_id.tz = TZ
        cls.fernet_key = Fernet.generate_key().decode()
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "Clinic hours (Brussels)",
                "tz": TZ,
                "company_id": cls.company.id,
                "attendance_ids": [
                    Command.create(
                        {
                            "name": f"{day} {start}",
                            "dayofweek": str(day),
                            "hour_from": start,
                            "hour_to": end,
                            "day_period": "morning" if start < 12 else "afternoon",
                        }
                    )
                    for day in range(5)
                    for start, end in ((8, 12), (13, 17))
                ],
            }
        )
        company = {"company_id": cls.company.id, "tz": TZ}
        cls.front_desk = new_test_user(
            cls.env, "hc_front_desk", groups=FRONT_DESK, **company
        )
        cls.clinician_1 = new_test_user(
            cls.env, "hc_clinician_1", groups=CLINICIAN, name="Dr Ada Lane", **company
        )
        cls.clinician_2 = new_test_user(
            cls.env, "hc_clinician_2", groups=CLINICIAN, name="Dr Ben Oak", **company
        )
        cls.hc_manager = new_test_user(cls.env, "hc_manager", groups=MANAGER, **company)
        cls.salesman = cls.salesman_a

        Provider = cls.env["crm.healthcare.provider"]
        cls.provider_1, cls.provider_2 = Provider.create(
            [
                {
                    "user_id": user.id,
                    "resource_calendar_id": cls.calendar.id,
                    "company_id": cls.company.id,
                }
                for user in (cls.clinician_1, cls.clinician_2)
            ]
        )
        cls.room = cls.env["crm.healthcare.room"].create(
            {
                "name": "Room 1",
                "resource_calendar_id": cls.calendar.id,
                "company_id": cls.company.id,
            }
        )
        cls.consultation = cls.env["crm.healthcare.appointment.type"].create(
            {
                "name": "Consultation",
                "clinical_name": "Colposcopy",
                "duration": 0.5,
                "buffer_before": 5,
                "buffer_after": 5,
                "company_id": cls.company.id,
            }
        )
        cls.insurer = cls.env["res.partner"].create(
            {"name": "Mutual Health Insurance", "is_company": True}
        )
        cls.portal_user = new_test_user(
            cls.env,
            "hc_portal_patient",
            groups="base.group_portal",
            name="Paula Portal",
            **company,
        )
        Patient = cls.env["crm.healthcare.patient"]
        cls.patient_1, cls.patient_2, cls.patient_portal = Patient.create(
            [
                {
                    "partner_id": cls.env["res.partner"]
                    .create({"name": "Jordan Settings", "email": "jordan@example.com"})
                    .id,
                    "primary_provider_id": cls.provider_1.id,
                    "date_of_birth": "1980-05-04",
                    "insurer_id": cls.insurer.id,
                    "policy_number": "POL-1",
                    "coverage_percent": 80,
                    "allergies": "Penicillin",
                },
                {
                    "partner_id": cls.env["res.partner"]
                    .create({"name": "Casey Other", "email": "casey@example.com"})
                    .id,
                    "primary_provider_id": cls.provider_2.id,
                    "allergies": "Latex",
                },
                {"partner_id": cls.portal_user.partner_id.id},
            ]
        )
        cls.Appointment = cls.env["crm.healthcare.appointment"]

    @classmethod
    def _book(cls, start, patient=None, provider=None, user=None, **vals):
        Appointment = cls.Appointment.with_user(user) if user else cls.Appointment
        return Appointment.create(
            {
                "patient_id": (patient or cls.patient_1).id,
                "provider_id": (provider or cls.provider_1).id,
                "appointment_type_id": cls.consultation.id,
                "start": start,
                **vals,
            }
        )
