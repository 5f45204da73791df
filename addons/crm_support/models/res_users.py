from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    support_skill_ids = fields.One2many(
        "crm.support.user.skill", "user_id", string="Support Skills"
    )
