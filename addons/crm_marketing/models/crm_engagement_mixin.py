from odoo import api, fields, models

ENGAGEMENT_BANDS = [("cold", "Cold"), ("warm", "Warm"), ("hot", "Hot")]
# Score from which a band starts (ir.config_parameter overrides these).
WARM_PARAM, WARM_DEFAULT = "crm_marketing.engagement_warm", 20.0
HOT_PARAM, HOT_DEFAULT = "crm_marketing.engagement_hot", 50.0


class CrmEngagementMixin(models.AbstractModel):
    """Engagement score of a contact or a lead, kept by the engagement ledger."""

    _name = "crm.engagement.mixin"
    _description = "Engagement Score"

    crm_engagement_score = fields.Float(
        string="Engagement",
        readonly=True,
        copy=False,
        digits=(16, 1),
        aggregator="avg",
        help="Points of recent engagement events, each decaying with its half-life.",
    )
    crm_engagement_band = fields.Selection(
        ENGAGEMENT_BANDS,
        string="Engagement Band",
        compute="_compute_crm_engagement_band",
        store=True,
        index=True,
    )
    crm_engagement_reasons = fields.Text(
        string="Engagement Reasons", readonly=True, copy=False
    )
    crm_engagement_date = fields.Datetime(
        string="Engagement Scored On", readonly=True, copy=False
    )

    @api.model
    def _crm_engagement_thresholds(self):
        # sudo: system parameters, read by anyone whose band is computed.
        param = self.env["ir.config_parameter"].sudo().get_param
        return (
            float(param(WARM_PARAM, WARM_DEFAULT)),
            float(param(HOT_PARAM, HOT_DEFAULT)),
        )

    @api.depends("crm_engagement_score")
    def _compute_crm_engagement_band(self):
        warm, hot = self._crm_engagement_thresholds()
        for record in self:
            score = record.crm_engagement_score
            record.crm_engagement_band = (
                "hot" if score >= hot else "warm" if score >= warm else "cold"
            )

    def _crm_engagement_event_domain(self):
        """The ledger's events counting for this record's score."""
        self.ensure_one()
        return [("partner_id", "=", self.id)]

    def action_view_engagement_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_marketing.crm_marketing_engagement_event_action"
        )
        action["domain"] = self._crm_engagement_event_domain()
        action["context"] = {}
        action["display_name"] = self.env._(
            "Engagement of %(name)s", name=self.display_name
        )
        return action
