from datetime import datetime, timedelta

from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request
from odoo.tools import format_datetime

from odoo.addons.portal.controllers.portal import CustomerPortal

# Appointments a patient may still cancel or move.
CHANGEABLE_STATES = ("booked", "confirmed")
# How far ahead one page of free slots looks, and how many it shows.
BOOKING_DAYS = 7
SLOTS_SHOWN = 80
PAST_VISITS_SHOWN = 50


class HealthcarePortal(CustomerPortal):
    """Patients' visits in the portal: list, book, reschedule, cancel.

    Patients read their own appointments under the portal record rule. What
    the rule cannot express is done with ``sudo()`` after the checks, each with
    its reason: reading the neutral names of types, providers and rooms (the
    portal has no access to those models), finding free slots, and writing the
    patient's own booking (the portal may not create or write appointments).
    Pages receive plain values, never records, so no clinical field can reach
    them.
    """

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "appointment_count" in counters:
            patients = self._healthcare_patients()
            values["appointment_count"] = (
                request.env["crm.healthcare.appointment"].search_count(
                    self._upcoming_domain(patients)
                )
                if patients
                else 0
            )
        return values

    def _healthcare_patients(self):
        """The signed-in user's patient records (one per clinic company)."""
        Patient = request.env["crm.healthcare.patient"]
        if not Patient.has_access("read"):
            return Patient
        return Patient.search([("partner_id", "=", request.env.user.partner_id.id)])

    def _upcoming_domain(self, patients):
        return [
            ("patient_id", "in", patients.ids),
            ("state", "in", CHANGEABLE_STATES),
            ("start", ">=", fields.Datetime.now()),
        ]

    def _own_appointment(self, appointment_id):
        """The signed-in patient's appointment, or 404: also for an
        appointment of someone else, whose existence is not revealed."""
        patients = self._healthcare_patients()
        if not patients:
            raise NotFound()
        appointment = request.env["crm.healthcare.appointment"].search(
            [("id", "=", appointment_id), ("patient_id", "in", patients.ids)]
        )
        if not appointment:
            raise NotFound()
        return appointment

    def _bookable_types(self, patients):
        """The types the patients may book online, in their clinics."""
        # sudo: the portal has no access to appointment types; only the
        # bookable ones of the patient's own clinics are used, by their
        # neutral name and booking rules.
        Type = request.env["crm.healthcare.appointment.type"].sudo()
        return Type.search(
            [
                ("portal_bookable", "=", True),
                ("company_id", "in", patients.company_id.ids),
            ]
        )

    def _slot_finder(self):
        """The slot finder, free of the portal's access rights."""
        # sudo: the portal may read no provider, calendar nor time off; the
        # finder returns free times and provider ids only, for types that the
        # callers took from the patient's own bookable ones.
        return request.env["crm.healthcare.slot.finder"].sudo()

    def _clinic_tz(self, appointment_sudo):
        """The clinic's time zone: the provider's working calendar's."""
        return (
            appointment_sudo.provider_id.tz
            or appointment_sudo.company_id.partner_id.tz
            or "UTC"
        )

    def _format_local(self, moment, tz):
        return format_datetime(
            request.env, moment, tz=tz, dt_format="EEEE d MMMM y, HH:mm"
        )

    def _visit_values(self, appointments):
        """What the visits page shows of each appointment, as plain values."""
        now = fields.Datetime.now()
        states = dict(appointments._fields["state"]._description_selection(request.env))
        visits = []
        # sudo: the record rule already gave the patient these appointments,
        # their own; only the neutral type name, the provider's and the room's
        # names and the place are read from models the portal cannot read.
        for appointment in appointments.sudo():
            appointment_type = appointment.appointment_type_id
            tz = self._clinic_tz(appointment)
            deadline = appointment.start - timedelta(
                hours=appointment_type.cancellation_limit_hours
            )
            changeable = appointment.state in CHANGEABLE_STATES and now <= deadline
            visits.append(
                {
                    "id": appointment.id,
                    "reference": appointment.name,
                    "type": appointment_type.name,
                    "provider": appointment.provider_id.name,
                    "place": ", ".join(
                        name
                        for name in (
                            appointment.room_id.name,
                            appointment.company_id.name,
                        )
                        if name
                    ),
                    "when": self._format_local(appointment.start, tz),
                    "tz": tz,
                    "state": appointment.state,
                    "state_label": states[appointment.state],
                    "can_cancel": changeable,
                    "can_move": changeable and appointment_type.portal_bookable,
                    "deadline": self._format_local(deadline, tz),
                }
            )
        return visits

    def _change_refusal(self, appointment):
        """Why the patient may not cancel or move ``appointment`` now, or None.
        Checked on the server whatever the page showed."""
        # sudo: the cancellation limit is on the type, unreadable by the portal.
        appointment_sudo = appointment.sudo()
        if appointment_sudo.state not in CHANGEABLE_STATES:
            return request.env._(
                "%(reference)s cannot be changed any more: it is not an upcoming "
                "appointment.",
                reference=appointment_sudo.name,
            )
        limit = appointment_sudo.appointment_type_id.cancellation_limit_hours
        if fields.Datetime.now() > appointment_sudo.start - timedelta(hours=limit):
            phone = appointment_sudo.company_id.phone
            return request.env._(
                "%(reference)s starts in less than %(hours)s hours: it can no "
                "longer be cancelled or moved online. Please call the clinic"
                "%(phone)s.",
                reference=appointment_sudo.name,
                hours=f"{limit:g}",
                phone=f" ({phone})" if phone else "",
            )
        return None

    def _slot_page_values(
        self, patients, appointment_type, provider_id, start_date, ignore=None
    ):
        """Types, providers and free slots for the booking page."""
        types = self._bookable_types(patients)
        values = {"types": types, "appointment_type": appointment_type}
        if not appointment_type:
            return values
        finder = self._slot_finder()
        providers = finder._slot_providers(appointment_type)
        provider = providers.filtered(lambda p: p.id == provider_id)
        date_from = fields.Datetime.now()
        if start_date:
            date_from = max(
                date_from, datetime.combine(start_date, datetime.min.time())
            )
        date_to = date_from + timedelta(days=BOOKING_DAYS)
        return {
            **values,
            "providers": [(p.id, p.name) for p in providers],
            "provider_id": provider.id,
            "days": self._slot_days(
                appointment_type, provider or providers, date_from, date_to, ignore
            ),
            "next_date": fields.Date.to_string(date_to.date()),
        }

    def _slot_days(self, appointment_type, providers, date_from, date_to, ignore=None):
        """Free slots grouped by local day: [(day label, [slot values])]."""
        slots = self._slot_finder()._find_slots(
            appointment_type,
            date_from,
            date_to,
            providers=providers,
            limit=SLOTS_SHOWN,
            ignore_appointments=ignore,
        )
        names = {provider.id: provider.name for provider in providers}
        tz_by_provider = {
            provider.id: provider.tz
            or appointment_type.company_id.partner_id.tz
            or "UTC"
            for provider in providers
        }
        days = {}
        for slot in slots:
            tz = tz_by_provider[slot["provider_id"]]
            day = format_datetime(
                request.env, slot["start"], tz=tz, dt_format="EEEE d MMMM y"
            )
            days.setdefault(day, []).append(
                {
                    "value": f"{slot['provider_id']}|{slot['start']}",
                    "time": format_datetime(
                        request.env, slot["start"], tz=tz, dt_format="HH:mm"
                    ),
                    "provider": names[slot["provider_id"]],
                }
            )
        return list(days.items())

    def _checked_slot(self, appointment_type, slot, ignore=None):
        """The free slot the form posted (``"<provider id>|<UTC start>"``),
        found again by the slot finder, or None when it is not free (taken
        meanwhile, off the grid, in the past, or a provider not allowed)."""
        try:
            provider_id, start = slot.split("|")
            provider_id = int(provider_id)
            start = fields.Datetime.to_datetime(start)
        except (AttributeError, ValueError):
            return None
        if not start or start < fields.Datetime.now():
            return None
        finder = self._slot_finder()
        provider = finder._slot_providers(appointment_type).filtered(
            lambda p: p.id == provider_id
        )
        if not provider:
            return None
        duration = timedelta(hours=appointment_type.duration)
        found = finder._find_slots(
            appointment_type,
            start,
            start + duration,
            providers=provider,
            ignore_appointments=ignore,
        )
        return next((s for s in found if s["start"] == start), None)

    def _render_visits(self, error=None, message=None):
        patients = self._healthcare_patients()
        Appointment = request.env["crm.healthcare.appointment"]
        upcoming = past = Appointment
        if patients:
            upcoming = Appointment.search(
                self._upcoming_domain(patients), order="start"
            )
            past = Appointment.search(
                [("patient_id", "in", patients.ids), ("id", "not in", upcoming.ids)],
                order="start desc",
                limit=PAST_VISITS_SHOWN,
            )
        return request.render(
            "crm_healthcare.portal_my_appointments",
            {
                "page_name": "appointment",
                "is_patient": bool(patients),
                "can_book": bool(patients and self._bookable_types(patients)),
                "upcoming": self._visit_values(upcoming),
                "past": self._visit_values(past),
                "error": error,
                "message": message,
            },
        )

    def _message(self, key):
        """The message shown after a redirect, by key: nothing the URL carries
        is printed on the page."""
        return {
            "booked": request.env._("Your appointment is booked."),
            "moved": request.env._("Your appointment is moved."),
            "cancelled": request.env._("Your appointment is cancelled."),
        }.get(key)

    def _int(self, value):
        try:
            return int(value)
        except (TypeError, ValueError):
            return 0

    # ------------------------------------------------------------------
    # Routes
    # ------------------------------------------------------------------

    @http.route("/my/appointments", type="http", auth="user", website=True)
    def portal_my_appointments(self, message=None, **kw):
        return self._render_visits(message=self._message(message))

    @http.route(
        "/my/appointments/book",
        type="http",
        auth="user",
        methods=["GET", "POST"],
        website=True,
    )
    def portal_book_appointment(
        self, type_id=None, provider_id=None, start=None, **post
    ):
        patients = self._healthcare_patients()
        if not patients:
            raise NotFound()
        types = self._bookable_types(patients)
        appointment_type = types.filtered(lambda t: t.id == self._int(type_id))
        error = None
        if request.httprequest.method == "POST":
            if not appointment_type:
                error = request.env._("Choose a type of appointment.")
            else:
                slot = self._checked_slot(appointment_type, post.get("slot"))
                if slot is None:
                    error = request.env._(
                        "That time is no longer free: choose another one."
                    )
                else:
                    error = self._book_slot(
                        patients.filtered(
                            lambda p: p.company_id == appointment_type.company_id
                        )[:1],
                        appointment_type,
                        slot,
                    )
                    if error is None:
                        return request.redirect("/my/appointments?message=booked")
        values = self._slot_page_values(
            patients,
            appointment_type,
            self._int(provider_id),
            self._date(start),
        )
        return request.render(
            "crm_healthcare.portal_appointment_book",
            {
                **values,
                "page_name": "appointment_book",
                "action": "/my/appointments/book",
                "appointment": None,
                "error": error,
            },
        )

    def _book_slot(self, patient, appointment_type, slot):
        """Book ``slot`` for ``patient``; the error message, or None."""
        if not patient:
            return request.env._(
                "You are not a patient of this clinic yet: please call it to register."
            )
        try:
            # sudo: the portal may not create appointments; the values are the
            # signed-in patient's own record and a slot the finder just
            # confirmed free; the database still refuses a double booking.
            request.env["crm.healthcare.appointment"].sudo().create(
                {
                    "patient_id": patient.id,
                    "appointment_type_id": appointment_type.id,
                    "provider_id": slot["provider_id"],
                    "room_id": slot["room_id"],
                    "start": slot["start"],
                    "company_id": appointment_type.company_id.id,
                }
            )
        except (UserError, ValidationError):
            # Taken by someone else between the check and the booking.
            return request.env._("That time is no longer free: choose another one.")
        return None

    def _date(self, value):
        try:
            return fields.Date.to_date(value) if value else None
        except ValueError:
            return None

    @http.route(
        "/my/appointments/<int:appointment_id>/cancel",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_cancel_appointment(self, appointment_id, **post):
        appointment = self._own_appointment(appointment_id)
        refusal = self._change_refusal(appointment)
        if refusal:
            return self._render_visits(error=refusal)
        # sudo: the portal may not write appointments; the appointment is the
        # patient's own and inside the type's cancellation limit (checked above).
        appointment.sudo().action_cancel()
        return request.redirect("/my/appointments?message=cancelled")

    @http.route(
        "/my/appointments/<int:appointment_id>/reschedule",
        type="http",
        auth="user",
        methods=["GET", "POST"],
        website=True,
    )
    def portal_reschedule_appointment(
        self, appointment_id, provider_id=None, start=None, **post
    ):
        appointment = self._own_appointment(appointment_id)
        refusal = self._change_refusal(appointment)
        if refusal:
            return self._render_visits(error=refusal)
        # sudo: the type and provider of the patient's own appointment,
        # unreadable by the portal; moving online is for types bookable online.
        appointment_sudo = appointment.sudo()
        appointment_type = appointment_sudo.appointment_type_id
        if not appointment_type.portal_bookable:
            return self._render_visits(
                error=request.env._(
                    "%(reference)s cannot be moved online: please call the clinic.",
                    reference=appointment.name,
                )
            )
        error = None
        if request.httprequest.method == "POST":
            slot = self._checked_slot(
                appointment_type, post.get("slot"), ignore=appointment
            )
            if slot is None:
                error = request.env._(
                    "That time is no longer free: choose another one."
                )
            else:
                try:
                    # sudo: the portal may not write appointments; it is the
                    # patient's own, inside the cancellation limit, moved to a
                    # slot the finder just confirmed free.
                    appointment_sudo.write(
                        {
                            "provider_id": slot["provider_id"],
                            "room_id": slot["room_id"],
                            "start": slot["start"],
                        }
                    )
                except (UserError, ValidationError):
                    error = request.env._(
                        "That time is no longer free: choose another one."
                    )
                else:
                    return request.redirect("/my/appointments?message=moved")
        patients = self._healthcare_patients()
        provider_id = self._int(provider_id) or appointment_sudo.provider_id.id
        values = self._slot_page_values(
            patients, appointment_type, provider_id, self._date(start), appointment
        )
        # The page offers the slots of the type of this appointment only.
        values["types"] = appointment_type
        return request.render(
            "crm_healthcare.portal_appointment_book",
            {
                **values,
                "page_name": "appointment_book",
                "action": f"/my/appointments/{appointment.id}/reschedule",
                "appointment": self._visit_values(appointment)[0],
                "error": error,
            },
        )
