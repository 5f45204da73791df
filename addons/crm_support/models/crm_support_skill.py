from odoo import fields, models

LEVELS = [("1", "Beginner"), ("2", "Intermediate"), ("3", "Expert")]


class CrmSupportSkill(models.Model):
    _name = "crm.support.skill"
    _description = "Support Skill"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [("name_unique", "UNIQUE(name)", "This skill already exists.")]


class CrmSupportUserSkill(models.Model):
    """What an agent knows, and how well."""

    _name = "crm.support.user.skill"
    _description = "Agent Skill"
    _order = "user_id, skill_id"

    user_id = fields.Many2one(
        "res.users", required=True, ondelete="cascade", index=True
    )
    skill_id = fields.Many2one("crm.support.skill", required=True, ondelete="cascade")
    level = fields.Selection(LEVELS, required=True, default="2")

    _sql_constraints = [
        (
            "user_skill_unique",
            "UNIQUE(user_id, skill_id)",
            "An agent has each skill once; change its level instead.",
        )
    ]
