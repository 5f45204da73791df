from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CrmHealthcareAppointmentType(models.Model):
    """What is booked: its duration, buffers, who and where.

    ``name`` is what patients read (neutral: "Consultation"); ``clinical_name``
    is the internal procedure and is tagged as protected health information,
    so it never reaches messages, reminders or calendar events.
    """

    _name = "crm.healthcare.appointment.type"
    _description = "Appointment Type"
    _order = "sequence, name"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    name = fields.Char(
        required=True,
        translate=True,
        help="Shown to patients in the portal and in reminders: keep it neutral.",
    )
    clinical_name = fields.Char(
        phi=True,
        help="Internal name of the procedure. Never shown to patients nor written "
        "in messages, reminders or calendar events.",
    )
    duration = fields.Float(
        required=True, default=0.5, help="Length of the appointment, in hours."
    )
    buffer_before = fields.Integer(
        string="Buffer Before (min)",
        help="Minutes kept free before the appointment (preparation).",
    )
    buffer_after = fields.Integer(
        string="Buffer After (min)",
        help="Minutes kept free after the appointment (cleaning, notes).",
    )
    provider_ids = fields.Many2many(
        "crm.healthcare.provider",
        string="Providers",
        check_company=True,
        help="Who may be booked for this type. Empty: any provider.",
    )
    room_ids = fields.Many2many(
        "crm.healthcare.room",
        string="Rooms",
        check_company=True,
        help="Rooms or equipment usable for this type: a booking needs one of them. "
        "Empty: no room needed.",
    )
    product_id = fields.Many2one(
        "product.product",
        string="Service Product",
        check_company=True,
        domain=[("type", "=", "service")],
        help="Invoiced when a visit of this type is completed.",
    )
    cancellation_limit_hours = fields.Float(
        string="Cancellation Limit (h)",
        default=24.0,
        help="Patients may cancel or reschedule in the portal until this many "
        "hours before the appointment.",
    )
    portal_bookable = fields.Boolean(
        string="Bookable Online", help="Patients may book this type in the portal."
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "buffers_positive",
            "CHECK(buffer_before >= 0 AND buffer_after >= 0)",
            "Buffers are minutes before or after the appointment: zero or more.",
        ),
        (
            "cancellation_limit_positive",
            "CHECK(cancellation_limit_hours >= 0)",
            "The cancellation limit is a number of hours: zero or more.",
        ),
    ]

    @api.constrains("duration")
    def _check_duration(self):
        for appointment_type in self:
            if appointment_type.duration <= 0:
                raise ValidationError(
                    self.env._(
                        "The duration of %(type)s must be more than zero hours.",
                        type=appointment_type.name,
                    )
                )
