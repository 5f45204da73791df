from odoo import api, fields, models

from .crm_retail_recommendation import INCOMING_HORIZON_DAYS, OVERSTOCK_COVER_DAYS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # Not a config_parameter field: those store 0 as "unset", and 0 days here
    # means "on hand only", not the default.
    crm_retail_incoming_horizon_days = fields.Integer(
        string="Incoming Stock Horizon (days)",
        default=INCOMING_HORIZON_DAYS,
        help="Stock arriving within this many days counts as available for "
        "recommendations and back-in-stock alerts; 0 counts only the stock on hand.",
    )
    crm_retail_overstock_cover_days = fields.Integer(
        string="Overstock Cover (days)",
        config_parameter="crm_retail.overstock_cover_days",
        default=OVERSTOCK_COVER_DAYS,
        help="A product is overstocked in a warehouse when its free quantity there "
        "lasts longer than this many days at the pace of its last 90 days of "
        "deliveries.",
    )

    @api.model
    def get_values(self):
        res = super().get_values()
        res["crm_retail_incoming_horizon_days"] = self.env[
            "crm.retail.recommendation"
        ]._incoming_horizon_days()
        return res

    def set_values(self):
        res = super().set_values()
        # sudo: settings are saved by administrators; the parameter is not
        # writable otherwise.
        self.env["ir.config_parameter"].sudo().set_param(
            "crm_retail.incoming_horizon_days",
            str(max(0, self.crm_retail_incoming_horizon_days)),
        )
        return res
