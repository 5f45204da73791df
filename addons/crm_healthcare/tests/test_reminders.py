import re
from datetime import timedelta

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase

from .common import HealthcareCommon, utc

# Monday 2030-01-07 9:00 in Brussels.
NINE = utc(2030, 1, 7, 8, 0)
# Saturday 9:00 UTC: 47 hours before NINE, inside the 48 h reminder only.
BEFORE_48H = NINE - timedelta(hours=47)
# 1 hour before NINE: inside both the 48 h and the 2 h reminders.
BEFORE_2H = NINE - timedelta(hours=1)
# What must never reach a patient's message: the type's clinical name, the
# date of birth, allergies, the policy number, the medical record number prefix.
PROTECTED_TEXTS = ("Colposcopy", "1980", "Penicillin", "POL-1", "MRN")
PHI_REFUSED = "would show protected health information"


@tagged("post_install", "-at_install")
class TestReminders(HealthcareCommon, MockEmail, SMSCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Log = cls.env["crm.healthcare.reminder.log"]
        cls.purpose = cls.env.ref("crm_core.consent_purpose_health_reminders")
        cls.patient_1.partner_id.mobile = "+32 470 11 11 11"
        cls.patient_2.partner_id.mobile = "+32 470 22 22 22"
        cls.patient_1.reminder_channel = "email"
        cls.patient_2.reminder_channel = "sms"
        cls.rule_48h, cls.rule_2h = cls.env["crm.healthcare.reminder.rule"].create(
            [
                {
                    "appointment_type_id": cls.consultation.id,
                    "hours_before": 48,
                    "send_email": True,
                    "send_sms": True,
                },
                {
                    "appointment_type_id": cls.consultation.id,
                    "hours_before": 2,
                    "send_email": False,
                    "send_sms": True,
                },
            ]
        )
        cls.company.phone = "+32 2 555 00 00"
        cls.appointment_1 = cls._book(NINE, patient=cls.patient_1)
        cls.appointment_2 = cls._book(
            NINE, patient=cls.patient_2, provider=cls.provider_2
        )

    def _consent(self, patient, state="granted", channel="all"):
        return self.env["crm.consent"].create(
            {
                "partner_id": patient.partner_id.id,
                "purpose_id": self.purpose.id,
                "state": state,
                "channel": channel,
            }
        )

    def _run_cron(self, now):
        with freeze_time(now), self.mock_mail_gateway(), self.mockSMSGateway():
            self.Log._cron_send_reminders()
        return self.Log.search([])

    def _log(self, appointment, rule, channel):
        return self.Log.search(
            [
                ("appointment_id", "=", appointment.id),
                ("rule_id", "=", rule.id),
                ("channel", "=", channel),
            ]
        )

    # ------------------------------------------------------------------
    # Consent and channel
    # ------------------------------------------------------------------

    def test_consent_gate_per_channel(self):
        """Email allowed and chosen: sent. SMS chosen but its consent withdrawn:
        skipped with the reason, no SMS."""
        self._consent(self.patient_1)
        self._consent(self.patient_2)
        self._consent(self.patient_2, state="withdrawn", channel="sms")
        self._run_cron(BEFORE_48H)

        sent = self._log(self.appointment_1, self.rule_48h, "email")
        self.assertEqual(sent.state, "sent")
        self.assertEqual(len(self._new_mails), 1)
        self.assertEqual(self._new_mails.recipient_ids, self.patient_1.partner_id)
        self.assertEqual(sent.mail_id, self._new_mails)

        refused = self._log(self.appointment_2, self.rule_48h, "sms")
        self.assertEqual(refused.state, "skipped")
        self.assertIn("consent for health reminders does not allow SMS", refused.reason)
        self.assertFalse(self._new_sms)

    def test_no_consent_no_reminder(self):
        """Health reminders are opt-in: without a granted consent nothing goes."""
        self._run_cron(BEFORE_48H)
        logs = self.Log.search([("state", "!=", "skipped")])
        self.assertFalse(logs)
        self.assertFalse(self._new_mails)
        self.assertFalse(self._new_sms)
        reason = self._log(self.appointment_1, self.rule_48h, "email").reason
        self.assertIn("does not allow Email", reason)

    def test_channel_preference(self):
        """Only the channel the patient chose is used, even with consent for
        both; "no reminders" means none."""
        self._consent(self.patient_1)
        self._consent(self.patient_2)
        self.patient_1.reminder_channel = "sms"
        self.patient_2.reminder_channel = "none"
        self._run_cron(BEFORE_48H)

        self.assertEqual(
            self._log(self.appointment_1, self.rule_48h, "sms").state, "sent"
        )
        email = self._log(self.appointment_1, self.rule_48h, "email")
        self.assertEqual(
            (email.state, email.reason),
            ("skipped", "The patient asked for reminders by SMS."),
        )
        self.assertFalse(self._new_mails)
        self.assertSMSOutgoing(
            self.patient_1.partner_id, "+32470111111", content="Hello Jordan"
        )
        for channel in ("email", "sms"):
            log = self._log(self.appointment_2, self.rule_48h, channel)
            self.assertEqual(log.reason, "The patient asked for no reminders.")
        self.assertEqual(len(self._new_sms), 1)

    def test_sms_reminder_sent_through_odoo_queue(self):
        self._consent(self.patient_2)
        self._run_cron(BEFORE_48H)
        log = self._log(self.appointment_2, self.rule_48h, "sms")
        self.assertEqual(log.state, "sent")
        self.assertEqual(log.delivery_state, "queued")
        with self.mockSMSGateway():
            self.env["sms.sms"].sudo()._process_queue()
        self.assertSMSIapSent(["+32470222222"], content="Hello Casey")
        self.assertEqual(log.delivery_state, "delivered")

    # ------------------------------------------------------------------
    # Exactly once
    # ------------------------------------------------------------------

    def test_cron_twice_sends_once(self):
        self._consent(self.patient_1)
        self._consent(self.patient_2)
        first = self._run_cron(BEFORE_48H)
        self.assertEqual(len(first), 4)  # 2 appointments x 48 h rule x 2 channels
        self.assertEqual(len(self._new_mails), 1)
        # Same window again, and a second worker's claim: nothing more.
        second = self._run_cron(BEFORE_48H + timedelta(minutes=15))
        self.assertEqual(second, first)
        self.assertFalse(self._new_mails)
        self.assertFalse(self._new_sms)
        with freeze_time(BEFORE_48H):
            self.assertFalse(self.Log._claim_due(1000))

        # 2 hours before: the 2 h SMS reminder, once, for the SMS patient only.
        third = self._run_cron(BEFORE_2H)
        self.assertEqual(len(third - first), 2)
        self.assertEqual(len(self._new_sms), 1)
        self.assertEqual(self._new_sms.partner_id, self.patient_2.partner_id)
        self.assertFalse(self._run_cron(BEFORE_2H) - third)

    def test_log_is_unique_per_channel(self):
        """The database refuses a second log of the same reminder: what makes a
        second worker's claim insert nothing."""
        self._run_cron(BEFORE_48H)
        log = self._log(self.appointment_1, self.rule_48h, "email")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                # sudo: only the system writes the log; the key is what's tested.
                self.Log.sudo().create(
                    {
                        "appointment_id": log.appointment_id.id,
                        "patient_id": log.patient_id.id,
                        "rule_id": log.rule_id.id,
                        "channel": "email",
                        "company_id": log.company_id.id,
                    }
                )

    def test_closer_reminder_replaces_the_earlier_one(self):
        """Booked 1 hour ahead: the 2 h reminder goes, the 48 h one is skipped."""
        self._consent(self.patient_2)
        self._run_cron(BEFORE_2H)
        self.assertEqual(
            self._log(self.appointment_2, self.rule_48h, "sms").reason,
            "A closer reminder of this appointment replaces it.",
        )
        self.assertEqual(
            self._log(self.appointment_2, self.rule_2h, "sms").state, "sent"
        )
        self.assertEqual(len(self._new_sms), 1)

    def test_cancelled_and_past_appointments_not_reminded(self):
        self._consent(self.patient_1)
        self.appointment_1.action_cancel()
        self._run_cron(BEFORE_48H)
        self.assertFalse(
            self.Log.search([("appointment_id", "=", self.appointment_1.id)])
        )
        self._run_cron(NINE + timedelta(minutes=1))
        self.assertFalse(self._new_mails)

    # ------------------------------------------------------------------
    # Nothing protected in messages nor chatter
    # ------------------------------------------------------------------

    def test_sent_reminder_holds_nothing_protected(self):
        self._consent(self.patient_1)
        self._consent(self.patient_2)
        last_message = self.env["mail.message"].search([], order="id desc", limit=1)
        # sudo: the queue holds every user's mails; only those created below are sent.
        Mail = self.env["mail.mail"].sudo()
        last_mail = Mail.search([], order="id desc", limit=1)
        with freeze_time(BEFORE_48H), self.mock_mail_gateway(), self.mockSMSGateway():
            self.Log._cron_send_reminders()
            # Only the reminders: other addons' demo data may have queued mails.
            Mail.process_email_queue(ids=Mail.search([("id", ">", last_mail.id)]).ids)
            self.env["sms.sms"].sudo()._process_queue()
        self.assertEqual(len(self._mails), 1)
        email = self._mails[0]
        self.assertIn("Hello Jordan", email["body"])
        self.assertIn("Monday 7 January 2030", email["body"])
        self.assertIn("9:00", email["body"])
        self.assertIn("+32 2 555 00 00", email["body"])
        self.assertIn(f"/clinic/appointment/{self.appointment_1.id}/", email["body"])
        self.assertEqual(len(self._sms), 1)  # patient_2 asked for SMS
        self.assertIn("Hello Casey", self._sms[0]["body"])
        bodies = [email["body"], email["subject"]] + [sms["body"] for sms in self._sms]
        for text in PROTECTED_TEXTS + ("Settings", "Latex"):
            for body in bodies:
                self.assertNotIn(text, body)
        # The reminder is in the send log, not in any chatter.
        chatter = self.env["mail.message"].search(
            [
                "|",
                "&",
                ("model", "=", "crm.healthcare.patient"),
                ("res_id", "in", (self.patient_1 | self.patient_2).ids),
                "&",
                ("model", "=", "crm.healthcare.appointment"),
                ("res_id", "in", (self.appointment_1 | self.appointment_2).ids),
            ]
        )
        self.assertFalse(chatter.filtered(lambda m: "Jordan" in (m.body or "")))
        self.assertFalse(chatter.filtered(lambda m: m.message_type == "email_outgoing"))
        # The only new message is the email's own (mail.mail), tied to no record.
        new_messages = self.env["mail.message"].search([("id", ">", last_message.id)])
        self.assertEqual(new_messages, self._new_mails.mail_message_id)
        self.assertEqual(new_messages.mapped("model"), [False])

    def test_sms_reminder_holds_nothing_protected(self):
        self._consent(self.patient_2)
        self._run_cron(BEFORE_48H)
        body = self._new_sms.body
        self.assertIn("Hello Casey", body)
        self.assertIn("+32 2 555 00 00", body)
        for text in PROTECTED_TEXTS + ("Other", "Latex"):
            self.assertNotIn(text, body)

    def test_first_name_helper(self):
        first_name = self.env["crm.healthcare.patient"]._crm_first_name
        self.assertEqual(first_name("Jordan Settings"), "Jordan")
        self.assertEqual(first_name("Settings, Jordan"), "Jordan")
        self.assertEqual(first_name("  en_US  "), "en_US")
        self.assertEqual(first_name(""), "")
        self.assertEqual(self.appointment_1.patient_first_name, "Jordan")

    # ------------------------------------------------------------------
    # Template guard
    # ------------------------------------------------------------------

    def _mail_template(self, **vals):
        return self.env["mail.template"].create(
            {
                "name": "Reminder variant",
                "model_id": self.env["ir.model"]._get_id("crm.healthcare.appointment"),
                "subject": "Your visit",
                "body_html": "<p>Hello</p>",
                **vals,
            }
        )

    def _sms_template(self, body, model="crm.healthcare.appointment"):
        return self.env["sms.template"].create(
            {
                "name": "SMS variant",
                "model_id": self.env["ir.model"]._get_id(model),
                "body": body,
            }
        )

    def test_template_with_date_of_birth_refused(self):
        with self.assertRaisesRegex(
            ValidationError, rf"{PHI_REFUSED}: object\.patient_id\.date_of_birth"
        ):
            self._mail_template(subject="Born {{ object.patient_id.date_of_birth }}")
        with self.assertRaisesRegex(
            ValidationError, rf"{PHI_REFUSED}: object\.patient_id\.date_of_birth"
        ):
            self._mail_template(
                body_html='<p t-out="object.patient_id.date_of_birth"/>'
            )
        with self.assertRaisesRegex(
            ValidationError, rf"{PHI_REFUSED}: object\.patient_id\.date_of_birth"
        ):
            self._sms_template("Born {{ object.patient_id.date_of_birth }}")
        # On the patient itself, and through a relation of a patient template.
        with self.assertRaisesRegex(ValidationError, r"object\.allergies"):
            self._sms_template("{{ object.allergies }}", model="crm.healthcare.patient")

    def test_template_with_clinical_name_refused(self):
        with self.assertRaisesRegex(
            ValidationError,
            rf"{PHI_REFUSED}: object\.appointment_type_id\.clinical_name",
        ):
            self._mail_template(
                body_html="<p>For your "
                '<t t-out="object.appointment_type_id.clinical_name"/></p>'
            )
        with self.assertRaisesRegex(ValidationError, "clinical_name"):
            self._sms_template("{{ object.appointment_type_id.clinical_name }}")

    def test_template_evasions_refused(self):
        for body in (
            "{{ object.patient_id.sudo().date_of_birth }}",
            "{{ object.patient_id['policy_number'] }}",
            "{{ object.mapped('patient_id.medical_record_number') }}",
            "{{ object.patient_id.read()[0] }}",
        ):
            with (
                self.subTest(body=body),
                self.assertRaisesRegex(ValidationError, PHI_REFUSED),
            ):
                self._sms_template(body)

    def test_editing_a_template_to_add_phi_refused(self):
        template = self.env.ref("crm_healthcare.mail_template_appointment_reminder")
        sms = self.env.ref("crm_healthcare.sms_template_appointment_reminder")
        with self.assertRaisesRegex(ValidationError, "allergies"):
            with self.env.cr.savepoint():
                template.body_html = '<p t-out="object.patient_id.allergies"/>'
        self.env.invalidate_all()
        with self.assertRaisesRegex(ValidationError, "insurer_id"):
            with self.env.cr.savepoint():
                sms.body = "{{ object.patient_id.insurer_id.name }}"
        self.env.invalidate_all()
        # A translation is a template too.
        self.env["res.lang"]._activate_lang("fr_FR")
        with self.assertRaisesRegex(ValidationError, "date_of_birth"):
            with self.env.cr.savepoint():
                sms.update_field_translations(
                    "body", {"fr_FR": "Né le {{ object.patient_id.date_of_birth }}"}
                )
        self.env.invalidate_all()
        self.assertNotIn("date_of_birth", sms.with_context(lang="fr_FR").body)

    def test_allowed_template_accepted(self):
        template = self._mail_template(
            subject="Reminder for {{ object.patient_first_name }}",
            body_html=(
                '<p>Hello <t t-out="object.patient_first_name"/>, on '
                '<t t-out="object.reminder_date"/> at <t t-out="object.reminder_time"/>'
                ' at <t t-out="object.reminder_place"/>. Call '
                '<t t-out="object.company_id.phone"/>. Tell us about any allergies.</p>'
            ),
        )
        self.assertTrue(template)
        sms = self._sms_template(
            "Hi {{ object.patient_id.first_name }}, {{ object.reminder_date }}"
        )
        self.assertTrue(sms)
        # Templates of other models are left alone.
        self.assertTrue(
            self._sms_template(
                "{{ object.name }} {{ object.date }}", model="res.partner"
            )
        )
        # The default templates are valid.
        for xmlid in (
            "crm_healthcare.mail_template_appointment_reminder",
            "crm_healthcare.sms_template_appointment_reminder",
        ):
            self.env.ref(xmlid)._check_crm_phi()

    def test_template_guard_applies_to_managers(self):
        Template = self.env["mail.template"].with_user(self.hc_manager)
        with self.assertRaisesRegex(ValidationError, "date_of_birth"):
            Template.create(
                {
                    "name": "Manager's reminder",
                    "model_id": self.env["ir.model"]._get_id(
                        "crm.healthcare.appointment"
                    ),
                    "subject": "{{ object.patient_id.date_of_birth }}",
                }
            )

    # ------------------------------------------------------------------
    # Confirm / cancel link
    # ------------------------------------------------------------------

    def _link(self, appointment, action, token=None):
        token = token or appointment.sudo().reminder_token
        return f"/clinic/appointment/{appointment.id}/{token}/{action}"

    def _post(self, url):
        page = self.url_open(url)
        self.assertEqual(page.status_code, 200)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return self.url_open(url, data={"csrf_token": csrf})

    def test_token_is_random_per_appointment(self):
        tokens = (
            (self.appointment_1 | self.appointment_2).sudo().mapped("reminder_token")
        )
        self.assertEqual(len(set(tokens)), 2)
        self.assertTrue(all(len(token) >= 32 for token in tokens))
        with self.assertRaises(AccessError):
            self.appointment_1.with_user(self.front_desk).read(["reminder_token"])

    def test_confirm_link(self):
        url = self._link(self.appointment_1, "confirm")
        page = self.url_open(url)
        # Opening the link changes nothing (mail scanners follow links).
        self.assertEqual(self.appointment_1.state, "booked")
        self.assertIn("Monday 7 January 2030", page.text)
        self.assertNotIn("Colposcopy", page.text)
        response = self._post(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.appointment_1.state, "confirmed")
        self.assertIn("is confirmed", response.text)

    def test_cancel_link(self):
        response = self._post(self._link(self.appointment_1, "cancel"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.appointment_1.state, "cancelled")
        self.assertIn("is cancelled", response.text)

    def test_wrong_token_refused(self):
        # A valid CSRF token of this session, from a real link's page: the
        # refusal below is the appointment token's, not the form's.
        page = self.url_open(self._link(self.appointment_2, "confirm"))
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        for url in (
            self._link(self.appointment_1, "confirm", token="x" * 43),
            self._link(
                self.appointment_1,
                "cancel",
                token=self.appointment_2.sudo().reminder_token,
            ),
            f"/clinic/appointment/999999/{'y' * 43}/confirm",
        ):
            with self.subTest(url=url):
                self.assertEqual(self.url_open(url).status_code, 404)
                self.assertEqual(
                    self.url_open(url, data={"csrf_token": csrf}).status_code, 404
                )
        self.assertEqual(self.appointment_1.state, "booked")
        self.assertEqual(self.appointment_2.state, "booked")

    def test_cancel_honours_the_type_limit(self):
        appointment = self.Appointment._get_by_reminder_token(
            self.appointment_1.id, self.appointment_1.sudo().reminder_token
        )
        self.assertEqual(appointment, self.appointment_1)
        with freeze_time(NINE - timedelta(hours=23)):
            done, message = appointment._reminder_reply("cancel")
        self.assertFalse(done)
        self.assertIn("until 24 hours before", message)
        self.assertIn("+32 2 555 00 00", message)
        self.assertEqual(self.appointment_1.state, "booked")
        with freeze_time(NINE - timedelta(hours=25)):
            done, _message = appointment._reminder_reply("cancel")
        self.assertTrue(done)
        self.assertEqual(self.appointment_1.state, "cancelled")
        done, message = appointment._reminder_reply("confirm")
        self.assertFalse(done)
        self.assertIn("can no longer be changed online", message)

    # ------------------------------------------------------------------
    # No-shows
    # ------------------------------------------------------------------

    def _mark_no_shows(self, now):
        """Run the cron at ``now``; return which of this test's appointments it
        marked (the database may hold others)."""
        ours = self.Appointment.search([("patient_id", "in", self._patients.ids)])
        with freeze_time(now):
            return self.Appointment._mark_no_shows() & ours

    @property
    def _patients(self):
        return self.patient_1 | self.patient_2

    def test_no_show_marked_after_grace_period(self):
        confirmed = self._book(NINE + timedelta(hours=1), patient=self.patient_1)
        confirmed.action_confirm()
        checked_in = self._book(NINE + timedelta(hours=2), patient=self.patient_1)
        later = self._book(NINE + timedelta(hours=4), patient=self.patient_1)
        self.assertFalse(self._mark_no_shows(NINE + timedelta(minutes=29)))
        with freeze_time(NINE + timedelta(hours=2)):
            checked_in.action_check_in()
        missed = self._mark_no_shows(NINE + timedelta(hours=2, minutes=45))
        self.assertEqual(missed, self.appointment_1 | self.appointment_2 | confirmed)
        self.assertEqual(missed.mapped("state"), ["no_show"] * 3)
        self.assertEqual(checked_in.state, "checked_in")
        self.assertEqual(later.state, "booked")
        self.assertEqual(self.patient_1.no_show_count, 2)
        self.assertEqual(self.patient_2.no_show_count, 1)
        # Run again: counted once.
        self.assertFalse(self._mark_no_shows(NINE + timedelta(hours=3)))
        self.assertEqual(self.patient_1.no_show_count, 2)

    def test_no_show_grace_period_is_a_setting(self):
        self.env["ir.config_parameter"].set_param(
            "crm_healthcare.no_show_grace_minutes", "90"
        )
        self.assertFalse(self._mark_no_shows(NINE + timedelta(minutes=60)))
        self.assertEqual(
            self._mark_no_shows(NINE + timedelta(minutes=91)),
            self.appointment_1 | self.appointment_2,
        )

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------

    def test_log_access(self):
        self._consent(self.patient_1)
        self._run_cron(BEFORE_48H)
        logs = self.Log.search([])
        self.assertEqual(len(self.Log.with_user(self.front_desk).search([])), len(logs))
        own = self.Log.with_user(self.clinician_1).search([])
        self.assertEqual(own.appointment_id, self.appointment_1)
        for user in (self.salesman, self.portal_user):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.Log.with_user(user).search([])
        with self.assertRaises(AccessError):
            logs[0].with_user(self.hc_manager).write({"state": "sent"})
        with self.assertRaises(AccessError):
            self.rule_2h.with_user(self.front_desk).write({"hours_before": 3})

    # ------------------------------------------------------------------
    # Queries per reminder
    # ------------------------------------------------------------------

    def _due_batch(self, count, day):
        """``count`` appointments of new patients with consent, on ``day``
        (days after Monday 2030-01-07) and the two providers."""
        partners = self.env["res.partner"].create(
            [
                {
                    "name": f"Bulk Patient {day}-{index}",
                    "email": f"b{day}.{index}@example.com",
                }
                for index in range(count)
            ]
        )
        patients = self.env["crm.healthcare.patient"].create(
            [{"partner_id": partner.id} for partner in partners]
        )
        self.env["crm.consent"].create(
            [
                {"partner_id": partner.id, "purpose_id": self.purpose.id}
                for partner in partners
            ]
        )
        slots = [
            (provider, NINE + timedelta(days=day + extra_day, hours=hour))
            for extra_day in range(3)
            for provider in (self.provider_1, self.provider_2)
            for hour in (-1, 0, 1, 2, 4, 5, 6, 7)
        ]
        return self.Appointment.create(
            [
                {
                    "patient_id": patient.id,
                    "provider_id": provider.id,
                    "appointment_type_id": self.consultation.id,
                    "start": start,
                }
                for patient, (provider, start) in zip(
                    patients, slots[:count], strict=True
                )
            ]
        )

    def test_queries_per_reminder_constant(self):
        self.rule_2h.active = False
        self.rule_48h.write({"hours_before": 24 * 30, "send_sms": False})
        now = NINE - timedelta(days=1)
        (self.appointment_1 | self.appointment_2).action_cancel()
        with freeze_time(now), self.mock_mail_gateway(), self.mockSMSGateway():
            # Warm the caches (templates, languages, consent purpose).
            self._due_batch(2, 0)
            self.Log._cron_send_reminders()
            for size, day in ((10, 7), (30, 14)):
                appointments = self._due_batch(size, day)
                self.env.flush_all()
                self.env.invalidate_all()
                # The same for 10 and 30: per chunk (crm.batch claims, locks in
                # savepoints, counts and moves its cursor), never per reminder.
                with self.assertQueryCount(55):
                    self.Log._cron_send_reminders()
                    self.env.flush_all()
                logs = self.Log.search([("appointment_id", "in", appointments.ids)])
                self.assertEqual(logs.mapped("state"), ["sent"] * size)
        self.assertEqual(len(self._new_mails), 42)
