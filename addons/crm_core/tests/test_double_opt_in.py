import re

from freezegun import freeze_time

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestDoubleOptIn(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.person = cls.env["res.partner"].create(
            {"name": "Web Visitor", "email": "visitor@example.com"}
        )

    def _page(self, url, data=None):
        response = self.url_open(url, data=data)
        self.assertEqual(response.status_code, 200)
        return response.text

    def test_sign_up_is_pending_until_the_emailed_link_is_confirmed(self):
        Consent = self.env["crm.consent"]
        pending = Consent._request_double_opt_in(
            self.person, "marketing_email", ip="203.0.113.7"
        )
        self.assertEqual(pending.state, "pending")
        self.assertEqual(pending.ip_address, "203.0.113.7")
        mail = self.env["mail.mail"].search([("model", "=", "crm.consent")])
        self.assertEqual(mail.recipient_ids, self.person)
        url = pending.get_confirmation_url()
        self.assertIn(url.split("/", 3)[3], mail.body_html)
        self.assertFalse(self.person._crm_may_contact("marketing_email"))

        # Opening the link (as mail scanners do) consents to nothing.
        page = self._page(url)
        self.assertIn("Confirm your consent", page)
        self.assertFalse(self.person._crm_may_contact("marketing_email"))

        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        self.assertIn("Thank you", self._page(url, data={"csrf_token": token}))
        granted = self.person.consent_ids.filtered(lambda c: c.state == "granted")
        self.assertEqual(granted.source, "double_opt_in")
        self.assertEqual(granted.ip_address, "127.0.0.1")
        # Recorded by the website's visitor, after the pending entry.
        self.assertEqual(granted.user_id, self.env.ref("base.public_user"))
        self.assertGreater(granted.id, pending.id)
        self.assertEqual(self.person._crm_may_contact("marketing_email"), self.person)
        # The pending entry stays: the ledger keeps both.
        self.assertEqual(len(self.person.consent_ids), 2)

        # Used once; a wrong token never works.
        self.assertIn("no longer valid", self._page(url, data={"csrf_token": token}))
        self.assertEqual(len(self.person.consent_ids), 2)
        forged = f"/crm/consent/confirm/{pending.id}/{'0' * 32}"
        self.assertIn("no longer valid", self._page(forged))

    def test_signing_up_again_after_a_withdrawal_is_confirmable(self):
        Consent = self.env["crm.consent"]
        purpose = self.env.ref("crm_core.consent_purpose_marketing_email")
        # All within one second: the order of recording tells them apart.
        with freeze_time("2024-05-02 10:30:00"):
            first = Consent._request_double_opt_in(self.person, "marketing_email")
            self.assertTrue(first._confirm_double_opt_in(first.access_token))
            Consent.create(
                {
                    "partner_id": self.person.id,
                    "purpose_id": purpose.id,
                    "state": "withdrawn",
                    "source": "email",
                }
            )
            self.assertFalse(self.person._crm_may_contact("marketing_email"))
            second = Consent._request_double_opt_in(self.person, "marketing_email")
            self.assertFalse(first._is_confirmable(first.access_token))
            self.assertTrue(second._confirm_double_opt_in(second.access_token))
        self.assertEqual(self.person._crm_may_contact("marketing_email"), self.person)
