from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models


class CrmHealthcareInvoiceDay(models.TransientModel):
    """Invoice the completed, not yet invoiced visits of a day in one go: one
    draft invoice per partner (patient or insurer)."""

    _name = "crm.healthcare.invoice.day"
    _description = "Invoice the Day's Visits"

    date = fields.Date(
        required=True,
        default=fields.Date.context_today,
        help="In the clinic's time zone.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    appointment_ids = fields.Many2many(
        "crm.healthcare.appointment",
        string="Visits",
        compute="_compute_appointment_ids",
    )
    appointment_count = fields.Integer(compute="_compute_appointment_ids")

    @api.depends("date", "company_id")
    def _compute_appointment_ids(self):
        for wizard in self:
            wizard.appointment_ids = wizard._visits() if wizard.date else False
            wizard.appointment_count = len(wizard.appointment_ids)

    def _visits(self):
        """Completed visits of the day not invoiced yet, in one search."""
        self.ensure_one()
        tz = pytz.timezone(self.company_id.partner_id.tz or self.env.user.tz or "UTC")
        start = tz.localize(datetime.combine(self.date, time.min))
        stop = tz.localize(datetime.combine(self.date + timedelta(days=1), time.min))
        return self.env["crm.healthcare.appointment"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("state", "=", "done"),
                ("invoiced", "=", False),
                ("start", ">=", start.astimezone(pytz.utc).replace(tzinfo=None)),
                ("start", "<", stop.astimezone(pytz.utc).replace(tzinfo=None)),
            ],
            order="start, id",
        )

    def action_invoice(self):
        self.ensure_one()
        # Refused with a clear message without Billing rights or visits.
        return self._visits().action_invoice()
