from odoo import fields, models

CRITERION_KINDS = [
    ("rfm_cell", "RFM Cell"),
    ("lifecycle", "Lifecycle Stage"),
    ("engagement_band", "Engagement Band"),
]


class CrmMarketingSegmentCriterion(models.Model):
    """One value a segment can ask for: an RFM cell, a lifecycle stage or an
    engagement band. The records come with the addon; their codes are what the
    refresh compares with the RFM analysis and the engagement bands."""

    _name = "crm.marketing.segment.criterion"
    _description = "Segment Criterion Value"
    _order = "kind, sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, readonly=True)
    kind = fields.Selection(CRITERION_KINDS, required=True, readonly=True)
    sequence = fields.Integer(default=10)
    description = fields.Char(translate=True)

    _sql_constraints = [
        (
            "kind_code_unique",
            "UNIQUE(kind, code)",
            "Each criterion value has its own code within its kind.",
        )
    ]
