from odoo import fields, models

from .crm_churn_analysis import DEFAULT_THRESHOLD
from .crm_privacy_request import DEFAULT_DEADLINE_DAYS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_churn_threshold = fields.Integer(
        string="Churn Risk Threshold",
        config_parameter="crm_core.churn_threshold",
        default=DEFAULT_THRESHOLD,
        help="Customers scoring this much (out of 100) or more are at risk.",
    )
    crm_privacy_request_days = fields.Integer(
        string="Data-Subject Request Deadline (days)",
        config_parameter="crm_core.privacy_request_days",
        default=DEFAULT_DEADLINE_DAYS,
        help="Days to answer a data-subject request: 30 under the GDPR, 45 under "
        "the CCPA.",
    )
