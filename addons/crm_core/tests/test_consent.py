from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
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
        self.Consent._request_double_opt_in(self.bob, "marketing_email")
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

    def test_date_and_author_are_the_moment_and_the_user_of_recording(self):
        with freeze_time("2024-05-02 10:30:00"):
            entry = self.Consent.with_user(self.salesman_a).create(
                {
                    "partner_id": self.alice.id,
                    "purpose_id": self.newsletter.id,
                    "source": "phone",
                    "date": "2099-01-01 00:00:00",
                    "user_id": self.manager.id,
                }
            )
        self.assertEqual(entry.date, datetime(2024, 5, 2, 10, 30))
        self.assertEqual(entry.user_id, self.salesman_a)

    def test_a_later_withdrawal_wins_over_a_grant_dated_2099(self):
        self._record(self.alice, self.newsletter, date="2099-01-01 00:00:00")
        self.assertEqual(self._may("marketing_email"), self.alice)
        self._record(self.alice, self.newsletter, state="withdrawn", source="email")
        self.assertFalse(self._may("marketing_email"))
        # The order of recording decides, whatever the clocks of two workers say.
        with freeze_time("2030-01-01 12:00:00"):
            self._record(self.bob, self.newsletter)
        with freeze_time("2030-01-01 11:59:00"):
            withdrawal = self._record(self.bob, self.newsletter, state="withdrawn")
        self.assertFalse(self._may("marketing_email"))
        latest = self.Consent.search([("partner_id", "=", self.bob.id)], limit=1)
        self.assertEqual(latest, withdrawal)

    def test_pending_and_website_entries_come_from_the_system_only(self):
        admin = self.env.ref("base.user_admin")
        refused = [{"state": "pending"}, {"source": "double_opt_in"}]
        refused.append({"source": "web_form"})
        for user in (self.salesman_a, self.compliance, self.manager, admin):
            for vals in refused:
                with (
                    self.subTest(user=user.login, **vals),
                    self.assertRaisesRegex(AccessError, "recorded by the website"),
                ):
                    self.Consent.with_user(user).with_context(
                        crm_system_flow=True
                    ).create(
                        {
                            "partner_id": self.alice.id,
                            "purpose_id": self.newsletter.id,
                            **vals,
                        }
                    )
        # Nor through defaults passed in the context.
        for key, value in (("state", "pending"), ("source", "web_form")):
            with (
                self.subTest(default=key),
                self.assertRaisesRegex(AccessError, "recorded by the website"),
            ):
                self.Consent.with_user(self.salesman_a).with_context(
                    **{f"default_{key}": value}
                ).create(
                    {"partner_id": self.alice.id, "purpose_id": self.newsletter.id}
                )
        self.assertFalse(self.alice.consent_ids)
        # The website's flows run in superuser mode; the link's token is theirs.
        pending = (
            self.Consent.with_user(self.salesman_a)
            .sudo()
            .create(
                {
                    "partner_id": self.alice.id,
                    "purpose_id": self.newsletter.id,
                    "state": "pending",
                    "source": "web_form",
                    "access_token": "chosen-by-the-caller",
                }
            )
        )
        self.assertEqual(len(pending.access_token), 32)
        self.assertFalse(self._may("marketing_email"))

    def test_unknown_purpose_is_a_clear_error(self):
        with self.assertRaisesRegex(UserError, "no consent purpose with the code"):
            self._may("telepathy")
