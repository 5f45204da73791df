from odoo import api, fields, models


class CrmHealthcareProvider(models.Model):
    """A person who sees patients: a user with working hours and time off.

    The working hours are the resource's calendar; time off is the resource's
    ``resource.calendar.leaves``, so that bookings, the slot finder and Odoo's
    own planning tools all read the same availability.
    """

    _name = "crm.healthcare.provider"
    _description = "Healthcare Provider"
    _inherit = ["resource.mixin"]
    _order = "name"
    _check_company_auto = True

    name = fields.Char(
        related="resource_id.name", store=True, readonly=False, index="trigram"
    )
    user_id = fields.Many2one(
        "res.users",
        string="User",
        required=True,
        ondelete="restrict",
        index=True,
        domain=[("share", "=", False)],
    )
    partner_id = fields.Many2one(related="user_id.partner_id", string="Contact")
    specialty_ids = fields.Many2many("crm.healthcare.specialty", string="Specialties")
    active = fields.Boolean(
        related="resource_id.active", default=True, store=True, readonly=False
    )
    color = fields.Integer()
    leave_count = fields.Integer(string="Time Off", compute="_compute_leave_count")

    _sql_constraints = [
        (
            "user_company_unique",
            "UNIQUE(user_id, company_id)",
            "This user is already a provider of this company.",
        )
    ]

    def _compute_leave_count(self):
        counts = dict(
            self.env["resource.calendar.leaves"]._read_group(
                [("resource_id", "in", self.resource_id.ids)],
                ["resource_id"],
                ["__count"],
            )
        )
        for provider in self:
            provider.leave_count = counts.get(provider.resource_id, 0)

    @api.model
    def _prepare_resource_values(self, vals, tz):
        # The resource carries the user: Odoo's "own time off" rules then let
        # the provider manage their own absences.
        user = self.env["res.users"].browse(vals.get("user_id"))
        if not vals.get("name"):
            vals["name"] = user.name
        values = super()._prepare_resource_values(vals, tz or user.tz)
        values["user_id"] = user.id
        return values

    def action_open_time_off(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Time Off of %(provider)s", provider=self.name),
            "res_model": "resource.calendar.leaves",
            "view_mode": "list,form",
            "domain": [("resource_id", "=", self.resource_id.id)],
            "context": {
                "default_resource_id": self.resource_id.id,
                "default_calendar_id": self.resource_calendar_id.id,
                "default_company_id": self.company_id.id,
            },
        }
