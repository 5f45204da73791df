from odoo import api, models
from odoo.osv import expression


class MailThreadBlacklist(models.AbstractModel):
    """An erased person's email stays blacklisted, by its hash."""

    _inherit = "mail.thread.blacklist"

    @api.depends("email_normalized")
    def _compute_is_blacklisted(self):
        res = super()._compute_is_blacklisted()
        candidates = self.filtered(
            lambda record: record.email_normalized and not record.is_blacklisted
        )
        suppressed = self.env["crm.privacy.suppression"]._suppressed(
            "email", candidates.mapped("email_normalized")
        )
        for record in candidates:
            if record.email_normalized in suppressed:
                record.is_blacklisted = True
        return res

    @api.model
    def _search_is_blacklisted(self, operator, value):
        domain = super()._search_is_blacklisted(operator, value)
        if operator == "!=":
            value = not value
        suppressed = self.env["crm.privacy.suppression"]._suppressed_ids_sql(
            self, "email", "email_normalized"
        )
        if suppressed is None:
            return domain
        if value:
            return expression.OR([domain, [("id", "in", suppressed)]])
        return expression.AND([domain, [("id", "not in", suppressed)]])
