from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

MEMBER_COLUMNS = {"res.partner": "partner_id", "crm.lead": "lead_id"}


class CrmMarketingSegmentMixin(models.AbstractModel):
    """The segments a customer or a lead belongs to, as of their last refresh.

    ``[("crm_segment_ids", "in", segment_ids)]`` selects the current members of
    the segments, and the contacts of member companies for segments that reach
    them: mailings and journeys use it as their recipients.
    """

    _name = "crm.marketing.segment.mixin"
    _description = "Segment Membership"

    crm_segment_ids = fields.Many2many(
        "crm.marketing.segment",
        string="Segments",
        compute="_compute_crm_segment_ids",
        search="_search_crm_segment_ids",
    )

    @api.depends_context("uid", "allowed_company_ids")
    def _compute_crm_segment_ids(self):
        Segment = self.env["crm.marketing.segment"]
        record_ids = tuple(self._origin.ids)
        if not Segment.has_access("read") or not record_ids:
            self.crm_segment_ids = False
            return
        column = SQL.identifier(MEMBER_COLUMNS[self._name])
        self.env["crm.marketing.segment.member"].flush_model()
        if self._name == "res.partner":
            self.flush_model(["commercial_partner_id"])
            rows = self.env.execute_query(
                SQL(
                    """
                SELECT partner.id, member.segment_id
                  FROM res_partner partner
                  JOIN crm_marketing_segment_member member
                    ON member.partner_id = partner.id
                    OR (member.partner_id = partner.commercial_partner_id
                        AND member.segment_id IN (
                            SELECT id FROM crm_marketing_segment
                             WHERE include_contacts))
                 WHERE partner.id IN %s
                """,
                    record_ids,
                )
            )
        else:
            rows = self.env.execute_query(
                SQL(
                    "SELECT %s, segment_id FROM crm_marketing_segment_member "
                    "WHERE %s IN %s",
                    column,
                    column,
                    record_ids,
                )
            )
        segment_ids = defaultdict(list)
        for record_id, segment_id in rows:
            segment_ids[record_id].append(segment_id)
        # Only the segments this user may read (their companies, their rights).
        readable = set(
            Segment.search([("id", "in", [segment for _r, segment in rows])]).ids
        )
        for record in self:
            record.crm_segment_ids = [
                s for s in segment_ids.get(record._origin.id, []) if s in readable
            ]

    def _search_crm_segment_ids(self, operator, value):
        negative = operator in ("not in", "!=")
        if operator in ("in", "not in", "=", "!="):
            values = value if isinstance(value, (list, tuple)) else [value]
            segment_ids = tuple(v for v in values if isinstance(v, int) and v)
            if not segment_ids and any(v is False for v in values):
                # ("crm_segment_ids", "=", False): in no segment at all.
                segment_ids, negative = None, not negative
        else:
            # A name: the segments this user can see by that name.
            segment_ids = tuple(
                self.env["crm.marketing.segment"]
                .search([("name", operator, value)])
                .ids
            )
        domain = self._crm_segment_members_domain(segment_ids)
        return ["!", *domain] if negative else domain

    def _crm_segment_members_domain(self, segment_ids):
        """Members of ``segment_ids`` (every segment when None)."""
        self.env["crm.marketing.segment.member"].flush_model()
        self.env["crm.marketing.segment"].flush_model(["include_contacts"])
        column = SQL.identifier(MEMBER_COLUMNS[self._name])
        in_segments = (
            SQL("TRUE")
            if segment_ids is None
            else SQL("member.segment_id IN %s", segment_ids or (0,))
        )
        # Membership rows only give ids: the searched model's own access rules
        # still decide what the search returns.
        members = SQL(
            "(SELECT member.%s FROM crm_marketing_segment_member member "
            "WHERE %s AND member.%s IS NOT NULL)",
            column,
            in_segments,
            column,
        )
        if self._name != "res.partner":
            return [("id", "in", members)]
        reaching_contacts = SQL(
            """(SELECT member.partner_id FROM crm_marketing_segment_member member
                  JOIN crm_marketing_segment segment ON segment.id = member.segment_id
                 WHERE %s AND segment.include_contacts
                   AND member.partner_id IS NOT NULL)""",
            in_segments,
        )
        return [
            "|",
            ("id", "in", members),
            ("commercial_partner_id", "in", reaching_contacts),
        ]
