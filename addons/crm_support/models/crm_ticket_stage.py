from odoo import fields, models


class CrmTicketStage(models.Model):
    _name = "crm.ticket.stage"
    _description = "Ticket Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    fold = fields.Boolean(string="Folded in Kanban")
    is_closed = fields.Boolean(
        string="Resolved", help="Tickets here are resolved: the SLA clock stops."
    )
    is_waiting = fields.Boolean(
        string="Waiting on Customer",
        help="The SLA clock pauses while tickets wait here for the customer.",
    )
    team_ids = fields.Many2many(
        "crm.support.team", string="Teams", help="Leave empty for every team."
    )
    template_id = fields.Many2one(
        "mail.template",
        string="Email to Customer",
        domain=[("model", "=", "crm.ticket")],
        help="Sent to the customer when a ticket reaches this stage.",
    )
    rating_template_id = fields.Many2one(
        "mail.template",
        string="Rating Request",
        domain=[("model", "=", "crm.ticket")],
        help="Sent to ask the customer's rating when a ticket reaches this stage.",
    )
