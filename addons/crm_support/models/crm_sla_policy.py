from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .crm_ticket import PRIORITIES


class CrmSlaPolicy(models.Model):
    """Response and resolution targets, in the team's working hours."""

    _name = "crm.sla.policy"
    _description = "SLA Policy"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(
        default=10, help="The first policy a ticket matches applies."
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        help="Empty for every company.",
    )
    team_ids = fields.Many2many(
        "crm.support.team", string="Teams", help="Empty for every team."
    )
    priority = fields.Selection(
        PRIORITIES, string="Minimum Priority", help="Empty for every priority."
    )
    category_ids = fields.Many2many("crm.ticket.category", string="Categories")
    partner_ids = fields.Many2many(
        "res.partner", string="Customers", help="Customer companies."
    )
    plan_product_id = fields.Many2one(
        "product.product",
        string="Support Plan",
        domain=[("is_support_plan", "=", True)],
        help="Applies to customers holding this plan: a posted invoice for it, "
        "until the plan's end.",
    )
    response_hours = fields.Float(string="First Response (working hours)")
    resolution_hours = fields.Float(string="Resolution (working hours)")
    warn_hours = fields.Float(
        string="Warn Before Breach (hours)",
        default=1.0,
        help="The assignee gets an activity this long before a deadline.",
    )
    escalate_raise_priority = fields.Boolean(string="Raise Priority on Breach")
    escalate_reassign = fields.Boolean(
        string="Reassign to Team Leader on Breach",
        help="Otherwise the team leader is only told.",
    )

    @api.constrains("response_hours", "resolution_hours", "warn_hours")
    def _check_hours(self):
        for policy in self:
            if (
                min(policy.response_hours, policy.resolution_hours, policy.warn_hours)
                < 0
            ):
                raise ValidationError(
                    self.env._(
                        "SLA %(name)s: targets and warnings cannot be negative.",
                        name=policy.name,
                    )
                )
            if not policy.response_hours and not policy.resolution_hours:
                raise ValidationError(
                    self.env._(
                        "SLA %(name)s: set a first response or a resolution target.",
                        name=policy.name,
                    )
                )
            if (
                policy.response_hours
                and policy.resolution_hours
                and policy.response_hours > policy.resolution_hours
            ):
                raise ValidationError(
                    self.env._(
                        "SLA %(name)s: the first response target is longer than the "
                        "resolution target; shorten it or lengthen the resolution.",
                        name=policy.name,
                    )
                )

    def _matches(self, ticket, plans):
        """Whether the policy applies; ``plans`` are the customer's active plans."""
        self.ensure_one()
        if self.team_ids and ticket.team_id not in self.team_ids:
            return False
        if self.priority and ticket.priority < self.priority:
            return False
        if self.category_ids and ticket.category_id not in self.category_ids:
            return False
        if self.partner_ids and ticket.commercial_partner_id not in self.partner_ids:
            return False
        return not self.plan_product_id or self.plan_product_id in plans
