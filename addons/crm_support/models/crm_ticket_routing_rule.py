from odoo import api, fields, models

from .crm_ticket import CHANNELS


class CrmTicketRoutingRule(models.Model):
    """Which team a new ticket goes to; the first matching rule wins."""

    _name = "crm.ticket.routing.rule"
    _description = "Ticket Routing Rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    team_id = fields.Many2one("crm.support.team", required=True, check_company=True)
    category_ids = fields.Many2many("crm.ticket.category", string="Categories")
    tag_ids = fields.Many2many("crm.ticket.tag", string="Tags")
    partner_ids = fields.Many2many(
        "res.partner", string="Customers", help="Companies and their contacts."
    )
    lang_ids = fields.Many2many("res.lang", string="Languages")
    channels = fields.Char(
        help="Comma-separated channels (email, portal, web, phone, chat, api); "
        "empty for all."
    )

    @api.model
    def _channel_codes(self):
        return {code for code, _label in CHANNELS}

    def _matches(self, ticket):
        self.ensure_one()
        if self.category_ids and ticket.category_id not in self.category_ids:
            return False
        if self.tag_ids and not (ticket.tag_ids & self.tag_ids):
            return False
        if (
            self.partner_ids
            and not (ticket.commercial_partner_id | ticket.partner_id)
            & self.partner_ids
        ):
            return False
        if self.lang_ids and ticket.partner_id.lang not in self.lang_ids.mapped("code"):
            return False
        wanted = {c.strip() for c in (self.channels or "").split(",") if c.strip()}
        return not wanted or ticket.channel in wanted

    def _reason(self):
        self.ensure_one()
        return self.env._("routing rule “%(rule)s”", rule=self.name)
