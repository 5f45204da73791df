from odoo import api, fields, models


class CrmHealthcareRoom(models.Model):
    """A consultation room or a piece of equipment that a booking may need.

    A material resource: when it has working hours, bookings must fit in them,
    and its time off (maintenance) blocks bookings like a provider's.
    """

    _name = "crm.healthcare.room"
    _description = "Healthcare Room or Equipment"
    _inherit = ["resource.mixin"]
    _order = "name"
    _check_company_auto = True

    name = fields.Char(
        related="resource_id.name", store=True, readonly=False, required=True
    )
    kind = fields.Selection(
        [("room", "Room"), ("equipment", "Equipment")],
        required=True,
        default="room",
    )
    active = fields.Boolean(
        related="resource_id.active", default=True, store=True, readonly=False
    )
    leave_count = fields.Integer(
        string="Unavailability", compute="_compute_leave_count"
    )

    def _compute_leave_count(self):
        counts = dict(
            self.env["resource.calendar.leaves"]._read_group(
                [("resource_id", "in", self.resource_id.ids)],
                ["resource_id"],
                ["__count"],
            )
        )
        for room in self:
            room.leave_count = counts.get(room.resource_id, 0)

    @api.model
    def _prepare_resource_values(self, vals, tz):
        values = super()._prepare_resource_values(vals, tz)
        values["resource_type"] = "material"
        return values

    def action_open_time_off(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Unavailability of %(room)s", room=self.name),
            "res_model": "resource.calendar.leaves",
            "view_mode": "list,form",
            "domain": [("resource_id", "=", self.resource_id.id)],
            "context": {
                "default_resource_id": self.resource_id.id,
                "default_calendar_id": self.resource_calendar_id.id,
                "default_company_id": self.company_id.id,
            },
        }
