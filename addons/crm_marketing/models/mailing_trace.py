from odoo import fields, models


class MailingTrace(models.Model):
    _inherit = "mailing.trace"

    failure_type = fields.Selection(
        selection_add=[
            ("crm_consent", "No Consent"),
            ("sms_crm_consent", "No SMS Consent"),
        ],
        ondelete={"crm_consent": "set null", "sms_crm_consent": "set null"},
    )
