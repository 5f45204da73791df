from odoo import fields, models
from odoo.tools import SQL


class CrmMarketingSegmentMember(models.Model):
    """A record in a segment as of its last refresh.

    Rows are written by the segment's refresh only, in one statement per
    segment: the customers (commercial entities) of a customer segment, or the
    leads of a lead segment.
    """

    _name = "crm.marketing.segment.member"
    _description = "Segment Member"
    _order = "segment_id, id"
    _log_access = False

    segment_id = fields.Many2one(
        "crm.marketing.segment", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="segment_id.company_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        readonly=True,
        index="btree_not_null",
        ondelete="cascade",
    )
    lead_id = fields.Many2one(
        "crm.lead",
        string="Lead",
        readonly=True,
        index="btree_not_null",
        ondelete="cascade",
    )
    date_joined = fields.Datetime(string="Member Since", readonly=True)

    _sql_constraints = [
        (
            "one_record",
            "CHECK(num_nonnulls(partner_id, lead_id) = 1)",
            "A segment member is a customer or a lead.",
        ),
    ]

    def init(self):
        # A record is in a segment once. Partial indexes: each row carries one
        # of the two columns, and a refresh inserts thousands of rows at once.
        for column in ("partner_id", "lead_id"):
            self.env.cr.execute(
                SQL(
                    "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (segment_id, %s) "
                    "WHERE %s IS NOT NULL",
                    SQL.identifier(f"{self._table}_segment_{column}_unique"),
                    SQL.identifier(self._table),
                    SQL.identifier(column),
                    SQL.identifier(column),
                )
            )
