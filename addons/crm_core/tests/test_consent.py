from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CrmCoreCommon


@tagged("post_install", "-at_install")
class TestConsentLedger(CrmCoreCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Consent = cls.env["crm.consent"]
        cls.newsletter = cls.env.ref("crm_core.consent_purpose_marketing_email")
        cls.calls = cls.env.ref("crm_core.consent_purpose_phone")
        cls.sms = cls.env.ref("crm_core.consent_purpose_sms")
        cls.alice, cls.bob = cls.contact_1, cls.contact_2
        (cls.alice | cls.bob).write({"mobile": "+32 470 12 34 56"})
        cls.bob.mobile = "+32 470 65 43 21"

    def _record(self, partner, purpose, state="granted", channel="all", **vals):
        return self.Consent.create(
            {
                "partner_id": partner.id,
                "purpose_id": purpose.id,
                "state": state,
                "channel": channel,
                **vals,
            }
        )

    def _may(self, purpose_code, channel="email"):
        return (self.alice | self.bob)._crm_may_contact(purpose_code, channel)

    def test_opt_in_purpose_needs_a_granted_entry(self):
        self.assertFalse(self._may("marketing_email"))
        self._record(self.alice, self.newsletter)
        self.assertEqual(self._may("marketing_email"), self.alice)
        # A pending (not yet confirmed) consent is not a consent.
        self._record(self.bob, self.newsletter, state="pending")
        self.assertEqual(self._may("marketing_email"), self.alice)

    def test_opt_out_purpose_allows_until_withdrawn(self):
        self.assertEqual(self._may("phone_call", "phone"), self.alice | self.bob)
        self._record(self.bob, self.calls, state="withdrawn", channel="phone")
        self.assertEqual(self._may("phone_call", "phone"), self.alice)

    def test_latest_entry_per_channel_holds(self):
        self._record(self.alice, self.sms, channel="all")
        self._record(self.alice, self.sms, state="withdrawn", channel="sms")
        self.assertFalse(self._may("sms", "sms"))
        # Withdrawn by SMS only: the grant on all channels still covers email.
        self.assertEqual(self._may("sms", "email"), self.alice)
        self._record(self.alice, self.sms, channel="sms")
        self.assertEqual(self._may("sms", "sms"), self.alice)
        self.assertEqual(
            self.alice.consent_ids.mapped("state"), ["granted", "withdrawn", "granted"]
        )

    def test_blacklists_restriction_and_erasure_win_over_consent(self):
        self._record(self.alice, self.newsletter)
        self._record(self.bob, self.newsletter)
        self._record(self.alice, self.sms)
        self._record(self.bob, self.sms)
        self.env["mail.blacklist"]._add(self.alice.email)
        self.assertEqual(self._may("marketing_email"), self.bob)
        self.env["phone.blacklist"]._add(["+32470654321"])
        self.assertEqual(self._may("sms", "sms"), self.alice)
        self.bob.privacy_restricted = True
        self.assertFalse(self._may("marketing_email"))

    def test_history_is_append_only_even_for_managers(self):
        entry = self._record(self.alice, self.newsletter)
        for user in (self.manager, self.compliance):
            with self.subTest(user=user.login):
                as_user = entry.with_user(user)
                self.assertEqual(as_user.state, "granted")
                with self.assertRaises(UserError):
                    as_user.write({"state": "withdrawn"})
                with self.assertRaises(UserError):
                    as_user.unlink()
        with self.assertRaises(UserError):
            entry.sudo().unlink()
        self.assertEqual(entry.state, "granted")
        # A salesperson records what a customer said on the phone.
        self.Consent.with_user(self.salesman_a).create(
            {
                "partner_id": self.alice.id,
                "purpose_id": self.newsletter.id,
                "state": "withdrawn",
                "source": "phone",
            }
        )
        self.assertFalse(self._may("marketing_email"))

    def test_unknown_purpose_is_a_clear_error(self):
        with self.assertRaisesRegex(UserError, "no consent purpose with the code"):
            self._may("telepathy")
