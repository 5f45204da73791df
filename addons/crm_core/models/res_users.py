from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    def _crm_on_leave_now(self):
        """Those of these users with time off on their working calendar right now."""
        now = fields.Datetime.now()
        return (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search(
                [
                    ("resource_id.user_id", "in", self.ids),
                    ("date_from", "<=", now),
                    ("date_to", ">=", now),
                ]
            )
            .resource_id.user_id
            & self
        )
