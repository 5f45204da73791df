from odoo import fields
from odoo.tests import tagged

from .test_engagement_scoring import EngagementCase


@tagged("post_install", "-at_install")
class TestEngagementCollectors(EngagementCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Collector = cls.env["crm.marketing.engagement.collector"]
        cls.lead = cls._lead(
            "Globex expansion",
            partner_id=cls.other_customer.id,
            email_from="info@globex.example.com",
        )
        cls.mailing = cls.env["mailing.mailing"].create(
            {
                "subject": "Spring offer",
                "body_html": "<p>Hello</p>",
                "mailing_model_id": cls.env["ir.model"]._get_id("res.partner"),
            }
        )

    def _trace(self, record, **vals):
        return self.env["mailing.trace"].create(
            {
                "model": record._name,
                "res_id": record.id,
                "mass_mailing_id": self.mailing.id,
                "email": "x@example.com",
                "trace_status": "sent",
                **vals,
            }
        )

    def _events(self, record):
        field = "lead_id" if record._name == "crm.lead" else "partner_id"
        return self.env["crm.marketing.engagement.event"].search(
            [(field, "=", record.id), ("model", "=", record._name)]
        )

    def test_mailing_traces_opens_clicks_replies_and_bounces(self):
        alice = self._trace(self.contact_1)
        alice.set_opened()
        alice.set_replied()
        link = self.env["link.tracker"].create(
            {
                "url": "https://example.com/pricing",
                "title": "Pricing",
                "label": "pricing",
                "mass_mailing_id": self.mailing.id,
            }
        )
        # Two clicks on the same link of the same mailing count once.
        self.env["link.tracker.click"].create(
            [
                {
                    "link_id": link.id,
                    "mailing_trace_id": alice.id,
                    "mass_mailing_id": self.mailing.id,
                }
            ]
            * 2
        )
        self._trace(self.lead).set_opened()
        self._trace(self.contact_2).set_bounced()
        # A mailing contact counts for the contact with the same email.
        subscriber = self.env["mailing.contact"].create(
            {"name": "Robert", "email": "Bob@acme.example.com"}
        )
        self._trace(subscriber).set_opened()
        self._trace(self.other_customer)  # sent, nothing more: no event

        self.Collector._collect()
        mine = [
            "|",
            ("partner_id", "in", (self.contact_1 | self.contact_2).ids),
            ("lead_id", "=", self.lead.id),
        ]
        Event = self.env["crm.marketing.engagement.event"]

        self.assertEqual(
            sorted(self._events(self.contact_1).mapped("description")),
            [
                "clicked the “pricing” link in “Spring offer”",
                "opened “Spring offer”",
                "replied to “Spring offer”",
            ],
        )
        self.assertEqual(
            self._events(self.lead).mapped("description"), ["opened “Spring offer”"]
        )
        self.assertEqual(
            sorted(self._events(self.contact_2).mapped("rule_id.code")),
            ["bounced", "opened"],
        )
        self.assertFalse(self._events(self.other_customer))
        self.assertEqual(Event.search_count(mine), 6)
        # 3 opened + 15 replied + 8 clicked, just now.
        self.assertAlmostEqual(self.contact_1.crm_engagement_score, 26, delta=0.1)
        self.assertEqual(self.contact_1.crm_engagement_band, "warm")
        self.assertIn(
            "replied to “Spring offer” today", self.contact_1.crm_engagement_reasons
        )
        # Bounced (-10) and opened (+3).
        self.assertAlmostEqual(self.contact_2.crm_engagement_score, -7, delta=0.1)
        # The lead's contact opened nothing on their own: the lead's open only.
        self.assertAlmostEqual(self.lead.crm_engagement_score, 3, delta=0.1)

        # Collecting again, from the watermark or from the start, changes nothing.
        scores = (self.contact_1 | self.contact_2).mapped("crm_engagement_score")
        self.assertFalse(self.Collector._collect())
        self.assertFalse(
            self.Collector._collect(since=fields.Datetime.now().replace(year=2000))
        )
        self.assertEqual(Event.search_count(mine), 6)
        self.assertEqual(
            (self.contact_1 | self.contact_2).mapped("crm_engagement_score"), scores
        )

    def test_incoming_emails(self):
        self.contact_1.message_post(
            body="Could you send me the price list?",
            subject="Question about pricing",
            message_type="email",
            author_id=self.contact_1.id,
        )
        # A prospect writing on the lead, with no contact of their own yet.
        self.lead.message_post(
            body="We are interested.",
            message_type="email",
            author_id=False,
            email_from="someone@globex.example.com",
        )
        # An employee's email and a note are not the customer's engagement.
        self.lead.message_post(
            body="Forwarded internally",
            message_type="email",
            author_id=self.salesman_a.partner_id.id,
        )
        self.contact_1.message_post(body="Internal note", message_type="comment")

        self.Collector._collect()

        self.assertEqual(
            self._events(self.contact_1).mapped("description"),
            ["wrote “Question about pricing”"],
        )
        self.assertEqual(
            self._events(self.lead).mapped("description"), ["wrote an email"]
        )
        # crm_core logs the email as an interaction too: counted once, as an email.
        self.assertFalse(
            self.env["crm.marketing.engagement.event"].search(
                [
                    ("rule_id.code", "=", "interaction"),
                    "|",
                    ("partner_id", "=", self.contact_1.id),
                    ("lead_id", "=", self.lead.id),
                ]
            )
        )
        self.assertAlmostEqual(self.contact_1.crm_engagement_score, 10, delta=0.1)

    def test_inbound_interactions(self):
        Interaction = self.env["crm.interaction"]
        Interaction.create(
            [
                {
                    "name": "Asked for a demo",
                    "channel": "call",
                    "direction": "inbound",
                    "partner_id": self.contact_1.id,
                },
                {
                    "name": "Visited the stand",
                    "channel": "visit",
                    "direction": "inbound",
                    "lead_id": self.lead.id,
                },
                {
                    "name": "Our follow-up call",
                    "channel": "call",
                    "direction": "outbound",
                    "partner_id": self.contact_1.id,
                },
            ]
        )
        self.Collector._collect()
        self.assertEqual(
            self._events(self.contact_1).mapped("description"),
            ["reached out (call): “Asked for a demo”"],
        )
        lead_event = self._events(self.lead)
        self.assertEqual(
            lead_event.description, "reached out (visit): “Visited the stand”"
        )
        self.assertEqual(lead_event.partner_id, self.other_customer)
        self.assertAlmostEqual(self.contact_1.crm_engagement_score, 10, delta=0.1)
        self.assertAlmostEqual(self.lead.crm_engagement_score, 10, delta=0.1)
        # The lead's contact gets the credit too.
        self.assertAlmostEqual(self.other_customer.crm_engagement_score, 10, delta=0.1)

    def test_web_form_leads(self):
        website = self.env.ref("utm.utm_medium_website")
        web_lead = self._lead(
            "Website enquiry: 25 seats", medium_id=website.id, partner_id=False
        )
        imported = self._lead(
            "Imported list", medium_id=self.env.ref("utm.utm_medium_email").id
        )
        self.Collector._collect()
        events = self.env["crm.marketing.engagement.event"].search(
            [
                ("rule_id.code", "=", "web_form"),
                ("lead_id", "in", (web_lead | imported).ids),
            ]
        )
        self.assertEqual(events.lead_id, web_lead)
        self.assertEqual(
            events.description, "sent the web form “Website enquiry: 25 seats”"
        )
        self.assertAlmostEqual(web_lead.crm_engagement_score, 20, delta=0.1)

    def test_tickets_when_support_is_installed(self):
        if "crm.ticket" not in self.env:
            # Tickets are read only when crm_support is installed.
            self.assertFalse(
                list(self.Collector._collect_tickets(fields.Datetime.now()))
            )
            self.skipTest("crm_support is not installed")
        # sudo: the test's user is no support agent; tickets are only the source.
        self.env["crm.ticket"].sudo().create(
            [
                {"name": "Printer jam", "partner_id": self.contact_1.id},
                {"name": "Anonymous question"},
            ]
        )
        self.Collector._collect()
        self.assertEqual(
            self._events(self.contact_1).mapped("description"),
            ["opened the ticket “Printer jam”"],
        )
        self.assertAlmostEqual(self.contact_1.crm_engagement_score, 4, delta=0.1)
