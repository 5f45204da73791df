from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import email_normalize

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import SMSCase

from .common import CrmMarketingCommon


class ConsentGateCommon(CrmMarketingCommon, MockEmail, SMSCase):
    """People in every consent situation, and mailings sent to them for real
    (outgoing SMTP and the SMS gateway mocked)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.belgium = cls.env.ref("base.be")
        cls.marketer_sales = new_test_user(
            cls.env,
            "marketer_sales",
            groups="crm_marketing.group_marketing_user,"
            "sales_team.group_sale_salesman_all_leads",
            company_id=cls.company.id,
        )
        (
            cls.granted,
            cls.no_consent,
            cls.withdrawn,
            cls.restricted,
        ) = cls.env["res.partner"].create(
            [
                {
                    "name": name,
                    "email": f"{login}@people.example.com",
                    "mobile": mobile,
                    "country_id": cls.belgium.id,
                }
                for name, login, mobile in (
                    ("Gina Granted", "gina", "+32 470 11 11 11"),
                    ("Noah Nothing", "noah", "+32 470 22 22 22"),
                    ("Will Withdrawn", "will", "+32 470 33 33 33"),
                    ("Rita Restricted", "rita", "+32 470 44 44 44"),
                )
            ]
        )
        people = cls.granted | cls.withdrawn | cls.restricted
        cls._grant(people, cls.purpose_email)
        cls._grant(people, cls.purpose_sms)
        cls._withdraw(cls.withdrawn, cls.purpose_email)
        cls._withdraw(cls.withdrawn, cls.purpose_sms)
        cls.env["crm.privacy.request"].with_user(cls.compliance).create(
            {"partner_id": cls.restricted.id, "request_type": "restriction"}
        ).action_restrict()

    @classmethod
    def _withdraw(cls, partners, purpose):
        return cls.env["crm.consent"].create(
            [
                {
                    "partner_id": partner.id,
                    "purpose_id": purpose.id,
                    "state": "withdrawn",
                    "source": "email",
                }
                for partner in partners
            ]
        )

    def _mailing(self, records, mailing_type="mail", user=None, **values):
        """A mailing to exactly ``records``, made by the marketer."""
        return (
            self.env["mailing.mailing"]
            .with_user(user or self.marketer)
            .create(
                {
                    "subject": "Spring offers",
                    "mailing_type": mailing_type,
                    "mailing_model_id": self.env["ir.model"]._get_id(records._name),
                    "mailing_domain": repr([("id", "in", records.ids)]),
                    "email_from": "marketing@company.example.com",
                    "body_html": "<p>Our spring offers</p>",
                    "body_plaintext": "Our spring offers",
                    **values,
                }
            )
        )

    def _traces(self, mailing):
        """{res_id: (status, failure type)} of the mailing's traces."""
        mailing.invalidate_recordset()
        return {
            trace.res_id: (trace.trace_status, trace.failure_type)
            for trace in mailing.sudo().mailing_trace_ids
        }

    def _emailed(self):
        return {
            email_normalize(email) for mail in self._mails for email in mail["email_to"]
        }

    def _texted(self):
        return {sms["number"] for sms in self._sms}


@tagged("post_install", "-at_install")
class TestConsentGateEmail(ConsentGateCommon):
    def test_purpose_defaults_by_mailing_type(self):
        mailing = self._mailing(self.granted)
        self.assertEqual(mailing.crm_consent_purpose_id, self.purpose_email)
        sms_mailing = self._mailing(self.granted, mailing_type="sms")
        self.assertEqual(sms_mailing.crm_consent_purpose_id, self.purpose_sms)
        # The default follows the type; a purpose the marketer chose stays.
        mailing.mailing_type = "sms"
        self.assertEqual(mailing.crm_consent_purpose_id, self.purpose_sms)
        phone_calls = self.env.ref("crm_core.consent_purpose_phone")
        mailing.crm_consent_purpose_id = phone_calls
        mailing.mailing_type = "mail"
        self.assertEqual(mailing.crm_consent_purpose_id, phone_calls)

    def test_mailing_form_shows_the_purpose_and_refusals_to_marketers(self):
        Mailing = self.env["mailing.mailing"]
        arch = Mailing.with_user(self.marketer).get_views([(False, "form")])["views"][
            "form"
        ]["arch"]
        self.assertIn('name="crm_consent_purpose_id"', arch)
        self.assertIn('name="crm_consent_refused_count"', arch)
        # Odoo's email marketers without our group still choose the purpose.
        mass_mailer = new_test_user(
            self.env, "mass_mailer", groups="mass_mailing.group_mass_mailing_user"
        )
        arch = Mailing.with_user(mass_mailer).get_views([(False, "form")])["views"][
            "form"
        ]["arch"]
        self.assertIn('name="crm_consent_purpose_id"', arch)
        self.assertNotIn('name="crm_consent_refused_count"', arch)

    def test_partners_with_consent_receive_the_others_get_a_cancelled_trace(self):
        people = self.granted | self.no_consent | self.withdrawn
        mailing = self._mailing(people)
        # Odoo's recipients stay whole; the form tells how many the gate refuses.
        self.assertEqual(mailing.total, 3)
        self.assertEqual(mailing.crm_consent_refused_count, 2)

        with self.mock_mail_gateway():
            mailing.with_user(self.marketer).action_send_mail()

        self.assertEqual(self._emailed(), {"gina@people.example.com"})
        self.assertEqual(
            self._traces(mailing),
            {
                self.granted.id: ("sent", False),
                self.no_consent.id: ("cancel", "crm_consent"),
                self.withdrawn.id: ("cancel", "crm_consent"),
            },
        )
        reasons = dict(
            mailing.sudo().mailing_trace_ids.mapped(
                lambda trace: (trace.res_id, trace.failure_reason)
            )
        )
        self.assertIn("No consent recorded", reasons[self.no_consent.id])
        self.assertIn("withdrawn", reasons[self.withdrawn.id])
        # The statistics count them as cancelled, and as refused for consent.
        self.assertEqual(mailing.canceled, 2)
        self.assertEqual(
            mailing.with_user(self.marketer).crm_consent_cancelled_count, 2
        )
        action = mailing.with_user(self.marketer).action_view_traces_crm_consent()
        self.assertTrue(action["context"]["search_default_filter_crm_consent"])
        # Nothing was sent to them: nothing is logged in their chatter either.
        cancelled = self._new_mails.filtered(lambda mail: mail.state == "cancel")
        self.assertEqual(len(cancelled), 2)
        self.assertFalse(any(cancelled.mapped("is_notification")))

    def test_leads_use_their_partner_or_a_contact_with_their_address(self):
        Lead = self.env["crm.lead"].with_user(self.marketer_sales)
        lead_granted, lead_no_consent, lead_known, lead_unknown = Lead.create(
            [
                {"name": "Gina's project", "partner_id": self.granted.id},
                {"name": "Noah's project", "partner_id": self.no_consent.id},
                # No partner: the contact with the same address answers for them.
                {"name": "Web lead", "email_from": "ALICE@acme.example.com"},
                {"name": "Stranger", "email_from": "stranger@elsewhere.example.com"},
            ]
        )
        self._grant(self.contact_1, self.purpose_email)
        leads = lead_granted | lead_no_consent | lead_known | lead_unknown
        mailing = self._mailing(leads, user=self.marketer_sales)

        with self.mock_mail_gateway():
            mailing.with_user(self.marketer_sales).action_send_mail()

        traces = self._traces(mailing)
        self.assertEqual(traces[lead_granted.id], ("sent", False))
        self.assertEqual(traces[lead_no_consent.id], ("cancel", "crm_consent"))
        self.assertEqual(traces[lead_known.id], ("sent", False))
        self.assertEqual(traces[lead_unknown.id], ("cancel", "crm_consent"))
        self.assertEqual(
            self._emailed(), {"gina@people.example.com", "alice@acme.example.com"}
        )

    def test_mailing_contacts_are_matched_to_contacts_by_address(self):
        mailing_list = (
            self.env["mailing.list"]
            .with_user(self.marketer)
            .create(
                {
                    "name": "Newsletter",
                    "contact_ids": [
                        (0, 0, {"name": "Gina", "email": "gina@people.example.com"}),
                        (0, 0, {"name": "Will", "email": "will@people.example.com"}),
                        (0, 0, {"name": "Anon", "email": "anon@elsewhere.example.com"}),
                    ],
                }
            )
        )
        gina, will, anon = mailing_list.contact_ids.sorted("id")
        mailing = (
            self.env["mailing.mailing"]
            .with_user(self.marketer)
            .create(
                {
                    "subject": "Newsletter",
                    "mailing_model_id": self.env["ir.model"]._get_id("mailing.list"),
                    "contact_list_ids": [(6, 0, mailing_list.ids)],
                    "email_from": "marketing@company.example.com",
                    "body_html": "<p>News</p>",
                }
            )
        )
        with self.mock_mail_gateway():
            mailing.with_user(self.marketer).action_send_mail()
        self.assertEqual(
            self._traces(mailing),
            {
                gina.id: ("sent", False),
                will.id: ("cancel", "crm_consent"),
                anon.id: ("cancel", "crm_consent"),
            },
        )
        self.assertEqual(self._emailed(), {"gina@people.example.com"})

        # An opt-out purpose allows people nobody refused, and still not Will.
        newsletter = self.env["crm.consent.purpose"].create(
            {"name": "Newsletter", "code": "newsletter", "policy": "opt_out"}
        )
        self._withdraw(self.withdrawn, newsletter)
        mailing.crm_consent_purpose_id = newsletter
        refused = mailing._crm_consent_refused((gina | will | anon).ids)
        self.assertEqual(set(refused), {will.id})
        self.env["mail.blacklist"].sudo()._add("anon@elsewhere.example.com")
        refused = mailing._crm_consent_refused((gina | will | anon).ids)
        self.assertEqual(set(refused), {will.id, anon.id})

    def test_restricted_and_erased_people_are_never_contacted(self):
        # Erased after an opt-out: their address is kept only as a hash.
        erased = self.env["res.partner"].create(
            {"name": "Eve Erased", "email": "eve@people.example.com"}
        )
        self._grant(erased, self.purpose_email)
        self.env["mail.blacklist"].sudo()._add("eve@people.example.com")
        self.env["crm.privacy.request"].with_user(self.compliance).create(
            {"partner_id": erased.id, "request_type": "erasure"}
        ).action_erase()
        self.assertTrue(erased.privacy_erased)
        # The address comes back on a new contact, with a consent imported.
        comeback = self.env["res.partner"].create(
            {"name": "E. Returning", "email": "eve@people.example.com"}
        )
        self._grant(comeback, self.purpose_email)
        people = self.granted | self.restricted | erased | comeback
        mailing = self._mailing(people)

        # Sent to explicit records: no mailing domain filters them out first.
        with self.mock_mail_gateway():
            mailing.with_user(self.marketer).action_send_mail(res_ids=people.ids)

        self.assertEqual(self._emailed(), {"gina@people.example.com"})
        traces = self._traces(mailing)
        self.assertEqual(traces[self.restricted.id], ("cancel", "crm_consent"))
        self.assertEqual(traces[erased.id][0], "cancel")
        self.assertEqual(traces[comeback.id][0], "cancel")
        refused = mailing._crm_consent_refused(people.ids)
        self.assertEqual(set(refused), {self.restricted.id, erased.id, comeback.id})
        self.assertIn("restricted", refused[self.restricted.id])

    def test_consent_withdrawn_after_queueing_cancels_at_send_time(self):
        # Over the force-send limit: the mailing goes through the mail queue.
        self.env["ir.config_parameter"].sudo().set_param(
            "mail.mail.force.send.limit", 0
        )
        mailing = self._mailing(self.granted | self.contact_1)
        self._grant(self.contact_1, self.purpose_email)
        with self.mock_mail_gateway():
            mailing.with_user(self.marketer).action_send_mail()
            mails = self._new_mails.filtered("mailing_trace_ids")
            self.assertEqual(len(mails), 2)
            self.assertEqual(set(mails.mapped("state")), {"outgoing"})
            self._withdraw(self.granted, self.purpose_email)
            self.env["mail.mail"].sudo().process_email_queue(ids=mails.ids)

        self.assertEqual(self._emailed(), {"alice@acme.example.com"})
        cancelled = mails.filtered(lambda mail: mail.res_id == self.granted.id)
        self.assertEqual(cancelled.state, "cancel")
        self.assertEqual(cancelled.failure_type, "crm_consent")
        self.assertEqual(
            self._traces(mailing),
            {
                self.granted.id: ("cancel", "crm_consent"),
                self.contact_1.id: ("sent", False),
            },
        )

    def test_test_emails_are_not_gated(self):
        # A test email goes to the marketer's address, whoever the first target.
        mailing = self._mailing(self.no_consent)
        wizard = (
            self.env["mailing.mailing.test"]
            .with_user(self.marketer)
            .create(
                {"mass_mailing_id": mailing.id, "email_to": "me@company.example.com"}
            )
        )
        with self.mock_mail_gateway():
            wizard.send_mail_test()
        self.assertEqual(self._emailed(), {"me@company.example.com"})

    def test_marketer_sends_salesperson_cannot_create_mailings(self):
        mailing = self._mailing(self.granted)
        with self.mock_mail_gateway():
            mailing.with_user(self.marketer).action_send_mail()
        self.assertEqual(self._emailed(), {"gina@people.example.com"})
        with self.assertRaises(AccessError):
            self._mailing(self.granted, user=self.salesman_a)
        with self.assertRaises(AccessError):
            mailing.with_user(self.salesman_a).read(["crm_consent_purpose_id"])

    def test_gate_queries_do_not_grow_with_the_batch(self):
        def people(count):
            partners = self.env["res.partner"].create(
                [
                    {"name": f"Person {i}", "email": f"p{count}-{i}@example.com"}
                    for i in range(count)
                ]
            )
            self._grant(partners[::2], self.purpose_email)
            self._withdraw(partners[::3], self.purpose_email)
            return partners

        mailing = self._mailing(self.granted)
        small, large = people(4), people(40)

        def queries(partners):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            refused = mailing._crm_consent_refused(partners.ids)
            return self.env.cr.sql_log_count - before, refused

        queries(small)  # warms the caches the first call fills
        small_count, _refused = queries(small)
        large_count, refused = queries(large)
        self.assertEqual(large_count, small_count)
        # Every odd one has no consent; every third one withdrew it.
        expected = {p.id for i, p in enumerate(large) if i % 2 or not i % 3}
        self.assertEqual(set(refused), expected)


@tagged("post_install", "-at_install")
class TestConsentGateSms(ConsentGateCommon):
    def test_sms_mailing_sends_only_with_sms_consent(self):
        people = self.granted | self.no_consent | self.withdrawn | self.restricted
        mailing = self._mailing(people, mailing_type="sms", sms_force_send=True)
        self.assertEqual(mailing.crm_consent_refused_count, 3)

        with self.mockSMSGateway():
            mailing.with_user(self.marketer).action_send_mail()

        self.assertEqual(self._texted(), {"+32470111111"})
        self.assertEqual(
            self._traces(mailing),
            {
                self.granted.id: ("pending", False),
                self.no_consent.id: ("cancel", "sms_crm_consent"),
                self.withdrawn.id: ("cancel", "sms_crm_consent"),
                self.restricted.id: ("cancel", "sms_crm_consent"),
            },
        )
        cancelled = self._new_sms.filtered(lambda sms: sms.state == "canceled")
        self.assertEqual(set(cancelled.mapped("failure_type")), {"sms_crm_consent"})
        self.assertEqual(len(cancelled), 3)

    def test_email_consent_does_not_allow_sms(self):
        texted_only_by_email = self.env["res.partner"].create(
            {
                "name": "Emma Email",
                "email": "emma@people.example.com",
                "mobile": "+32 470 55 55 55",
                "country_id": self.belgium.id,
            }
        )
        self._grant(texted_only_by_email, self.purpose_email, channel="email")
        mailing = self._mailing(texted_only_by_email, mailing_type="sms")
        self.assertEqual(
            set(mailing._crm_consent_refused(texted_only_by_email.ids)),
            {texted_only_by_email.id},
        )

    def test_blacklist_cannot_be_switched_off_for_a_mailing(self):
        """Odoo's SMS composer checks the phone blacklist only when its
        "mass_use_blacklist" is set, a default a caller's context switches off;
        mailing.mailing.action_send_sms never sets it."""
        lead = (
            self.env["crm.lead"]
            .with_user(self.marketer_sales)
            .create({"name": "Gina's second phone", "partner_id": self.granted.id})
        )
        # The lead's own number is blacklisted; Gina's consent is not in doubt.
        lead.mobile = "+32 470 99 99 99"
        self.env["phone.blacklist"].sudo().add("+32470999999")
        mailing = self._mailing(lead, mailing_type="sms", user=self.marketer_sales)
        self.assertFalse(mailing._crm_consent_refused(lead.ids))

        with self.mockSMSGateway():
            mailing.with_user(self.marketer_sales).with_context(
                default_mass_use_blacklist=False
            ).action_send_mail()
            # Cancelled when the mailing is prepared, not only by the queue.
            self.assertEqual(
                self._traces(mailing), {lead.id: ("cancel", "sms_blacklist")}
            )
            self.assertEqual(self._new_sms.state, "canceled")
            self.env["sms.sms"].sudo()._process_queue()

        self.assertFalse(self._sms)

    def test_queued_sms_rechecked_before_sending(self):
        people = self.granted | self.contact_1
        self.contact_1.write(
            {"mobile": "+32 470 66 66 66", "country_id": self.belgium.id}
        )
        self._grant(self.contact_1, self.purpose_sms)
        self.env["res.partner"].flush_model()
        mailing = self._mailing(people, mailing_type="sms")
        with self.mockSMSGateway():
            mailing.with_user(self.marketer).action_send_mail()
            queued = self._new_sms
            self.assertEqual(set(queued.mapped("state")), {"outgoing"})
            # After queueing: Gina withdraws, Alice's number is blacklisted.
            self._withdraw(self.granted, self.purpose_sms)
            self.env["phone.blacklist"].sudo().add("+32470666666")
            self.env["sms.sms"].sudo()._process_queue(ids=queued.ids)

        self.assertFalse(self._sms)
        self.assertEqual(
            self._traces(mailing),
            {
                self.granted.id: ("cancel", "sms_crm_consent"),
                self.contact_1.id: ("cancel", "sms_blacklist"),
            },
        )
        self.assertEqual(set(queued.mapped("state")), {"canceled"})
