import re
from datetime import timedelta

import pytz
from psycopg2.errors import ExclusionViolation

from odoo import Command, api, fields, models, sql_db
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_datetime

# An appointment in these states no longer holds its slot.
FREEING_STATES = ("cancelled", "no_show")
# Which states each action may leave from.
TRANSITIONS = {
    "confirmed": ("booked",),
    "checked_in": ("booked", "confirmed"),
    "done": ("checked_in",),
    "cancelled": ("booked", "confirmed"),
    "no_show": ("booked", "confirmed"),
}
# Values of the existing row in PostgreSQL's exclusion violation detail:
# "... conflicts with existing key (...)=([7,8), ["2025-01-06 09:25:00","..."))."
EXISTING_KEY_RE = re.compile(r'=\(\[(\d+),\d+\), \["([^"]+)","([^"]+)"\)\)')
# Changes that may make a booking overlap another one.
SLOT_FIELDS = {
    "start",
    "stop",
    "provider_id",
    "room_id",
    "state",
    "appointment_type_id",
    "buffer_before",
    "buffer_after",
}
# Changes that move the linked calendar event.
EVENT_FIELDS = {"start", "stop", "provider_id", "state"}
# Calendar events are written quietly: no invitation nor update mails, no
# alarms, no chatter; the patient is never an attendee.
EVENT_CONTEXT = {
    "no_mail_to_attendees": True,
    "dont_notify": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "tracking_disable": True,
}


class CrmHealthcareAppointment(models.Model):
    """A visit of a patient to a provider, maybe in a room.

    PostgreSQL refuses double bookings: two exclusion constraints over the
    blocked time range (the appointment and its buffers) per provider and per
    room, as Odoo's ``hr_work_entry`` does without the ``btree_gist``
    extension. A Python pre-check gives a clear message in the usual case; the
    database decides when two users book the same slot at the same moment, and
    its refusal is translated into the same kind of message.
    """

    _name = "crm.healthcare.appointment"
    _description = "Appointment"
    _inherit = ["mail.thread"]
    _order = "start desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/"
    )
    patient_id = fields.Many2one(
        "crm.healthcare.patient",
        string="Patient",
        required=True,
        index=True,
        check_company=True,
        ondelete="restrict",
        tracking=True,
    )
    partner_id = fields.Many2one(related="patient_id.partner_id", string="Contact")
    provider_id = fields.Many2one(
        "crm.healthcare.provider",
        string="Provider",
        required=True,
        index=True,
        check_company=True,
        ondelete="restrict",
        tracking=True,
    )
    room_id = fields.Many2one(
        "crm.healthcare.room",
        string="Room",
        index="btree_not_null",
        check_company=True,
        ondelete="restrict",
        tracking=True,
    )
    appointment_type_id = fields.Many2one(
        "crm.healthcare.appointment.type",
        string="Type",
        required=True,
        index=True,
        check_company=True,
        ondelete="restrict",
        tracking=True,
    )
    start = fields.Datetime(required=True, index=True, tracking=True)
    stop = fields.Datetime(
        string="End",
        required=True,
        compute="_compute_stop",
        store=True,
        readonly=False,
        precompute=True,
    )
    # Copied from the type when it is chosen: editing a type's buffers later
    # does not move existing bookings.
    buffer_before = fields.Integer(
        string="Buffer Before (min)",
        compute="_compute_buffers",
        store=True,
        readonly=False,
        precompute=True,
    )
    buffer_after = fields.Integer(
        string="Buffer After (min)",
        compute="_compute_buffers",
        store=True,
        readonly=False,
        precompute=True,
    )
    # Precomputed: the row is inserted with its range, never with an empty
    # (unbounded) one that would overlap everything.
    blocked_start = fields.Datetime(
        compute="_compute_blocked", store=True, precompute=True
    )
    blocked_stop = fields.Datetime(
        compute="_compute_blocked", store=True, precompute=True
    )
    state = fields.Selection(
        [
            ("booked", "Booked"),
            ("confirmed", "Confirmed"),
            ("checked_in", "Checked In"),
            ("done", "Done"),
            ("cancelled", "Cancelled"),
            ("no_show", "No-Show"),
        ],
        required=True,
        default="booked",
        index=True,
        copy=False,
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    calendar_event_id = fields.Many2one(
        "calendar.event",
        string="Calendar Event",
        readonly=True,
        copy=False,
        ondelete="set null",
        index="btree_not_null",
    )
    color = fields.Integer(related="provider_id.color")

    _sql_constraints = [
        (
            "stop_after_start",
            "CHECK(stop > start AND blocked_stop > blocked_start)",
            "An appointment ends after it starts.",
        ),
        (
            "buffers_positive",
            "CHECK(buffer_before >= 0 AND buffer_after >= 0)",
            "Buffers are minutes before or after the appointment: zero or more.",
        ),
        (
            "provider_no_overlap",
            """
            EXCLUDE USING GIST (
                int4range(provider_id, provider_id, '[]') WITH =,
                tsrange(blocked_start, blocked_stop, '[)') WITH &&
            ) WHERE (state NOT IN ('cancelled', 'no_show'))
            """,
            "The provider already has an appointment at that time.",
        ),
        (
            "room_no_overlap",
            """
            EXCLUDE USING GIST (
                int4range(room_id, room_id, '[]') WITH =,
                tsrange(blocked_start, blocked_stop, '[)') WITH &&
            ) WHERE (room_id IS NOT NULL AND state NOT IN ('cancelled', 'no_show'))
            """,
            "The room is already booked at that time.",
        ),
    ]

    @api.depends("start", "appointment_type_id")
    def _compute_stop(self):
        for appointment in self:
            duration = appointment.appointment_type_id.duration
            appointment.stop = (
                appointment.start + timedelta(hours=duration)
                if appointment.start and duration
                else appointment.stop or appointment.start
            )

    @api.depends("appointment_type_id")
    def _compute_buffers(self):
        for appointment in self:
            appointment.buffer_before = appointment.appointment_type_id.buffer_before
            appointment.buffer_after = appointment.appointment_type_id.buffer_after

    @api.depends("start", "stop", "buffer_before", "buffer_after")
    def _compute_blocked(self):
        for appointment in self:
            if not (appointment.start and appointment.stop):
                appointment.blocked_start = appointment.blocked_stop = False
                continue
            appointment.blocked_start = appointment.start - timedelta(
                minutes=appointment.buffer_before
            )
            appointment.blocked_stop = appointment.stop + timedelta(
                minutes=appointment.buffer_after
            )

    @api.constrains("provider_id", "room_id", "appointment_type_id")
    def _check_type_resources(self):
        for appointment in self:
            appointment_type = appointment.appointment_type_id
            providers = appointment_type.provider_ids
            if providers and appointment.provider_id not in providers:
                raise ValidationError(
                    self.env._(
                        "%(provider)s does not give %(type)s appointments. Choose "
                        "one of: %(providers)s.",
                        provider=appointment.provider_id.name,
                        type=appointment_type.name,
                        providers=", ".join(providers.mapped("name")),
                    )
                )
            rooms = appointment_type.room_ids
            if rooms and appointment.room_id not in rooms:
                raise ValidationError(
                    self.env._(
                        "A %(type)s appointment needs one of these rooms: %(rooms)s.",
                        type=appointment_type.name,
                        rooms=", ".join(rooms.mapped("name")),
                    )
                )

    @api.constrains("start", "stop", "provider_id", "room_id", "state")
    def _check_working_hours(self):
        appointments = self.filtered(lambda a: a.state not in FREEING_STATES)
        for appointment in appointments._outside_work("provider_id")[:1]:
            raise ValidationError(
                self.env._(
                    "%(provider)s does not work from %(start)s to %(stop)s (working "
                    "hours or time off). Choose another time or provider.",
                    provider=appointment.provider_id.name,
                    **self._local_times(
                        appointment.provider_id, appointment.start, appointment.stop
                    ),
                )
            )
        for appointment in appointments._outside_work("room_id")[:1]:
            raise ValidationError(
                self.env._(
                    "%(room)s is not available from %(start)s to %(stop)s. Choose "
                    "another time or room.",
                    room=appointment.room_id.name,
                    **self._local_times(
                        appointment.room_id, appointment.start, appointment.stop
                    ),
                )
            )

    def _outside_work(self, holder_field):
        """The appointments whose provider or room (``holder_field``) does not
        work during the whole appointment: outside its working hours or on time
        off. A provider or room without working hours is always available. One
        computation of work intervals per calendar, whatever the batch."""
        outside = self.browse()
        by_calendar = self.filtered(holder_field).grouped(
            lambda appointment: appointment[holder_field].resource_calendar_id
        )
        for calendar, appointments in by_calendar.items():
            if not calendar:
                continue
            # sudo: the front desk may not read other people's time off; only
            # whether the resource works is used, no leave leaves this method.
            resources = appointments[holder_field].resource_id.sudo()
            # sudo: same reason, the calendar's leaves of those resources.
            intervals = calendar.sudo()._work_intervals_batch(
                pytz.utc.localize(min(appointments.mapped("start"))),
                pytz.utc.localize(max(appointments.mapped("stop"))),
                resources=resources,
            )
            for appointment in appointments:
                start = pytz.utc.localize(appointment.start)
                stop = pytz.utc.localize(appointment.stop)
                resource_intervals = intervals[appointment[holder_field].resource_id.id]
                # Adjacent work intervals are merged: 8-12 and 12-17 make 8-17.
                if not any(
                    begin <= start and end >= stop
                    for begin, end, _records in resource_intervals
                ):
                    outside |= appointment
        return outside

    @api.model
    def _local_times(self, holder, start, stop):
        """Start and stop for messages, in the time zone of the provider or
        room (the clinic's), else the company's or the user's."""
        tz = holder.tz or self.env.company.partner_id.tz or self.env.user.tz or "UTC"
        return {
            "start": format_datetime(self.env, start, tz=tz, dt_format="short"),
            "stop": format_datetime(self.env, stop, tz=tz, dt_format="short"),
        }

    # ------------------------------------------------------------------
    # Double booking
    # ------------------------------------------------------------------

    def _check_slot_free(self):
        """Refuse, with the conflict named, a booking whose provider or room is
        already taken. Reads the database without flushing: called before the
        new values reach it, so that the usual case never hits the database
        constraint (which stays the guarantee for simultaneous bookings)."""
        candidates = self.filtered(
            lambda a: a.state not in FREEING_STATES and a.blocked_start
        )
        if not candidates:
            return
        rows = SQL(", ").join(
            SQL(
                "(%s, %s::integer, %s::integer, %s, %s)",
                index,
                appointment.provider_id.id,
                appointment.room_id.id or None,
                appointment.blocked_start,
                appointment.blocked_stop,
            )
            for index, appointment in enumerate(candidates)
        )
        conflicts = self.env.execute_query(
            SQL(
                """
            SELECT candidate.idx, existing.id,
                   existing.provider_id = candidate.provider_id AS same_provider
              FROM (VALUES %(rows)s)
                   AS candidate(idx, provider_id, room_id, blocked_start, blocked_stop)
              JOIN crm_healthcare_appointment existing
                ON (existing.provider_id = candidate.provider_id
                    OR existing.room_id = candidate.room_id)
               AND existing.state NOT IN %(freeing)s
               AND tsrange(existing.blocked_start, existing.blocked_stop, '[)')
                   && tsrange(candidate.blocked_start, candidate.blocked_stop, '[)')
             WHERE existing.id NOT IN %(own_ids)s
             ORDER BY candidate.idx, existing.blocked_start
             LIMIT 1
            """,
                rows=rows,
                freeing=FREEING_STATES,
                own_ids=tuple(candidates._origin.ids) or (0,),
            )
        )
        if conflicts:
            index, existing_id, same_provider = conflicts[0]
            appointment = candidates[index]
            holder = appointment.provider_id if same_provider else appointment.room_id
            # sudo: the other booking may be of a patient or provider the user
            # may not read; only its reference and time go into the message.
            existing = self.sudo().browse(existing_id)
            raise self._conflict_error(
                holder,
                (appointment.blocked_start, appointment.blocked_stop),
                existing.read(["name", "start", "stop"])[0],
            )

    @api.model
    def _conflict_error(self, holder, blocked, existing=None):
        """The ValidationError naming a double booking of ``holder`` (provider or
        room): the reference and time of the ``existing`` booking (a dict with
        name, start and stop), nothing about its patient or type; without it,
        the ``blocked`` range that the database refused."""
        if existing:
            return ValidationError(
                self.env._(
                    "%(resource)s is already booked from %(start)s to %(stop)s "
                    "(%(reference)s). Choose another time.",
                    resource=holder.name,
                    reference=existing["name"],
                    **self._local_times(holder, existing["start"], existing["stop"]),
                )
            )
        return ValidationError(
            self.env._(
                "%(resource)s was booked from %(start)s to %(stop)s (buffers "
                "included) by another booking made at the same moment. Choose "
                "another time.",
                resource=holder.name,
                **self._local_times(holder, *blocked),
            )
        )

    @api.model
    def _exclusion_error(self, error, exclude_ids=()):
        """Translate PostgreSQL's refusal of a double booking into the same
        message as the pre-check, from the existing row the error names."""
        is_room = (error.diag.constraint_name or "").endswith("room_no_overlap")
        matches = EXISTING_KEY_RE.findall(error.diag.message_detail or "")
        if not matches:
            return ValidationError(
                self.env._(
                    "This provider or room is already booked at that time. Choose "
                    "another time."
                )
            )
        holder_id, start, stop = matches[-1]
        blocked = (
            fields.Datetime.to_datetime(start),
            fields.Datetime.to_datetime(stop),
        )
        holder_field = "room_id" if is_room else "provider_id"
        # sudo: the provider or room may be of a company the user is not in now.
        holder = (
            self.env[self._fields[holder_field].comodel_name]
            .sudo()
            .browse(int(holder_id))
        )
        query = SQL(
            """
            SELECT name, start, stop
              FROM crm_healthcare_appointment
             WHERE %(holder_field)s = %(holder_id)s
               AND blocked_start = %(blocked_start)s
               AND blocked_stop = %(blocked_stop)s
               AND state NOT IN %(freeing)s
               AND id NOT IN %(exclude_ids)s
             LIMIT 1
            """,
            holder_field=SQL.identifier(holder_field),
            holder_id=holder.id,
            blocked_start=blocked[0],
            blocked_stop=blocked[1],
            freeing=FREEING_STATES,
            exclude_ids=tuple(exclude_ids) or (0,),
        )
        # Only the reference and time of the other booking are read, in SQL:
        # its patient may be one the user may not read.
        rows = self.env.execute_query_dict(query)
        if not rows:
            # Booked by a transaction committed after this one started: this
            # snapshot cannot see it, a new one can.
            with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
                cr.execute(query)
                rows = cr.dictfetchall()
        return self._conflict_error(holder, blocked, rows[0] if rows else None)

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(
                    vals.get("company_id") or self.env.company.id
                )
                vals["name"] = (
                    self.env["ir.sequence"]
                    .with_company(company)
                    .next_by_code("crm.healthcare.appointment")
                    or "/"
                )
        self._new_drafts(vals_list)._check_slot_free()
        try:
            with self.env.cr.savepoint():
                appointments = super().create(vals_list)
        except ExclusionViolation as error:
            raise self._exclusion_error(error) from None
        appointments._sync_calendar_events()
        return appointments

    @api.model
    def _new_drafts(self, vals_list):
        """New (unsaved) records with the computed range of each of
        ``vals_list``, for the pre-check."""
        defaults = self.default_get(["state", "company_id"])
        return self.concat(*(self.new({**defaults, **vals}) for vals in vals_list))

    def write(self, vals):
        if not set(vals) & SLOT_FIELDS:
            res = super().write(vals)
        else:
            try:
                with self.env.cr.savepoint():
                    res = super().write(vals)
                    # The new values are in the cache, not yet in the database.
                    self._check_slot_free()
            except ExclusionViolation as error:
                raise self._exclusion_error(error, self.ids) from None
        if set(vals) & EVENT_FIELDS:
            self._sync_calendar_events()
        return res

    def unlink(self):
        # sudo: the event is private to the provider; it goes with the booking.
        events = self.sudo().calendar_event_id
        res = super().unlink()
        events.with_context(**EVENT_CONTEXT).unlink()
        return res

    # ------------------------------------------------------------------
    # Calendar event
    # ------------------------------------------------------------------

    def _calendar_event_values(self):
        """A neutral, private event on the provider's calendar: no type, no
        clinical name, no patient (who would otherwise be invited by mail)."""
        self.ensure_one()
        user = self.provider_id.user_id
        return {
            "name": self.env._("Appointment"),
            "privacy": "private",
            "show_as": "busy",
            "description": False,
            "start": self.start,
            "stop": self.stop,
            "user_id": user.id,
            "partner_ids": [Command.set(user.partner_id.ids)],
            "res_model_id": self.env["ir.model"]._get_id(self._name),
            "res_id": self.id,
        }

    def _sync_calendar_events(self):
        """Create, move or delete the linked events to match the appointments."""
        # sudo: the event is private to the provider: the front desk keeps it in
        # step with the booking without being able to read it.
        appointments = self.sudo().with_context(**EVENT_CONTEXT)
        freed = appointments.filtered(lambda a: a.state == "cancelled")
        events_to_delete = freed.calendar_event_id
        if events_to_delete:
            freed.calendar_event_id = False
            events_to_delete.unlink()
        active = appointments - freed
        for appointment in active.filtered("calendar_event_id"):
            appointment.calendar_event_id.write(appointment._calendar_event_values())
        missing = active.filtered(lambda a: not a.calendar_event_id)
        if missing:
            # sudo: same reason, the events are the provider's, not the user's.
            events = (
                self.env["calendar.event"]
                .sudo()
                .with_context(**EVENT_CONTEXT)
                .create(
                    [appointment._calendar_event_values() for appointment in missing]
                )
            )
            for appointment, event in zip(missing, events, strict=True):
                appointment.calendar_event_id = event

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def _check_transition(self, new_state):
        allowed = TRANSITIONS[new_state]
        labels = dict(self._fields["state"]._description_selection(self.env))
        for appointment in self:
            if appointment.state not in allowed:
                raise UserError(
                    self.env._(
                        "%(reference)s is %(state)s: it cannot be set to %(new)s.",
                        reference=appointment.name,
                        state=labels[appointment.state],
                        new=labels[new_state],
                    )
                )

    def action_confirm(self):
        self._check_transition("confirmed")
        self.state = "confirmed"

    def action_check_in(self):
        self._check_transition("checked_in")
        self.state = "checked_in"

    def action_done(self):
        self._check_transition("done")
        self.state = "done"

    def action_cancel(self):
        self._check_transition("cancelled")
        self.state = "cancelled"

    def action_no_show(self):
        self._check_transition("no_show")
        now = fields.Datetime.now()
        future = self.filtered(lambda a: a.start > now)
        if future:
            raise UserError(
                self.env._(
                    "%(reference)s has not started yet: a patient is a no-show only "
                    "once the appointment time has passed.",
                    reference=future[0].name,
                )
            )
        self.state = "no_show"
        # sudo: the counter is kept by the system, also when the user who marks
        # the no-show may not edit the patient.
        for patient, appointments in self.sudo().grouped("patient_id").items():
            patient.no_show_count += len(appointments)
