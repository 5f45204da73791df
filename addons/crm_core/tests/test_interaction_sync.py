from datetime import datetime, timedelta

from odoo import Command
from odoo.tests import tagged

from .common import CrmCoreCommon

INCOMING_EMAIL = """Return-Path: <carol@newco.example.com>
From: Carol Newco <carol@newco.example.com>
To: sales@test.example.com
Subject: Quote for 40 licences
Message-ID: <quote-40-licences@newco.example.com>
Date: Mon, 16 Nov 2026 10:00:00 +0000
Content-Type: text/plain; charset=utf-8

Hello, could you send us a quote for 40 licences?
"""


@tagged("post_install", "-at_install")
class TestInteractionSync(CrmCoreCommon):
    def _interactions(self, **domain):
        # Rules are tested in test_security; here only what was logged matters.
        return (
            self.env["crm.interaction"]
            .sudo()
            .search([(k, "=", v) for k, v in domain.items()])
        )

    def test_partner_chatter_message_logged_once(self):
        message = self.contact_1.with_user(self.salesman_a).message_post(
            body="Here is the proposal.",
            subject="Proposal",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        interaction = self._interactions(message_id=message.id)
        self.assertEqual(len(interaction), 1)
        self.assertRecordValues(
            interaction,
            [
                {
                    "name": "Proposal",
                    "channel": "email",
                    "direction": "outbound",
                    "partner_id": self.contact_1.id,
                    "commercial_partner_id": self.customer.id,
                    "user_id": self.salesman_a.id,
                    "date": message.date,
                }
            ],
        )

        # Seeing the same message again (history sync, a second hook) adds nothing.
        self.env["crm.interaction"]._sync_from_messages(message)
        self.env["crm.interaction"]._sync_from_messages(message | message)
        self.assertEqual(len(self._interactions(message_id=message.id)), 1)
        self.assertEqual(self.customer.customer_interaction_count, 1)

    def test_internal_notes_and_notifications_not_logged(self):
        note = self.contact_1.message_post(
            body="Internal remark", subtype_xmlid="mail.mt_note"
        )
        notification = self.contact_1.message_post(
            body="Stage changed", message_type="notification"
        )
        self.assertFalse(self._interactions(message_id=note.id))
        self.assertFalse(self._interactions(message_id=notification.id))

    def test_customer_reply_is_inbound(self):
        message = self.contact_1.message_post(
            body="Thanks, we accept.",
            author_id=self.contact_1.id,
            message_type="email",
            subtype_xmlid="mail.mt_comment",
        )
        interaction = self._interactions(message_id=message.id)
        self.assertEqual(interaction.direction, "inbound")
        # Owned by the account's salesperson, who must see it.
        self.assertEqual(interaction.user_id, self.salesman_a)

    def test_lead_message_logged_on_lead_and_customer(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "Renewal",
                "partner_id": self.contact_2.id,
                "user_id": self.salesman_b.id,
                "team_id": self.team_b.id,
            }
        )
        message = lead.message_post(
            body="Renewal terms attached.",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        interaction = self._interactions(message_id=message.id)
        self.assertRecordValues(
            interaction,
            [
                {
                    "lead_id": lead.id,
                    "partner_id": self.contact_2.id,
                    "commercial_partner_id": self.customer.id,
                    "user_id": self.salesman_b.id,
                    "team_id": self.team_b.id,
                }
            ],
        )
        self.assertEqual(lead.interaction_count, 1)

    def test_email_through_mail_gateway_creates_lead_and_interaction(self):
        lead_id = self.env["mail.thread"].message_process("crm.lead", INCOMING_EMAIL)
        lead = self.env["crm.lead"].browse(lead_id)
        self.assertEqual(lead.name, "Quote for 40 licences")
        interaction = self._interactions(lead_id=lead.id)
        self.assertEqual(len(interaction), 1)
        self.assertEqual(interaction.direction, "inbound")
        self.assertEqual(interaction.channel, "email")
        self.assertIn("40 licences", interaction.description)

        # The same email delivered twice is deduplicated by the gateway and by us.
        self.env["mail.thread"].message_process("crm.lead", INCOMING_EMAIL)
        self.assertEqual(len(self._interactions(lead_id=lead.id)), 1)

    def test_meeting_logged_once_per_customer_and_kept_in_step(self):
        start = datetime(2026, 12, 1, 9, 0)
        event = self.env["calendar.event"].create(
            {
                "name": "Kick-off",
                "start": start,
                "stop": start + timedelta(hours=2),
                "user_id": self.salesman_a.id,
                "partner_ids": [
                    Command.set(
                        (
                            self.contact_1
                            | self.contact_2
                            | self.salesman_a2.partner_id
                        ).ids
                    )
                ],
            }
        )
        interaction = self._interactions(calendar_event_id=event.id)
        # Two of Acme and a colleague: one meeting with Acme, on its first contact.
        self.assertRecordValues(
            interaction,
            [
                {
                    "partner_id": self.contact_1.id,
                    "commercial_partner_id": self.customer.id,
                    "channel": "meeting",
                    "date": start,
                    "duration": 2.0,
                    "user_id": self.salesman_a.id,
                    "name": "Kick-off",
                }
            ],
        )

        # The meeting moves: the interaction follows, without a second row.
        new_start = start + timedelta(days=1)
        event.write({"start": new_start, "stop": new_start + timedelta(hours=1)})
        self.assertEqual(self._interactions(calendar_event_id=event.id), interaction)
        self.assertRecordValues(interaction, [{"date": new_start, "duration": 1.0}])

        # Alice leaves: the same row now stands for Bob. Globex joins: a row of its own.
        event.partner_ids = [
            Command.unlink(self.contact_1.id),
            Command.link(self.other_customer.id),
        ]
        interactions = self._interactions(calendar_event_id=event.id)
        self.assertEqual(len(interactions), 2)
        self.assertEqual(interaction.partner_id, self.contact_2)
        self.assertEqual(
            interactions.commercial_partner_id, self.customer | self.other_customer
        )
        self.assertEqual(self.customer.customer_interaction_count, 1)

        # Resyncing changes nothing; archiving or deleting the meeting removes its rows.
        self.env["crm.interaction"]._sync_from_events(event)
        self.assertEqual(self._interactions(calendar_event_id=event.id), interactions)
        event.active = False
        self.assertFalse(self._interactions(calendar_event_id=event.id))
        event.active = True
        self.assertEqual(len(self._interactions(calendar_event_id=event.id)), 2)
        event.unlink()
        self.assertFalse(self._interactions(calendar_event_id=event.id))

    def test_private_meeting_keeps_only_that_it_took_place_and_with_whom(self):
        start = datetime(2026, 12, 2, 9, 0)
        lead = self.env["crm.lead"].create(
            {
                "name": "Acme renewal",
                "user_id": self.salesman_a.id,
                "team_id": self.team_a.id,
            }
        )
        vals = {
            "start": start,
            "stop": start + timedelta(hours=1),
            "user_id": self.salesman_a.id,
            "partner_ids": [Command.set(self.contact_1.ids)],
            "opportunity_id": lead.id,
        }
        # Private meetings are their organizer's to create and change.
        Event = self.env["calendar.event"].with_user(self.salesman_a)
        private, by_default = Event.create(
            [
                {
                    **vals,
                    "name": "Divorce settlement of Alice",
                    "description": "<p>Discuss the custody hearing</p>",
                    "privacy": "private",
                },
                {**vals, "name": "Medical leave plan", "description": "<p>Chemo</p>"},
            ]
        )
        self.salesman_a.with_user(self.salesman_a).calendar_default_privacy = "private"
        self.env["crm.interaction"]._sync_from_events(by_default)
        for event in (private, by_default):
            self.assertRecordValues(
                self._interactions(calendar_event_id=event.id),
                [
                    {
                        "name": "Private meeting",
                        "description": False,
                        "lead_id": False,
                        "partner_id": self.contact_1.id,
                        "date": start,
                    }
                ],
            )
        # Made public, the meeting shows what it is about again.
        private.with_user(self.salesman_a).privacy = "public"
        interaction = self._interactions(calendar_event_id=private.id)
        self.assertEqual(interaction.name, "Divorce settlement of Alice")
        self.assertEqual(interaction.lead_id, lead)

    def test_chatter_message_by_an_archived_employee_is_outbound(self):
        message = self.contact_1.with_user(self.env.ref("base.user_root")).message_post(
            body="Automatic reminder",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertEqual(
            self._interactions(message_id=message.id).direction, "outbound"
        )
