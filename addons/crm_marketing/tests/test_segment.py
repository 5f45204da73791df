from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import SQL, mute_logger

from .test_segment_common import SegmentCommon

ALL_TAGGED = sorted(
    [f"c{i}" for i in range(10)] + ["Prospect Inc", "Won Prospect"],
)


@tagged("post_install", "-at_install")
class TestSegment(SegmentCommon):
    def _refreshed(self, segment):
        segment.action_refresh()
        segment.invalidate_recordset()
        return self._keys(self._members(segment))

    # ------------------------------------------------------------
    # Criteria
    # ------------------------------------------------------------

    def test_live_count_while_editing_equals_the_refreshed_count(self):
        with Form(self.env["crm.marketing.segment"].with_user(self.marketer)) as form:
            form.name = "Best customers"
            form.domain = repr([("category_id", "in", self.tag.ids)])
            # Commercial entities only: the prospect's contact is not counted.
            self.assertEqual(form.live_count, 12)
            form.rfm_cell_ids.add(self._criterion("rfm_cell", "champions"))
            self.assertEqual(form.live_count, 2)
            form.rfm_cell_ids.add(self._criterion("rfm_cell", "loyal"))
            self.assertEqual(form.live_count, 4)
        segment = form.record
        self.assertEqual(segment.member_count, 0, "saved, not refreshed yet")
        self.assertEqual(self._refreshed(segment), ["c5", "c7", "c8", "c9"])
        self.assertEqual(segment.member_count, 4)
        self.assertEqual(segment.live_count, 4)
        self.assertTrue(segment.date_refresh)

    def test_a_broken_filter_shows_instead_of_a_count(self):
        with Form(self.env["crm.marketing.segment"].with_user(self.marketer)) as form:
            form.name = "Typing"
            form.domain = "[('no_such_field', '=', 1)]"
            self.assertEqual(form.live_count, 0)
            self.assertTrue(form.live_count_error)
            form.domain = "[]"
            self.assertFalse(form.live_count_error)
        with self.assertRaises(ValidationError):
            self._segment(domain="[('no_such_field', '=', 1)]")

    def test_each_lifecycle_stage(self):
        expected = {
            "lead": ["Prospect Inc"],
            "new": ["c6", "c9"],
            "active": ["c1", "c2", "c3", "c5", "c7", "c8"],
            "at_risk": ["c4"],
            "lapsed": ["c0"],
        }
        for stage, keys in expected.items():
            with self.subTest(stage=stage):
                segment = self._segment(
                    name=stage,
                    lifecycle_ids=[
                        Command.set(self._criterion("lifecycle", stage).ids)
                    ],
                )
                self.assertEqual(self._refreshed(segment), keys)
                self.assertEqual(segment.live_count, len(keys))

    def test_lead_segment_by_their_customers_lifecycle(self):
        upsell = self.env["crm.lead"].create(
            {
                "name": "More machines",
                "type": "opportunity",
                "partner_id": self.customers["c8"].id,
                "company_id": self.company.id,
            }
        )
        unknown = self.env["crm.lead"].create(
            {"name": "Web visitor", "type": "lead", "company_id": self.company.id}
        )
        leads = self.opportunity | upsell | unknown
        segment = self.env["crm.marketing.segment"].create(
            {
                "name": "New business",
                "target_model": "crm.lead",
                "domain": repr([("id", "in", leads.ids)]),
                "lifecycle_ids": [
                    Command.set(self._criterion("lifecycle", "lead").ids)
                ],
            }
        )
        segment.action_refresh()
        self.assertEqual(self._members(segment), self.opportunity | unknown)
        segment.lifecycle_ids = self._criterion("lifecycle", "active")
        segment.action_refresh()
        self.assertEqual(self._members(segment), upsell)
        # Lost leads are archived: no longer open.
        unknown.action_set_lost()
        segment.lifecycle_ids = self._criterion("lifecycle", "lead")
        segment.action_refresh()
        self.assertEqual(self._members(segment), self.opportunity)

    def test_engagement_bands(self):
        # sudo: scores are the engagement ledger's to write; set them directly here.
        self.customers["c8"].sudo().crm_engagement_score = 60
        self.customers["c9"].sudo().crm_engagement_score = 25
        self.customers["c1"].sudo().crm_engagement_score = 5
        hot = self._criterion("engagement_band", "hot")
        warm = self._criterion("engagement_band", "warm")
        segment = self._segment(engagement_band_ids=[Command.set(hot.ids)])
        self.assertEqual(self._refreshed(segment), ["c8"])
        segment.engagement_band_ids = hot | warm
        self.assertEqual(self._refreshed(segment), ["c8", "c9"])
        # Combined with a cell: every criterion must hold.
        segment.rfm_cell_ids = self._criterion("rfm_cell", "loyal")
        self.assertEqual(self._refreshed(segment), ["c9"])

    def test_consent_for_a_purpose(self):
        self._grant(self.customers["c8"] | self.customers["c9"], self.purpose_email)
        segment = self._segment(consent_purpose_id=self.purpose_email.id)
        self.assertEqual(self._refreshed(segment), ["c8", "c9"])
        self.assertEqual(segment.live_count, 2)
        # A blacklisted address may not be contacted, whatever the ledger says.
        self.env["mail.blacklist"]._add(self.customers["c9"].email)
        self.assertEqual(self._refreshed(segment), ["c8"])
        segment.consent_filter = "may_not_contact"
        others = [key for key in ALL_TAGGED if key != "c8"]
        self.assertEqual(self._refreshed(segment), others)
        self.assertEqual(segment.live_count, len(others))

    def test_lead_consent_is_their_customers(self):
        self._grant(self.customers["c8"], self.purpose_email)
        consented = self.env["crm.lead"].create(
            {"name": "Consented", "partner_id": self.customers["c8"].id}
        )
        anonymous = self.env["crm.lead"].create(
            {"name": "Anonymous", "email_from": "someone@example.com"}
        )
        leads = consented | anonymous | self.opportunity
        segment = self.env["crm.marketing.segment"].create(
            {
                "name": "Leads we may email",
                "target_model": "crm.lead",
                "domain": repr([("id", "in", leads.ids)]),
                "consent_purpose_id": self.purpose_email.id,
            }
        )
        segment.action_refresh()
        self.assertEqual(self._members(segment), consented)
        segment.consent_filter = "may_not_contact"
        segment.action_refresh()
        self.assertEqual(self._members(segment), anonymous | self.opportunity)

    # ------------------------------------------------------------
    # Refresh
    # ------------------------------------------------------------

    def test_refresh_twice_changes_nothing_and_history_keeps_one_row_a_day(self):
        segment = self._segment()
        self.assertEqual(self._refreshed(segment), ALL_TAGGED)
        members = segment.member_ids.read(["partner_id", "date_joined"])
        segment.action_refresh()
        segment.invalidate_recordset()
        self.assertEqual(
            segment.member_ids.read(["partner_id", "date_joined"]), members
        )
        self.assertEqual(
            segment.history_ids.read(["member_count", "added_count", "removed_count"]),
            [
                {
                    "id": segment.history_ids.id,
                    "member_count": 12,
                    "added_count": 12,
                    "removed_count": 0,
                }
            ],
        )
        # Archived customers leave the segment.
        self.customers["c1"].active = False
        segment.action_refresh()
        self.assertEqual(segment.member_count, 11)
        self.assertEqual(
            (segment.history_ids.member_count, segment.history_ids.removed_count),
            (11, 1),
        )
        with freeze_time(fields.Datetime.now() + timedelta(days=1)):
            segment.action_refresh()
        segment.invalidate_recordset()
        self.assertEqual(len(segment.history_ids), 2)
        tomorrow = segment.history_ids.sorted("date")[-1]
        self.assertEqual(
            (tomorrow.member_count, tomorrow.added_count, tomorrow.removed_count),
            (11, 0, 0),
        )

    def test_refresh_queries_do_not_grow_with_customers(self):
        few = self._segment(
            domain=repr([("id", "in", [self.customers[k].id for k in ("c0", "c8")])]),
            lifecycle_ids=[
                Command.set(self.criteria.filtered(lambda c: c.kind == "lifecycle").ids)
            ],
            engagement_band_ids=[
                Command.set(self._criterion("engagement_band", "cold").ids)
            ],
        )
        many = few.copy({"domain": repr([("category_id", "in", self.tag.ids)])})
        counts = {}
        for name, segment in (("few", few), ("many", many)):
            segment.action_refresh()
            self.env.invalidate_all()
            self.env.flush_all()
            start = self.env.cr.sql_log_count
            segment.action_refresh()
            counts[name] = self.env.cr.sql_log_count - start
        self.assertEqual((few.member_count, many.member_count), (2, 11))
        self.assertEqual(counts["few"], counts["many"])
        # The RFM snapshot, the membership and the day's size: a handful.
        self.assertLessEqual(counts["many"], 12)
        # With the consent criterion: batched through crm_core's consent API.
        (few | many).consent_purpose_id = self.purpose_email
        for name, segment in (("few", few), ("many", many)):
            segment.action_refresh()
            self.env.invalidate_all()
            self.env.flush_all()
            start = self.env.cr.sql_log_count
            segment.action_refresh()
            counts[name] = self.env.cr.sql_log_count - start
        self.assertEqual(counts["few"], counts["many"])
        self.assertLessEqual(counts["many"], 20)

    def test_restricted_and_erased_people_leave_segments(self):
        segment = self._segment()
        segment.action_refresh()
        lead = self.env["crm.lead"].create(
            {"name": "From c8", "partner_id": self.customers["c8"].id}
        )
        lead_segment = self.env["crm.marketing.segment"].create(
            {
                "name": "Leads",
                "target_model": "crm.lead",
                "domain": repr([("id", "in", (lead | self.opportunity).ids)]),
            }
        )
        lead_segment.action_refresh()
        self.assertEqual(self._members(lead_segment), lead | self.opportunity)
        # sudo: restriction is recorded by a data-subject request.
        self.customers["c8"].sudo().privacy_restricted = True
        (segment | lead_segment).action_refresh()
        self.assertNotIn("c8", self._refreshed(segment))
        self.assertEqual(self._members(lead_segment), self.opportunity)
        # Erasure deletes their memberships at once.
        self.assertTrue(
            segment.member_ids.filtered(lambda m: m.partner_id.name == "Customer C9")
        )
        self.env["crm.privacy.engine"]._erase(self.customers["c9"])
        segment.invalidate_recordset()
        self.assertEqual(
            segment.member_ids.partner_id,
            self.env["res.partner"].union(
                *[p for k, p in self.customers.items() if k not in ("c8", "c9")],
                self.prospect,
                self.won_prospect,
            ),
        )

    def test_cron_refreshes_every_active_segment_despite_a_broken_one(self):
        good = self._segment(name="Good")
        broken = self._segment(name="Broken")
        archived = self._segment(name="Archived", active=False)
        self.env.flush_all()
        # A filter that went bad after it was saved (a field was removed).
        self.env.execute_query(
            SQL(
                "UPDATE crm_marketing_segment SET domain = %s WHERE id = %s",
                "[('no_such_field', '=', 1)]",
                broken.id,
            )
        )
        broken.invalidate_recordset()
        with mute_logger("odoo.addons.crm_marketing.models.crm_marketing_segment"):
            self.env["crm.marketing.segment"]._cron_refresh_segments()
        (good | broken | archived).invalidate_recordset()
        self.assertEqual(good.member_count, 12)
        self.assertEqual((broken.member_count, archived.member_count), (0, 0))
        self.assertIn("could not be refreshed", broken.message_ids[0].body)
        self.assertIn("no_such_field", broken.refresh_error)
        self.assertFalse(good.refresh_error)
        self.assertEqual(
            self.env["crm.marketing.rfm"].search_count(
                [("company_id", "=", self.company.id)]
            ),
            10,
        )

    # ------------------------------------------------------------
    # Mailings
    # ------------------------------------------------------------

    def test_segment_as_the_recipients_of_a_mailing(self):
        segment = self._segment(
            rfm_cell_ids=[Command.set(self._criterion("rfm_cell", "champions").ids)]
        )
        segment.action_refresh()
        mailing = (
            self.env["mailing.mailing"]
            .with_user(self.marketer)
            .create({"subject": "Thank you", "crm_segment_id": segment.id})
        )
        self.assertEqual(mailing.mailing_model_name, "res.partner")
        recipients = self.env["res.partner"].browse(mailing._get_recipients())
        self.assertEqual(self._keys(recipients), ["c7", "c8"])
        # Reaching their contacts too.
        contact = self.env["res.partner"].create(
            {
                "name": "Carla C8",
                "parent_id": self.customers["c8"].id,
                "email": "carla@customers.example.com",
            }
        )
        segment.include_contacts = True
        recipients = self.env["res.partner"].browse(mailing._get_recipients())
        self.assertEqual(self._keys(recipients), ["Carla C8", "c7", "c8"])
        self.assertIn(segment, contact.with_user(self.marketer).crm_segment_ids)
        self.assertEqual(segment.mailing_count, 1)
        # "New" from the segment's Mailings button.
        context = segment.action_view_mailings()["context"]
        new_mailing = (
            self.env["mailing.mailing"]
            .with_user(self.marketer)
            .with_context(**context)
            .create({"subject": "Another one"})
        )
        self.assertEqual(
            (new_mailing.crm_segment_id, new_mailing.mailing_model_name),
            (segment, "res.partner"),
        )

        # A segment of leads makes a mailing to leads.
        lead_segment = self.env["crm.marketing.segment"].create(
            {
                "name": "Prospects",
                "target_model": "crm.lead",
                "domain": repr([("id", "=", self.opportunity.id)]),
            }
        )
        lead_segment.action_refresh()
        lead_mailing = self.env["mailing.mailing"].create(
            {"subject": "Hello", "crm_segment_id": lead_segment.id}
        )
        self.assertEqual(lead_mailing.mailing_model_name, "crm.lead")
        self.assertEqual(lead_mailing._get_recipients(), self.opportunity.ids)
        with self.assertRaises(ValidationError):
            lead_mailing.write(
                {
                    "crm_segment_id": segment.id,
                    "mailing_model_id": lead_mailing.mailing_model_id.id,
                }
            )

    def test_sending_refreshes_the_segment_first(self):
        segment = self._segment()
        segment.action_refresh()
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": "News",
                "body_html": "<p>News</p>",
                "crm_segment_id": segment.id,
            }
        )
        newcomer = self.env["res.partner"].create(
            {
                "name": "Newcomer",
                "is_company": True,
                "email": "new@customers.example.com",
                "category_id": [Command.link(self.tag.id)],
            }
        )
        self.assertNotIn(newcomer.id, mailing._get_recipients())
        mailing.action_send_mail()
        traces = self.env["mailing.trace"].search(
            [("mass_mailing_id", "=", mailing.id)]
        )
        self.assertIn(newcomer.id, traces.mapped("res_id"))
        # One trace per member, sent or cancelled (no address, no consent).
        self.assertEqual(len(traces), 13)
        self.assertEqual(segment.member_count, 13)

    def test_membership_search_operators(self):
        segment = self._segment(
            name="Champions only",
            rfm_cell_ids=[Command.set(self._criterion("rfm_cell", "champions").ids)],
        )
        segment.action_refresh()
        Partner = self.env["res.partner"].with_user(self.marketer)
        champions = self.customers["c7"] | self.customers["c8"]
        self.assertEqual(
            Partner.search([("crm_segment_ids", "ilike", "Champions o")]), champions
        )
        tagged_domain = [("category_id", "in", self.tag.ids)]
        self.assertEqual(
            len(
                Partner.search(
                    tagged_domain + [("crm_segment_ids", "not in", segment.ids)]
                )
            ),
            10,
        )
        self.assertEqual(
            len(Partner.search(tagged_domain + [("crm_segment_ids", "=", False)])), 10
        )
        self.assertEqual(
            self.customers["c8"].with_user(self.marketer).crm_segment_ids, segment
        )

    # ------------------------------------------------------------
    # Access
    # ------------------------------------------------------------

    def test_owner_rules_decide_what_a_segment_can_hold(self):
        seller_marketer = new_test_user(
            self.env,
            "seller_marketer",
            groups="crm_marketing.group_marketing_user,crm_core.group_crm_user",
            company_id=self.company.id,
        )
        mine, theirs = self.env["crm.lead"].create(
            [
                {"name": "Mine", "user_id": seller_marketer.id, "team_id": False},
                {
                    "name": "Team B's",
                    "user_id": self.salesman_b.id,
                    "team_id": self.team_b.id,
                },
            ]
        )
        segment = (
            self.env["crm.marketing.segment"]
            .with_user(seller_marketer)
            .create(
                {
                    "name": "My leads",
                    "target_model": "crm.lead",
                    "domain": repr([("id", "in", (mine | theirs).ids)]),
                }
            )
        )
        self.assertEqual(segment.live_count, 1)
        segment.action_refresh()
        self.assertEqual(segment.sudo().member_ids.lead_id, mine)
        # Borrowing somebody else's rights is refused...
        with self.assertRaises(AccessError):
            segment.user_id = self.marketing_manager
        # ...the refresh keeps to the owner's even when a manager runs it...
        segment.with_user(self.marketing_manager).action_refresh()
        self.assertEqual(segment.sudo().member_ids.lead_id, mine)
        # ...and a manager may hand the segment to a user who reads everything.
        segment.with_user(self.marketing_manager).user_id = self.env.user
        segment.action_refresh()
        self.assertEqual(segment.sudo().member_ids.lead_id, mine | theirs)
        # Without CRM rights, no lead segment at all.
        with self.assertRaises(AccessError):
            self.env["crm.marketing.segment"].with_user(self.marketer).create(
                {"name": "Leads", "target_model": "crm.lead"}
            )

    def test_users_without_marketing_rights_are_refused(self):
        segment = self._segment()
        portal = new_test_user(self.env, "portal_segment", groups="base.group_portal")
        for user in (self.salesman_a, portal):
            with self.subTest(user=user.login):
                Segment = self.env["crm.marketing.segment"].with_user(user)
                with self.assertRaises(AccessError):
                    Segment.create({"name": "Mine"})
                with self.assertRaises(AccessError):
                    segment.with_user(user).read(["name"])
                with self.assertRaises(AccessError):
                    segment.with_user(user).action_refresh()
        segment.action_refresh()
        # Their partner forms show no segment, and do not fail.
        self.assertFalse(
            self.customers["c8"].with_user(self.salesman_a).crm_segment_ids
        )

    def test_marketers_share_segments_within_their_company_only(self):
        segment = self._segment()
        colleague = new_test_user(
            self.env,
            "marketer_colleague",
            groups="crm_marketing.group_marketing_user",
            company_id=self.company.id,
        )
        as_colleague = segment.with_user(colleague)
        self.assertEqual(as_colleague.name, "Test segment")
        as_colleague.action_refresh()
        self.assertEqual(segment.member_count, 12)
        with self.assertRaises(AccessError):
            as_colleague.name = "Renamed"
        segment.with_user(self.marketing_manager).name = "Renamed by the manager"

        other_marketer = new_test_user(
            self.env,
            "marketer_other_company",
            groups="crm_marketing.group_marketing_user",
            company_id=self.other_company.id,
            company_ids=[Command.set(self.other_company.ids)],
        )
        Segment = self.env["crm.marketing.segment"].with_user(other_marketer)
        self.assertFalse(Segment.search([("id", "=", segment.id)]))
        with self.assertRaises(AccessError):
            segment.with_user(other_marketer).read(["name"])
        with self.assertRaises(AccessError):
            self.env["crm.marketing.segment.member"].with_user(other_marketer).browse(
                segment.member_ids.ids
            ).read(["partner_id"])
