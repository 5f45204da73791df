from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CrmHealthcareReminderRule(models.Model):
    """One line of an appointment type's reminder schedule: how many hours
    before the appointment, and on which channels (e.g. 48 h email and SMS,
    2 h SMS).

    Each patient is reminded only on the channel they chose and that their
    consent for health reminders allows; the send log keeps one row per
    appointment, rule and channel, so a rule never reminds twice.
    """

    _name = "crm.healthcare.reminder.rule"
    _description = "Reminder Rule"
    _order = "appointment_type_id, hours_before desc, id"
    _check_company_auto = True

    appointment_type_id = fields.Many2one(
        "crm.healthcare.appointment.type",
        string="Appointment Type",
        required=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(
        related="appointment_type_id.company_id", store=True, index=True
    )
    hours_before = fields.Float(
        string="Hours Before",
        required=True,
        default=48.0,
        help="The reminder goes out this many hours before the appointment starts.",
    )
    send_email = fields.Boolean(string="Email", default=True)
    send_sms = fields.Boolean(string="SMS")
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain=[("model", "=", "crm.healthcare.appointment")],
        default=lambda self: self._default_mail_template(),
        ondelete="restrict",
        help="Empty: the clinic's default reminder.",
    )
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS Template",
        domain=[("model", "=", "crm.healthcare.appointment")],
        default=lambda self: self._default_sms_template(),
        ondelete="restrict",
        help="Empty: the clinic's default reminder.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "hours_before_positive",
            "CHECK(hours_before > 0)",
            "A reminder is sent some hours before the appointment: more than zero.",
        ),
    ]

    @api.model
    def _default_mail_template(self):
        return self.env.ref(
            "crm_healthcare.mail_template_appointment_reminder",
            raise_if_not_found=False,
        )

    @api.model
    def _default_sms_template(self):
        return self.env.ref(
            "crm_healthcare.sms_template_appointment_reminder", raise_if_not_found=False
        )

    @api.depends("hours_before", "send_email", "send_sms")
    def _compute_display_name(self):
        email, sms = self.env._("Email"), self.env._("SMS")
        for rule in self:
            channels = [
                label
                for label, enabled in ((email, rule.send_email), (sms, rule.send_sms))
                if enabled
            ]
            rule.display_name = self.env._(
                "%(hours)s h before (%(channels)s)",
                hours=f"{rule.hours_before:g}",
                channels=" + ".join(channels) or self.env._("no channel"),
            )

    @api.constrains("send_email", "send_sms")
    def _check_channel(self):
        for rule in self:
            if not (rule.send_email or rule.send_sms):
                raise ValidationError(
                    self.env._(
                        "The reminder %(hours)s h before a %(type)s appointment has no "
                        "channel: tick Email, SMS or both.",
                        hours=f"{rule.hours_before:g}",
                        type=rule.appointment_type_id.name,
                    )
                )
