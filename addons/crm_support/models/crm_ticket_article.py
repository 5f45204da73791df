import re

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

# Words too common to say anything about a problem.
STOPWORDS = frozenset(
    "the and for with that this from have has not but are was were you your our "
    "can cannot can't when what how why does did any all out get got please thanks "
    "hello dear regards".split()
)


class CrmTicketArticle(models.Model):
    """A knowledge base article: internal, or published on the customer portal."""

    _name = "crm.ticket.article"
    _description = "Knowledge Base Article"
    _inherit = ["mail.thread"]
    _order = "sequence, name"

    name = fields.Char(string="Title", required=True, index="trigram")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    body = fields.Html()
    tag_ids = fields.Many2many("crm.ticket.tag", string="Tags")
    category_id = fields.Many2one("crm.ticket.category")
    is_published = fields.Boolean(
        string="Published on the Portal",
        tracking=True,
        help="Customers read published articles on their portal; the others stay "
        "internal.",
    )
    ticket_ids = fields.Many2many(
        "crm.ticket", "crm_ticket_article_rel", "article_id", "ticket_id"
    )
    solved_count = fields.Integer(
        string="Tickets Solved", compute="_compute_solved_count"
    )
    content_search = fields.Char(
        string="Full Text",
        compute="_compute_content_search",
        search="_search_content_search",
        help="Search titles and bodies by words, in any form.",
    )

    def _compute_solved_count(self):
        counts = dict(
            self.env["crm.ticket"]
            .sudo()
            ._read_group(
                [("article_ids", "in", self.ids), ("is_closed", "=", True)],
                ["article_ids"],
                ["__count"],
            )
        )
        for article in self:
            article.solved_count = counts.get(article, 0)

    def _compute_content_search(self):
        self.content_search = False

    def _search_content_search(self, operator, value):
        if operator not in ("ilike", "=") or not value:
            return [("id", "=", 0)] if operator in ("ilike", "=") else []
        self.flush_model(["name", "body"])
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM crm_ticket_article WHERE %s @@ %s",
                self._document(),
                SQL("plainto_tsquery('simple', %s)", value),
            )
        )
        return [("id", "in", [row[0] for row in rows])]

    @api.model
    def _document(self):
        # Title weighs more than body; tags are stripped from the HTML.
        return self._document_of(SQL.identifier("crm_ticket_article"))

    @api.model
    def _document_of(self, table):
        return SQL(
            "setweight(to_tsvector('simple', COALESCE(%(t)s.name, '')), 'A') || "
            "setweight(to_tsvector('simple', regexp_replace("
            "COALESCE(%(t)s.body, ''), '<[^>]+>', ' ', 'g')), 'B')",
            t=table,
        )

    def action_link_to_ticket(self):
        """Link the article to the ticket being worked on (from its suggestions)."""
        ticket = self.env["crm.ticket"].browse(self.env.context.get("ticket_id"))
        if not ticket:
            raise UserError(self.env._("Save the ticket first."))
        ticket.article_ids = [fields.Command.link(article.id) for article in self]

    @api.model
    def _suggest(self, texts, limit=5):
        """Best articles for each text ({key: text}), in one query for them all."""
        queries = {}
        for key, text in texts.items():
            words = {
                word
                for word in re.findall(
                    r"[^\W\d_]{3,}", re.sub(r"<[^>]+>", " ", text).lower()
                )
                if word not in STOPWORDS
            }
            if words:
                queries[key] = " | ".join(sorted(words))
        if not queries:
            return {}
        self.flush_model(["name", "body", "active"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT asked.key, best.id
              FROM (VALUES %(values)s) AS asked(key, query)
              CROSS JOIN LATERAL (
                   SELECT article.id
                     FROM crm_ticket_article article
                    WHERE article.active
                      AND %(document)s @@ to_tsquery('simple', asked.query)
                    ORDER BY ts_rank(%(document)s, to_tsquery('simple', asked.query))
                             DESC, article.sequence, article.id
                    LIMIT %(limit)s
              ) best
            """,
                values=SQL(", ").join(
                    SQL("(%s, %s)", key, query) for key, query in queries.items()
                ),
                document=self._document_of(SQL.identifier("article")),
                limit=limit,
            )
        )
        result = {}
        for key, article_id in rows:
            result.setdefault(key, []).append(article_id)
        return result
