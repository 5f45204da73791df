from odoo import api, models
from odoo.exceptions import ValidationError


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    @api.constrains("assignment_max")
    def _check_assignment_max(self):
        if negative := self.filtered(lambda m: m.assignment_max < 0):
            raise ValidationError(
                self.env._(
                    "The lead capacity of %(user)s cannot be negative; use 0 to stop "
                    "giving them leads.",
                    user=negative[0].user_id.name,
                )
            )
