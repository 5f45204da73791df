from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CrmSupportCommon

EMAIL = """Return-Path: <{sender}>
To: desk-test@support-test.example.com
From: {sender_name} <{sender}>
Subject: {subject}
Message-ID: <{msg_id}@mail.example.com>
{extra}Date: Mon, 23 Nov 2026 09:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

{body}
"""


@tagged("post_install", "-at_install")
class TestTicketByEmail(CrmSupportCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        domain = cls.env["mail.alias.domain"].create(
            {"name": "support-test.example.com"}
        )
        cls.team.alias_id.alias_domain_id = domain

    def _receive(self, subject, msg_id, sender=None, extra="", body="Hello"):
        sender = sender or self.contact_1.email
        raw = EMAIL.format(
            sender=sender,
            sender_name="Someone",
            subject=subject,
            msg_id=msg_id,
            extra=extra,
            body=body,
        )
        return self.env["mail.thread"].message_process(None, raw)

    def test_email_creates_a_ticket_and_acknowledges_it(self):
        ticket_id = self._receive("Printer broken", "m1", body="It jams every page.")
        ticket = self.Ticket.browse(ticket_id)
        self.assertEqual(ticket.team_id, self.team)
        self.assertEqual(ticket.channel, "email")
        self.assertEqual(ticket.partner_id, self.contact_1)
        self.assertRegex(ticket.number, r"^TCK-\d{5}$")
        self.assertIn(
            "It jams every page.", " ".join(ticket.message_ids.mapped("body"))
        )
        # The acknowledgement went to the customer, with the number.
        ack = ticket.message_ids.filtered(lambda m: ticket.number in (m.subject or ""))
        self.assertEqual(len(ack), 1)
        self.assertIn(self.contact_1, ack.notification_ids.res_partner_id)
        self.assertIn(ticket.number, ack.body)
        # Replies go to the team alias.
        self.assertIn(
            "desk-test@support-test.example.com",
            ticket._notify_get_reply_to()[ticket.id],
        )

    def test_replies_thread_with_and_without_headers(self):
        ticket = self.Ticket.browse(self._receive("Printer broken", "m1"))
        ack = ticket.message_ids.filtered(lambda m: ticket.number in (m.subject or ""))
        # A normal reply: In-Reply-To the acknowledgement.
        self._receive(
            f"Re: [{ticket.number}] Printer broken",
            "m2",
            extra=f"In-Reply-To: {ack.message_id}\nReferences: {ack.message_id}\n",
            body="Still jamming.",
        )
        # A mail client that drops the headers: the number in the subject finds it.
        self._receive(f"RE: [{ticket.number}] Printer broken", "m3", body="Any news?")
        tickets = self.Ticket.search([("partner_id", "=", self.contact_1.id)])
        self.assertEqual(tickets, ticket)
        bodies = " ".join(ticket.message_ids.mapped("body"))
        self.assertIn("Still jamming.", bodies)
        self.assertIn("Any news?", bodies)

    def test_a_stranger_quoting_a_number_opens_a_new_ticket(self):
        ticket = self.Ticket.browse(self._receive("Printer broken", "m1"))
        other_id = self._receive(
            f"[{ticket.number}] let me in",
            "m2",
            sender="mallory@evil.example.com",
            body="Hijack attempt",
        )
        self.assertNotEqual(other_id, ticket.id)
        # An address that merely contains the customer's is a stranger too.
        lookalike_id = self._receive(
            f"Re: [{ticket.number}] Printer broken",
            "m3",
            sender=f"m{self.contact_1.email}",
            body="Lookalike attempt",
        )
        self.assertNotEqual(lookalike_id, ticket.id)
        bodies = " ".join(ticket.message_ids.mapped("body"))
        self.assertNotIn("Hijack attempt", bodies)
        self.assertNotIn("Lookalike attempt", bodies)

    @mute_logger("odoo.addons.mail.models.mail_thread")
    def test_the_same_email_twice_makes_one_ticket(self):
        self._receive("Printer broken", "dup")
        self._receive("Printer broken", "dup")
        self.assertEqual(
            self.Ticket.search_count([("partner_id", "=", self.contact_1.id)]), 1
        )

    def test_customer_is_told_at_each_step(self):
        ticket = self._ticket()

        def emailed():
            return ticket.message_ids.filtered(
                lambda m: self.contact_1 in m.notification_ids.res_partner_id
            )

        self.assertEqual(len(emailed()), 1, "acknowledgement")
        ticket.with_user(self.agent_1).message_post(
            body="Try turning it off and on",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertEqual(len(emailed()), 2, "the agent's answer")
        ticket.with_user(self.agent_1).message_post(
            body="Internal: probably the fuser", subtype_xmlid="mail.mt_note"
        )
        self.assertEqual(len(emailed()), 2, "internal notes stay internal")
        ticket.stage_id = self.stage_solved
        solved = emailed().filtered(lambda m: "Solved" in (m.subject or ""))
        self.assertEqual(len(solved), 1)
        self.assertTrue(
            self.env["rating.rating"].search(
                [("res_model", "=", "crm.ticket"), ("res_id", "=", ticket.id)]
            )
        )
