from odoo import fields, models


class CrmMarketingSegmentHistory(models.Model):
    """Size of a segment on a day: one row per segment and day, updated by every
    refresh of that day."""

    _name = "crm.marketing.segment.history"
    _description = "Segment Size History"
    _order = "segment_id, date desc"
    _rec_name = "date"

    segment_id = fields.Many2one(
        "crm.marketing.segment", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="segment_id.company_id")
    date = fields.Date(required=True, readonly=True)
    member_count = fields.Integer(string="Members", readonly=True, aggregator="max")
    added_count = fields.Integer(string="Joined", readonly=True)
    removed_count = fields.Integer(string="Left", readonly=True)

    _sql_constraints = [
        (
            "segment_date_unique",
            "UNIQUE(segment_id, date)",
            "A segment has one size per day.",
        )
    ]
