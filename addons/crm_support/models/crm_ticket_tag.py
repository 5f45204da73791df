from odoo import fields, models


class CrmTicketTag(models.Model):
    _name = "crm.ticket.tag"
    _description = "Ticket Tag"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    color = fields.Integer()

    _sql_constraints = [("name_unique", "UNIQUE(name)", "This tag already exists.")]
