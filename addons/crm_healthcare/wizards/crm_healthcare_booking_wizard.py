from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

# How many of the next free slots the front desk is offered at once.
SLOTS_SHOWN = 40


class CrmHealthcareBookingWizard(models.TransientModel):
    """The front desk books a patient: a type, maybe a provider, and one of
    the next free slots the slot finder offers. Opened from the patient form
    ("Book") and from the appointments' list and menu."""

    _name = "crm.healthcare.booking.wizard"
    _description = "Book an Appointment"

    patient_id = fields.Many2one(
        "crm.healthcare.patient", string="Patient", required=True
    )
    appointment_type_id = fields.Many2one(
        "crm.healthcare.appointment.type", string="Type", required=True
    )
    allowed_provider_ids = fields.Many2many(
        "crm.healthcare.provider", compute="_compute_allowed_provider_ids"
    )
    provider_id = fields.Many2one(
        "crm.healthcare.provider",
        string="Provider",
        domain="[('id', 'in', allowed_provider_ids)]",
        help="Leave empty to see the slots of every provider of the type.",
    )
    date_from = fields.Datetime(
        string="From", required=True, default=fields.Datetime.now
    )
    days = fields.Integer(
        string="Days Ahead", required=True, default=14, help="How far to look."
    )
    slot_ids = fields.One2many(
        "crm.healthcare.booking.wizard.slot", "wizard_id", string="Free Slots"
    )
    slots_searched = fields.Boolean(readonly=True)

    @api.depends("appointment_type_id")
    def _compute_allowed_provider_ids(self):
        # A wizard is one record: the finder's own list, no query per line.
        finder = self.env["crm.healthcare.slot.finder"]
        for wizard in self:
            wizard.allowed_provider_ids = (
                finder._slot_providers(wizard.appointment_type_id)
                if wizard.appointment_type_id
                else False
            )

    @api.onchange("appointment_type_id")
    def _onchange_appointment_type_id(self):
        if self.provider_id and self.provider_id not in self.allowed_provider_ids:
            self.provider_id = False

    def action_find_slots(self):
        """Fill in the next free slots and show them."""
        self.ensure_one()
        if self.days <= 0:
            raise UserError(self.env._("Look at least one day ahead."))
        date_from = max(self.date_from, fields.Datetime.now())
        slots = self.env["crm.healthcare.slot.finder"]._find_slots(
            self.appointment_type_id,
            date_from,
            date_from + timedelta(days=self.days),
            providers=self.provider_id or None,
            limit=SLOTS_SHOWN,
        )
        self.write(
            {
                "slot_ids": [Command.clear()]
                + [Command.create(slot) for slot in slots],
                "slots_searched": True,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Book an Appointment"),
        }


class CrmHealthcareBookingWizardSlot(models.TransientModel):
    """One free slot offered by the booking wizard."""

    _name = "crm.healthcare.booking.wizard.slot"
    _description = "Free Slot"
    _order = "start, provider_id"

    wizard_id = fields.Many2one(
        "crm.healthcare.booking.wizard", required=True, ondelete="cascade"
    )
    provider_id = fields.Many2one("crm.healthcare.provider", required=True)
    room_id = fields.Many2one("crm.healthcare.room")
    start = fields.Datetime(required=True)
    stop = fields.Datetime(string="End", required=True)

    def action_book(self):
        """Book this slot for the wizard's patient and open the appointment.
        The appointment's own checks (working hours, double booking, enforced
        by the database) decide if someone took the slot meanwhile."""
        self.ensure_one()
        wizard = self.wizard_id
        appointment = self.env["crm.healthcare.appointment"].create(
            {
                "patient_id": wizard.patient_id.id,
                "appointment_type_id": wizard.appointment_type_id.id,
                "provider_id": self.provider_id.id,
                "room_id": self.room_id.id,
                "start": self.start,
                "company_id": wizard.appointment_type_id.company_id.id,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": appointment._name,
            "res_id": appointment.id,
            "view_mode": "form",
            "target": "current",
        }
