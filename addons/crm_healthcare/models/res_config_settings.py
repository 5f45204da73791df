from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .ir_http import DEFAULT_IDLE_TIMEOUT, IDLE_TIMEOUT_PARAMETER
from .res_users import MFA_POLICY_OPTIONAL, MFA_POLICY_PARAMETER


class ResConfigSettings(models.TransientModel):
    """Settings > Clinic: the technical safeguards of the clinical staff."""

    _inherit = "res.config.settings"

    crm_healthcare_idle_timeout_minutes = fields.Integer(
        string="Idle Session Timeout (minutes)",
        config_parameter=IDLE_TIMEOUT_PARAMETER,
        default=DEFAULT_IDLE_TIMEOUT,
        help="Healthcare staff are signed out after this many minutes without any "
        "request to Odoo.",
    )
    crm_healthcare_mfa_enforced = fields.Boolean(
        string="Two-Factor Authentication for Healthcare Staff",
        help="Front desk, clinicians and healthcare managers without an "
        "authenticator app sign in with a code mailed to them. Turn it off only on "
        "demonstration databases without outgoing mail.",
    )

    @api.constrains("crm_healthcare_idle_timeout_minutes")
    def _check_crm_healthcare_idle_timeout_minutes(self):
        for settings in self:
            if settings.crm_healthcare_idle_timeout_minutes <= 0:
                raise ValidationError(
                    self.env._(
                        "The idle session timeout is a number of minutes: set one "
                        "or more (15 is usual)."
                    )
                )

    @api.model
    def get_values(self):
        res = super().get_values()
        res["crm_healthcare_mfa_enforced"] = self.env[
            "res.users"
        ]._crm_healthcare_mfa_enforced()
        return res

    def set_values(self):
        res = super().set_values()
        # Stored both ways: a missing parameter means "required".
        # sudo: settings are saved by administrators; the parameter is theirs.
        self.env["ir.config_parameter"].sudo().set_param(
            MFA_POLICY_PARAMETER,
            "required" if self.crm_healthcare_mfa_enforced else MFA_POLICY_OPTIONAL,
        )
        return res
