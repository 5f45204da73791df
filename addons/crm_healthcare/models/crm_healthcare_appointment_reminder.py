import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, consteq, format_datetime, format_time

from .crm_healthcare_reminder_log import REMINDED_STATES

NO_SHOW_GRACE_PARAM = "crm_healthcare.no_show_grace_minutes"
NO_SHOW_GRACE_DEFAULT = 30
# What the patient may still change by the link in a reminder.
CHANGEABLE_STATES = ("booked", "confirmed")


class CrmHealthcareAppointment(models.Model):
    """Reminders of an appointment: what a reminder may say (first name,
    date, time, place; never the type's clinical name), the confirm and cancel
    link with its random token, the send log, and the no-show cron."""

    _inherit = "crm.healthcare.appointment"

    # Random per appointment; compared in constant time. Only the system reads
    # it (to write the links into reminders).
    reminder_token = fields.Char(readonly=True, copy=False, groups="base.group_system")
    reminder_log_ids = fields.One2many(
        "crm.healthcare.reminder.log", "appointment_id", string="Reminders"
    )
    # What reminder templates may show: none of it is protected information.
    patient_first_name = fields.Char(
        related="patient_id.first_name", string="Patient First Name"
    )
    reminder_date = fields.Char(
        compute="_compute_reminder_when",
        help="The appointment's date in the clinic's time zone and the patient's "
        "language.",
    )
    reminder_time = fields.Char(
        compute="_compute_reminder_when",
        help="The appointment's time in the clinic's time zone.",
    )
    reminder_place = fields.Char(
        compute="_compute_reminder_place", help="The clinic's name and address."
    )
    reminder_confirm_url = fields.Char(
        compute="_compute_reminder_urls", groups="base.group_system"
    )
    reminder_cancel_url = fields.Char(
        compute="_compute_reminder_urls", groups="base.group_system"
    )

    def init(self):
        # Appointments booked before this module version get their token here:
        # a column default would give all of them the same one.
        self.env.cr.execute(
            SQL(
                "UPDATE crm_healthcare_appointment "
                "SET reminder_token = md5(gen_random_uuid()::text || id::text) "
                "WHERE reminder_token IS NULL"
            )
        )

    @api.depends(
        "start",
        "provider_id.tz",
        "company_id.partner_id.tz",
        "patient_id.partner_id.lang",
    )
    def _compute_reminder_when(self):
        for appointment in self:
            if not appointment.start:
                appointment.reminder_date = appointment.reminder_time = False
                continue
            tz = appointment._reminder_tz()
            lang = appointment.patient_id.partner_id.lang or None
            appointment.reminder_date = format_datetime(
                self.env,
                appointment.start,
                tz=tz,
                dt_format="EEEE d MMMM y",
                lang_code=lang,
            )
            appointment.reminder_time = format_time(
                self.env, appointment.start, tz=tz, time_format="short", lang_code=lang
            )

    @api.depends("company_id.partner_id")
    def _compute_reminder_place(self):
        for appointment in self:
            clinic = appointment.company_id.partner_id
            address = ", ".join(
                part for part in (clinic.street, clinic.zip, clinic.city) if part
            )
            appointment.reminder_place = (
                f"{clinic.name}, {address}" if address else clinic.name
            )

    def _compute_reminder_urls(self):
        # One base URL for the batch (get_base_url wants one record or none).
        base_url = self[:1].get_base_url()
        for appointment in self:
            prefix = (
                f"{base_url}/clinic/appointment/{appointment.id}/"
                f"{appointment.reminder_token}"
            )
            appointment.reminder_confirm_url = f"{prefix}/confirm"
            appointment.reminder_cancel_url = f"{prefix}/cancel"

    def _reminder_tz(self):
        self.ensure_one()
        return (
            self.provider_id.tz
            or self.company_id.partner_id.tz
            or self.env.user.tz
            or "UTC"
        )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals["reminder_token"] = secrets.token_urlsafe(32)
        return super().create(vals_list)

    # ------------------------------------------------------------
    # The confirm / cancel link
    # ------------------------------------------------------------

    @api.model
    def _get_by_reminder_token(self, appointment_id, token):
        """The appointment (in sudo) whose reminder link this is, or an empty
        recordset; the token is compared in constant time."""
        # sudo: the link's reader is anonymous; the token is their right to this
        # one appointment, checked below before anything is returned.
        appointment = self.sudo().browse(appointment_id).exists()
        if (
            not appointment
            or not token
            or not appointment.reminder_token
            or not consteq(appointment.reminder_token, token)
        ):
            return self.browse()
        return appointment

    def _reminder_reply(self, action):
        """Confirm or cancel from the reminder's link. Returns (done, message);
        the message is for the patient, nothing clinical in it."""
        self.ensure_one()
        phone = self.company_id.phone or self.company_id.partner_id.phone
        call = (
            self.env._(" Please call the clinic at %(phone)s.", phone=phone)
            if phone
            else self.env._(" Please call the clinic.")
        )
        if self.state not in CHANGEABLE_STATES:
            return False, self.env._(
                "This appointment can no longer be changed online.%(call)s", call=call
            )
        if action == "confirm":
            if self.state == "confirmed":
                return True, self.env._("Your appointment was already confirmed.")
            self.action_confirm()
            return True, self.env._(
                "Thank you, your appointment on %(date)s at %(time)s is confirmed.",
                date=self.reminder_date,
                time=self.reminder_time,
            )
        limit = self.appointment_type_id.cancellation_limit_hours
        if self.start - fields.Datetime.now() < timedelta(hours=limit):
            return False, self.env._(
                "Appointments can be cancelled online until %(hours)s hours before "
                "they start.%(call)s",
                hours=f"{limit:g}",
                call=call,
            )
        self.action_cancel()
        return True, self.env._(
            "Your appointment on %(date)s at %(time)s is cancelled.",
            date=self.reminder_date,
            time=self.reminder_time,
        )

    # ------------------------------------------------------------
    # No-shows
    # ------------------------------------------------------------

    @api.model
    def _cron_mark_no_shows(self):
        """Mark the missed appointments as no-shows, a chunk per call (crm.batch
        "no_shows")."""
        return self.env["crm.batch"]._run("no_shows")

    @api.model
    def _no_show_deadline(self):
        # sudo: a system parameter, read for the cron or any user marking.
        grace = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(NO_SHOW_GRACE_PARAM, NO_SHOW_GRACE_DEFAULT)
        )
        return fields.Datetime.now() - timedelta(minutes=grace)

    @api.model
    def _mark_no_shows(self, ids=None):
        """Mark as no-show the booked or confirmed appointments whose start plus
        the grace period (``crm_healthcare.no_show_grace_minutes``, 30 by
        default) has passed without check-in, and count them on their patients:
        one statement for all of them (of ``ids`` when given). Returns the
        appointments marked."""
        deadline = self._no_show_deadline()
        now = fields.Datetime.now()
        self.flush_model(["state", "start", "patient_id"])
        self.env["crm.healthcare.patient"].flush_model(["no_show_count"])
        rows = self.env.execute_query(
            SQL(
                """
            WITH missed AS (
                UPDATE crm_healthcare_appointment
                   SET state = 'no_show', write_date = %(now)s, write_uid = %(uid)s
                 WHERE state IN %(states)s AND start <= %(deadline)s %(ids)s
             RETURNING id, patient_id
            ), per_patient AS (
                SELECT patient_id, COUNT(*) AS missed, ARRAY_AGG(id) AS ids
                  FROM missed GROUP BY patient_id
            )
            UPDATE crm_healthcare_patient patient
               SET no_show_count = COALESCE(patient.no_show_count, 0)
                                   + per_patient.missed
              FROM per_patient
             WHERE patient.id = per_patient.patient_id
         RETURNING per_patient.ids
            """,
                now=now,
                uid=self.env.uid,
                states=CHANGEABLE_STATES,
                deadline=deadline,
                ids=SQL("AND id = ANY(%s)", list(ids)) if ids is not None else SQL(),
            )
        )
        ids = [appointment_id for (row_ids,) in rows for appointment_id in row_ids]
        self.invalidate_model(["state", "write_date", "write_uid"])
        self.env["crm.healthcare.patient"].invalidate_model(["no_show_count"])
        return self.browse(ids)

    # Batch "no_shows" (crm.batch): appointments past their grace period.

    @api.model
    def _batch_no_shows_domain(self):
        return [
            ("state", "in", CHANGEABLE_STATES),
            ("start", "<=", self._no_show_deadline()),
        ]

    def _batch_no_shows_process(self):
        # The state is checked again in the UPDATE: a second run marks nothing.
        self._mark_no_shows(self.ids)

    # Batch "reminders" (crm.batch): appointments inside some reminder's window;
    # each (appointment, rule, channel) is logged once, so a rerun sends nothing.

    @api.model
    def _batch_reminders_domain(self):
        now = fields.Datetime.now()
        # sudo: the rules of every appointment type bound the window.
        rules = self.env["crm.healthcare.reminder.rule"].sudo().search([])
        if not rules:
            return [("id", "=", False)]
        horizon = max(rules.mapped("hours_before"))
        return [
            ("state", "in", REMINDED_STATES),
            ("start", ">", now),
            ("start", "<=", now + timedelta(hours=horizon)),
        ]

    def _batch_reminders_process(self):
        self.env["crm.healthcare.reminder.log"]._send_due_reminders(
            limit=None, appointment_ids=self.ids
        )
