from odoo import Command
from odoo.tests import tagged

from .common import CrmSupportCommon


@tagged("post_install", "-at_install")
class TestKnowledgeAndRatings(CrmSupportCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Article = cls.env["crm.ticket.article"]
        Article.search([]).active = False
        cls.ribbon, cls.paper, cls.vat = Article.create(
            [
                {
                    "name": "Printer ribbon replacement",
                    "body": "<p>When the printer prints blank labels, replace the "
                    "ribbon.</p>",
                    "is_published": True,
                },
                {
                    "name": "Paper jams",
                    "body": "<p>Open the tray and remove the jammed paper from the "
                    "printer.</p>",
                },
                {"name": "VAT on invoices", "body": "<p>How VAT is computed.</p>"},
            ]
        )

    def test_suggestions_rank_by_subject_and_description(self):
        ticket = self._ticket(
            name="Printer prints blank labels",
            description="<p>The labels come out blank since the ribbon change.</p>",
        )
        self.assertEqual(ticket.suggested_article_ids[0], self.ribbon)
        self.assertIn(self.paper, ticket.suggested_article_ids)
        self.assertNotIn(self.vat, ticket.suggested_article_ids)
        unrelated = self._ticket(
            name="Lorem ipsum", description="<p>dolor sit amet</p>"
        )
        self.assertFalse(unrelated.suggested_article_ids)

    def test_full_text_search_and_solved_count(self):
        Article = self.env["crm.ticket.article"]
        self.assertEqual(
            Article.search([("content_search", "ilike", "jammed tray")]), self.paper
        )
        self.assertEqual(
            Article.search([("content_search", "ilike", "ribbon")]), self.ribbon
        )
        ticket = self._ticket()
        self.ribbon.with_context(ticket_id=ticket.id).action_link_to_ticket()
        self.assertEqual(ticket.article_ids, self.ribbon)
        self.assertEqual(self.ribbon.solved_count, 0)
        ticket.stage_id = self.stage_solved
        self.ribbon.invalidate_recordset(["solved_count"])
        self.assertEqual(self.ribbon.solved_count, 1)

    def test_portal_users_read_published_articles_only(self):
        portal = self.env["res.users"].create(
            {
                "name": "Portal Alice",
                "login": "portal_alice_kb",
                "partner_id": self.contact_1.id,
                "groups_id": [Command.set(self.env.ref("base.group_portal").ids)],
            }
        )
        visible = self.env["crm.ticket.article"].with_user(portal).search([])
        self.assertEqual(visible, self.ribbon)

    def test_rating_on_resolution_feeds_satisfaction(self):
        ticket = self._ticket()
        ticket.stage_id = self.stage_solved
        rating = self.env["rating.rating"].search(
            [("res_model", "=", "crm.ticket"), ("res_id", "=", ticket.id)]
        )
        self.assertEqual(len(rating), 1, "the solved stage asks for a rating")
        self.assertEqual(rating.partner_id, self.contact_1)
        self.assertEqual(rating.rated_partner_id, ticket.user_id.partner_id)
        ticket.rating_apply(5, token=rating.access_token, feedback="Quick and kind")
        self.assertEqual(ticket.rating_last_value, 5)
        other = self._ticket()
        other.stage_id = self.stage_solved
        other.rating_apply(1, token=other.rating_ids.access_token)
        self.assertEqual(self.customer.customer_ticket_csat, 50.0)
        report = self.env["crm.ticket.sla.report"]._read_group(
            [("ticket_id", "in", (ticket | other).ids)],
            ["team_id"],
            ["satisfaction:avg"],
        )
        self.assertEqual(report, [(self.team, 50.0)])
        # The team gets the ratings of its tickets (rating parent).
        self.assertEqual(rating.parent_res_model, "crm.support.team")
        self.assertEqual(rating.parent_res_id, self.team.id)
