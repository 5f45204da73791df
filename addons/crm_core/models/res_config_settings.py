from odoo import fields, models

from .crm_churn_analysis import DEFAULT_THRESHOLD


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_churn_threshold = fields.Integer(
        string="Churn Risk Threshold",
        config_parameter="crm_core.churn_threshold",
        default=DEFAULT_THRESHOLD,
        help="Customers scoring this much (out of 100) or more are at risk.",
    )
