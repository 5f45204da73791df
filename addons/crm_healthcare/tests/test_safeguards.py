import re
from unittest.mock import patch

from odoo import http
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import (
    HOST,
    TEST_CURSOR_COOKIE_NAME,
    JsonRpcException,
    Opener,
    get_db_name,
)
from odoo.tools import config, mute_logger

from odoo.addons.mail.tests.common import MockEmail

from .common import HealthcareCommon

MFA_POLICY = "crm_healthcare.mfa_policy"
IDLE_TIMEOUT = "crm_healthcare.idle_timeout_minutes"
CLOCK = "odoo.addons.crm_healthcare.models.ir_http.time"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class SafeguardsCommon(HealthcareCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # HttpCase.authenticate signs in like an RPC client, which users who
        # must give a mailed code may not do: their tests sign in for real.
        cls.env["ir.config_parameter"].set_param(MFA_POLICY, "optional")
        cls.env["ir.config_parameter"].set_param(IDLE_TIMEOUT, "15")


@tagged("post_install", "-at_install")
class TestTwoFactorAuthentication(SafeguardsCommon, MockEmail):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Demo databases turn two-factor authentication off: never rely on it.
        cls.env["ir.config_parameter"].set_param(MFA_POLICY, "required")
        # The sender of the mailed code.
        cls.company.email = "clinic@example.com"

    def _login(self, user):
        """Post the login form of a new browser session with ``user``'s
        password; the response after redirections."""
        self.session = http.root.session_store.new()
        self.session.update(http.get_default_session(), db=get_db_name())
        self.opener = Opener(self.env.cr)
        self.opener.cookies.set("session_id", self.session.sid, domain=HOST, path="/")
        self.opener.cookies[TEST_CURSOR_COOKIE_NAME] = self.http_request_key
        csrf_token = CSRF_RE.search(self.url_open("/web/login").text)[1]
        return self.url_open(
            "/web/login",
            data={
                "login": user.login,
                "password": user.login,
                "csrf_token": csrf_token,
            },
        )

    def test_mfa_type_per_group(self):
        for user, expected in (
            (self.front_desk, "totp_mail"),
            (self.clinician_1, "totp_mail"),
            (self.hc_manager, "totp_mail"),
            (self.salesman, None),
            (self.employee, None),
            (self.portal_user, None),
        ):
            with self.subTest(user=user.login):
                self.assertEqual(user._mfa_type(), expected)
        # Odoo's own policy is left alone for everybody else.
        self.assertFalse(self.env["ir.config_parameter"].get_param("auth_totp.policy"))
        # An authenticator app takes precedence over the mailed code.
        self.clinician_2.sudo().totp_secret = "JBSWY3DPEHPK3PXP"
        self.assertEqual(self.clinician_2._mfa_type(), "totp")
        # Only a demo database turns it off; a wrong value keeps it on.
        self.env["ir.config_parameter"].set_param(MFA_POLICY, "nonsense")
        self.assertEqual(self.clinician_1._mfa_type(), "totp_mail")
        self.env["ir.config_parameter"].set_param(MFA_POLICY, "optional")
        self.assertIsNone(self.clinician_1._mfa_type())

    def test_settings_store_the_policy_both_ways(self):
        ICP = self.env["ir.config_parameter"]
        settings = self.env["res.config.settings"].create({})
        self.assertTrue(settings.crm_healthcare_mfa_enforced)
        self.assertEqual(settings.crm_healthcare_idle_timeout_minutes, 15)
        settings.crm_healthcare_mfa_enforced = False
        settings.crm_healthcare_idle_timeout_minutes = 5
        settings.execute()
        self.assertEqual(ICP.get_param(MFA_POLICY), "optional")
        self.assertEqual(ICP.get_param(IDLE_TIMEOUT), "5")
        self.env["res.config.settings"].create(
            {"crm_healthcare_mfa_enforced": True}
        ).execute()
        self.assertEqual(ICP.get_param(MFA_POLICY), "required")
        self.assertEqual(self.clinician_1._mfa_type(), "totp_mail")

    def test_clinician_login_asks_for_mailed_code(self):
        with self.mock_mail_gateway():
            response = self._login(self.clinician_1)
        # Second step: the code page, not the web client.
        self.assertTrue(response.request.path_url.startswith("/web/login/totp"))
        self.assertIn("authentication code just sent via email", response.text)
        self.env.invalidate_all()
        code = self.clinician_1._get_totp_mail_code()[0]
        code_mails = [
            mail
            for mail in self._mails
            if self.clinician_1.email in "".join(mail["email_to"])
            and code in mail["body"]
        ]
        self.assertEqual(len(code_mails), 1)
        # Not signed in until the code is given.
        with self.assertRaises(JsonRpcException):
            self.make_jsonrpc_request("/web/session/check")
        response = self.url_open(
            "/web/login/totp",
            data={"totp_token": code, "csrf_token": CSRF_RE.search(response.text)[1]},
        )
        self.assertEqual(response.request.path_url, "/odoo")
        info = self.make_jsonrpc_request("/web/session/get_session_info")
        self.assertEqual(info["uid"], self.clinician_1.id)

    def test_salesman_login_needs_no_second_step(self):
        response = self._login(self.salesman)
        self.assertEqual(response.request.path_url, "/odoo")


@tagged("post_install", "-at_install")
class TestIdleSessionTimeout(SafeguardsCommon):
    def setUp(self):
        super().setUp()
        self.now = 1_900_000_000.0
        clock = self.startPatcher(patch(CLOCK))
        clock.time.side_effect = lambda: self.now

    def _uid_after(self, minutes):
        """Let ``minutes`` pass, then ask the server who is signed in."""
        self.now += minutes * 60
        return self.make_jsonrpc_request("/web/session/get_session_info")["uid"]

    def test_clinician_logged_out_after_idle_period(self):
        self.authenticate(self.clinician_1.login, self.clinician_1.login)
        self.assertEqual(self._uid_after(0), self.clinician_1.id)
        # Activity restarts the period: 28 minutes signed in, never 15 idle.
        self.assertEqual(self._uid_after(14), self.clinician_1.id)
        self.assertEqual(self._uid_after(14), self.clinician_1.id)
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException) as error:
            self._uid_after(16)
        self.assertEqual(error.exception.args[0], "odoo.http.SessionExpiredException")
        # Logged out for good, not only for that request.
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException):
            self._uid_after(0)

    def test_front_desk_timeout_follows_the_setting(self):
        self.env["ir.config_parameter"].set_param(IDLE_TIMEOUT, "30")
        self.authenticate(self.front_desk.login, self.front_desk.login)
        self.assertEqual(self._uid_after(0), self.front_desk.id)
        self.assertEqual(self._uid_after(25), self.front_desk.id)
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException):
            self._uid_after(31)

    def test_other_users_are_not_timed_out(self):
        self.authenticate(self.salesman.login, self.salesman.login)
        self.assertEqual(self._uid_after(0), self.salesman.id)
        self.assertEqual(self._uid_after(8 * 60), self.salesman.id)


@tagged("post_install", "-at_install")
class TestPhiExport(SafeguardsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        export = cls.env.ref("base.group_allow_export")
        (cls.front_desk | cls.clinician_1 | cls.hc_manager | cls.salesman).write(
            {"groups_id": [(4, export.id)]}
        )

    def setUp(self):
        super().setUp()
        self.startPatcher(
            patch.dict(config.options, {"crm_healthcare_key": self.fernet_key})
        )

    def test_export_dialog_lists_phi_for_managers_only(self):
        self.authenticate(self.front_desk.login, self.front_desk.login)
        params = {
            "model": "crm.healthcare.patient",
            "domain": [],
            "import_compat": False,
        }
        offered = {
            field["id"]
            for field in self.make_jsonrpc_request("/web/export/get_fields", params)
        }
        self.assertIn("name", offered)
        self.assertIn("phone", offered)
        for field in ("date_of_birth", "medical_record_number", "insurer_id"):
            self.assertNotIn(field, offered)

        self.authenticate(self.hc_manager.login, self.hc_manager.login)
        offered = {
            field["id"]
            for field in self.make_jsonrpc_request("/web/export/get_fields", params)
        }
        for field in ("date_of_birth", "medical_record_number", "allergies"):
            self.assertIn(field, offered)
        self.assertNotIn("clinical_note", offered)
        self.assertNotIn("clinical_note_encrypted", offered)

    def test_fields_get_flags_phi_not_exportable(self):
        Patient = self.env["crm.healthcare.patient"]
        as_clinician = Patient.with_user(self.clinician_1).fields_get(
            attributes=["exportable"]
        )
        self.assertFalse(as_clinician["allergies"]["exportable"])
        self.assertTrue(as_clinician["name"]["exportable"])
        as_manager = Patient.with_user(self.hc_manager).fields_get(
            attributes=["exportable"]
        )
        self.assertTrue(as_manager["allergies"]["exportable"])
        self.assertFalse(as_manager["clinical_note"]["exportable"])
        # The clinical name of a type is PHI too.
        Type = self.env["crm.healthcare.appointment.type"].with_user(self.front_desk)
        self.assertFalse(
            Type.fields_get(["clinical_name"])["clinical_name"]["exportable"]
        )

    def test_export_data_refuses_phi_paths(self):
        patient = self.patient_1.with_user(self.front_desk)
        self.assertEqual(patient.export_data(["name"])["datas"], [["Jordan Settings"]])
        with self.assertRaisesRegex(UserError, "Date Of Birth|Date of Birth"):
            patient.export_data(["name", "date_of_birth"])
        # Through a relation, and with Odoo's id suffixes.
        appointment = self._book("2030-01-07 08:00:00").with_user(self.front_desk)
        with self.assertRaisesRegex(UserError, "Patient/"):
            appointment.export_data(["name", "patient_id/date_of_birth"])
        with self.assertRaises(UserError):
            appointment.export_data(["patient_id/insurer_id/id"])
        with self.assertRaises(UserError):
            appointment.export_data(["appointment_type_id/clinical_name"])
        self.assertEqual(
            appointment.export_data(["patient_id/name"])["datas"],
            [["Jordan Settings"]],
        )

    def test_manager_exports_phi_but_never_clinical_notes(self):
        self.patient_1.clinical_note = "Suspected arrhythmia"
        patient = self.patient_1.with_user(self.hc_manager)
        self.assertEqual(
            patient.export_data(["name", "policy_number"])["datas"],
            [["Jordan Settings", "POL-1"]],
        )
        for field in ("clinical_note", "clinical_note_encrypted"):
            with self.subTest(field=field), self.assertRaises(UserError):
                patient.export_data(["name", field])

    def test_other_models_export_as_before(self):
        self.assertEqual(
            self.customer.with_user(self.salesman).export_data(["name"])["datas"],
            [["Acme Corporation"]],
        )
