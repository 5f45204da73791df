from odoo import api, models

# Clinical staff: the managers imply both groups.
CLINICAL_GROUPS = (
    "crm_healthcare.group_healthcare_front_desk",
    "crm_healthcare.group_healthcare_clinician",
)
MFA_POLICY_PARAMETER = "crm_healthcare.mfa_policy"
# Any other value, a missing parameter included, means "required": a lost or
# mistyped parameter never switches two-factor authentication off.
MFA_POLICY_OPTIONAL = "optional"


class ResUsers(models.Model):
    """Two-factor authentication for the clinic's staff.

    Members of the healthcare groups who have not set up an authenticator app
    sign in with a code mailed to them, as Odoo's ``auth_totp_mail_enforce``
    does for its own policy; that policy stays untouched for everybody else.
    """

    _inherit = "res.users"

    def _crm_healthcare_is_clinical(self):
        """Whether this user belongs to a healthcare group (front desk,
        clinician or manager). Cached by Odoo per user, cheap on each
        request."""
        self.ensure_one()
        return any(self._has_group(group) for group in CLINICAL_GROUPS)

    @api.model
    def _crm_healthcare_mfa_enforced(self):
        """Whether the database requires two-factor authentication of the
        clinical staff (Settings > Clinic); only demo databases turn it off."""
        # sudo: a system parameter, read during login before any user is set.
        ICP = self.env["ir.config_parameter"].sudo()
        return ICP.get_param(MFA_POLICY_PARAMETER) != MFA_POLICY_OPTIONAL

    def _mfa_type(self):
        mfa_type = super()._mfa_type()
        if (
            mfa_type is None
            and self._crm_healthcare_is_clinical()
            and self._crm_healthcare_mfa_enforced()
        ):
            # auth_totp_mail_enforce mails the code, checks it and rate-limits.
            return "totp_mail"
        return mfa_type
