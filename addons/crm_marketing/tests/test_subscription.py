import re
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools import SQL

from .common import CrmMarketingCommon

URL = "/marketing/subscribe"


@tagged("post_install", "-at_install")
class TestSubscriptionForm(CrmMarketingCommon, HttpCase):
    """The public sign-up page, as an anonymous visitor: consent is pending
    until the emailed link confirms it, and nothing is taken on trust."""

    def _page(self):
        response = self.url_open(URL)
        self.assertEqual(response.status_code, 200)
        return response.text

    def _submit(self, purposes=None, **fields_):
        token = re.search(r'name="csrf_token" value="([^"]+)"', self._page()).group(1)
        data = [("csrf_token", token), *fields_.items()]
        data += [("purpose_ids", str(purpose.id)) for purpose in purposes or []]
        response = self.url_open(URL, data=data)
        self.assertEqual(response.status_code, 200)
        return response.text

    def _consents(self, email):
        # sudo: the website records them in its own company, not the test's.
        return (
            self.env["crm.consent"]
            .sudo()
            .search([("partner_id.email_normalized", "=", email)])
        )

    def test_page_offers_the_double_opt_in_purposes_only(self):
        page = self._page()
        self.assertIn(self.purpose_email.name, page)
        # SMS is opt-in without double opt-in: not offered on a public page.
        self.assertNotIn(self.purpose_sms.name, page)
        self.assertIn('name="company_fax"', page)

    def test_sign_up_stays_pending_until_confirmed(self):
        page = self._submit(
            [self.purpose_email], name="Jordan", email="Jordan@Example.com"
        )
        self.assertIn("Thank you", page)
        person = self.env["res.partner"].search(
            [("email_normalized", "=", "jordan@example.com")]
        )
        self.assertEqual(person.name, "Jordan")
        pending = self._consents("jordan@example.com")
        self.assertEqual(pending.state, "pending")
        self.assertEqual(pending.source, "web_form")
        self.assertEqual(pending.ip_address, "127.0.0.1")
        self.assertEqual(pending.purpose_id, self.purpose_email)
        mail = self.env["mail.mail"].search(
            [("model", "=", "crm.consent"), ("res_id", "=", pending.id)]
        )
        self.assertEqual(mail.recipient_ids, person)

        # Pending: the consent gate still refuses them.
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "News",
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                "mailing_domain": repr([("id", "=", person.id)]),
            }
        )
        self.assertIn(
            "not confirmed", mailing._crm_consent_refused(person.ids)[person.id]
        )

        self.assertTrue(pending._confirm_double_opt_in(pending.sudo().access_token))
        self.assertFalse(mailing._crm_consent_refused(person.ids))

    def test_existing_contact_is_never_changed_nor_granted(self):
        self._submit(
            [self.purpose_email], name="Mallory", email="alice@acme.example.com"
        )
        self.assertEqual(self.contact_1.name, "Alice Acme")
        self.assertEqual(
            self.env["res.partner"].search_count(
                [("email_normalized", "=", "alice@acme.example.com")]
            ),
            1,
        )
        self.assertEqual(
            self._consents("alice@acme.example.com").mapped("state"), ["pending"]
        )
        self.assertFalse(self.contact_1._crm_may_contact("marketing_email"))

    def test_honeypot_keeps_nothing(self):
        page = self._submit(
            [self.purpose_email],
            name="Bot",
            email="bot@spam.example.com",
            company_fax="+1 555 0100",
        )
        self.assertIn("Thank you", page)
        self.assertFalse(
            self.env["res.partner"].search([("email", "ilike", "bot@spam.example.com")])
        )
        self.assertFalse(self._consents("bot@spam.example.com"))

    def test_form_needs_a_purpose_a_name_and_an_address(self):
        # A purpose the page does not offer is ignored, like none at all.
        page = self._submit([self.purpose_sms], name="Sam", email="sam@example.com")
        self.assertIn("Tick what you would like to receive", page)
        page = self._submit([self.purpose_email], name="", email="not an address")
        self.assertIn("Tell us your name", page)
        self.assertIn("Give an email address", page)
        self.assertFalse(self.env["crm.consent"].search([("source", "=", "web_form")]))

    def test_blacklisted_address_gets_no_mail(self):
        self.env["mail.blacklist"].sudo()._add("quiet@example.com")
        page = self._submit(
            [self.purpose_email], name="Quiet", email="quiet@example.com"
        )
        # The page says the same, so it tells nobody the address opted out.
        self.assertIn("Thank you", page)
        self.assertFalse(self._consents("quiet@example.com"))

    def test_sign_ups_are_limited_per_address_and_per_ip_within_the_hour(self):
        param = self.env["ir.config_parameter"].sudo().set_param
        param("crm_marketing.subscribe_limit_email", 2)
        param("crm_marketing.subscribe_limit_ip", 3)
        for _i in range(2):
            self._submit([self.purpose_email], name="Pat", email="pat@example.com")
        page = self._submit([self.purpose_email], name="Pat", email="pat@example.com")
        self.assertIn("several sign-ups from you", page)
        self.assertEqual(len(self._consents("pat@example.com")), 2)

        # Third pending request from this IP: the next address is refused.
        self._submit([self.purpose_email], name="Kim", email="kim@example.com")
        page = self._submit([self.purpose_email], name="Lou", email="lou@example.com")
        self.assertIn("several sign-ups from you", page)
        self.assertFalse(self._consents("lou@example.com"))

        # An hour later they count no more.
        Consent = self.env["crm.consent"]
        Consent.flush_model()
        self.env.execute_query(
            SQL(
                "UPDATE crm_consent SET date = %s WHERE source = 'web_form'",
                fields.Datetime.now() - timedelta(hours=2),
            )
        )
        Consent.invalidate_model()
        self._submit([self.purpose_email], name="Lou", email="lou@example.com")
        self.assertEqual(self._consents("lou@example.com").mapped("state"), ["pending"])
