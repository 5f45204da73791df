from odoo import fields, models


class CrmHealthcareAppointmentType(models.Model):
    """The reminder schedule of an appointment type."""

    _inherit = "crm.healthcare.appointment.type"

    reminder_rule_ids = fields.One2many(
        "crm.healthcare.reminder.rule",
        "appointment_type_id",
        string="Reminders",
        help="When patients are reminded of appointments of this type, and how.",
    )
