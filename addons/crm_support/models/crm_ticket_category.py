from odoo import fields, models


class CrmTicketCategory(models.Model):
    _name = "crm.ticket.category"
    _description = "Ticket Category"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    skill_ids = fields.Many2many(
        "crm.support.skill",
        string="Skills Needed",
        help="Tickets of this category go to agents with these skills first.",
    )
    company_id = fields.Many2one("res.company")
