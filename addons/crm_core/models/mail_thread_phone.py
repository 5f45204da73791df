from odoo import api, models
from odoo.osv import expression


class MailThreadPhone(models.AbstractModel):
    """An erased person's phone number stays blacklisted, by its hash."""

    _inherit = "mail.thread.phone"

    @api.depends("phone_sanitized")
    def _compute_blacklisted(self):
        res = super()._compute_blacklisted()
        candidates = self.filtered(
            lambda record: (
                record.phone_sanitized and not record.phone_sanitized_blacklisted
            )
        )
        suppressed = self.env["crm.privacy.suppression"]._suppressed(
            "phone", candidates.mapped("phone_sanitized")
        )
        number_fields = self._phone_get_number_fields()
        for record in candidates.filtered(
            lambda record: record.phone_sanitized in suppressed
        ):
            record.phone_sanitized_blacklisted = True
            # Same rule as Odoo's: a field named "mobile" holds a mobile number.
            for fname in number_fields:
                if record._phone_format(fname=fname) == record.phone_sanitized:
                    if "mobile" in fname:
                        record.mobile_blacklisted = True
                    else:
                        record.phone_blacklisted = True
        return res

    @api.model
    def _search_phone_sanitized_blacklisted(self, operator, value):
        domain = super()._search_phone_sanitized_blacklisted(operator, value)
        if operator == "!=":
            value = not value
        suppressed = self.env["crm.privacy.suppression"]._suppressed_ids_sql(
            self, "phone", "phone_sanitized"
        )
        if suppressed is None:
            return domain
        if value:
            return expression.OR([domain, [("id", "in", suppressed)]])
        return expression.AND([domain, [("id", "not in", suppressed)]])
