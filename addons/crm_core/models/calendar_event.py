from odoo import api, models

from .crm_interaction import SYNCED_EVENT_FIELDS


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    @api.model_create_multi
    def create(self, vals_list):
        events = super().create(vals_list)
        self.env["crm.interaction"]._sync_from_events(events)
        return events

    def write(self, vals):
        res = super().write(vals)
        if SYNCED_EVENT_FIELDS.intersection(vals):
            self.env["crm.interaction"]._sync_from_events(self)
        return res
