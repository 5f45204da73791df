from odoo import api, models

from .mail_template import check_templates


class SmsTemplate(models.Model):
    """SMS templates never render protected health information either: the
    same check as email templates, on the body in every language."""

    _inherit = "sms.template"

    _crm_phi_text_fields = ("body",)

    @api.constrains("model_id", "body")
    def _check_crm_phi(self):
        check_templates(self, self._crm_phi_text_fields)

    def _update_field_translations(
        self, field_name, translations, digest=None, source_lang=None
    ):
        res = super()._update_field_translations(
            field_name, translations, digest=digest, source_lang=source_lang
        )
        if field_name in self._crm_phi_text_fields:
            check_templates(self, (field_name,), langs=list(translations))
        return res
