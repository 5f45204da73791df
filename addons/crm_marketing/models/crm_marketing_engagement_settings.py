from odoo import fields, models
from odoo.exceptions import ValidationError

from .crm_engagement_mixin import HOT_DEFAULT, HOT_PARAM, WARM_DEFAULT, WARM_PARAM
from .crm_lead_qualification import (
    MQL_ROUTE_PARAM,
    MQL_THRESHOLD_DEFAULT,
    MQL_THRESHOLD_PARAM,
)


class ResConfigSettings(models.TransientModel):
    """Engagement bands and marketing qualification of leads."""

    _inherit = "res.config.settings"

    crm_engagement_warm = fields.Float(
        string="Warm From",
        config_parameter=WARM_PARAM,
        default=WARM_DEFAULT,
        help="Engagement score from which a contact or lead is warm.",
    )
    crm_engagement_hot = fields.Float(
        string="Hot From",
        config_parameter=HOT_PARAM,
        default=HOT_DEFAULT,
        help="Engagement score from which a contact or lead is hot.",
    )
    crm_mql_threshold = fields.Float(
        string="Marketing Qualified From",
        config_parameter=MQL_THRESHOLD_PARAM,
        default=MQL_THRESHOLD_DEFAULT,
        help="Open leads whose engagement score reaches this are marketing "
        "qualified; 0 qualifies none.",
    )
    crm_mql_route = fields.Boolean(
        string="Route Qualified Leads",
        config_parameter=MQL_ROUTE_PARAM,
        help="Give newly qualified leads nobody owns to a salesperson by the lead "
        "assignment rules.",
    )

    def set_values(self):
        for settings in self:
            if settings.crm_engagement_hot <= settings.crm_engagement_warm:
                raise ValidationError(
                    self.env._(
                        "The hot engagement band must start above the warm one: "
                        "raise “Hot From” above %(warm)s.",
                        warm=settings.crm_engagement_warm,
                    )
                )
        return super().set_values()
