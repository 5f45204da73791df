from bisect import bisect_right
from collections import defaultdict
from datetime import datetime, timedelta

import pytz

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .crm_healthcare_appointment import FREEING_STATES

# Slots start on quarter hours of the clinic's clock: patients read round
# times, and a free quarter hour after a booking is offered even when the type
# lasts longer. Every time zone's offset is a multiple of 15 minutes, so a
# quarter hour in UTC is a quarter hour in local time too.
SLOT_STEP = timedelta(minutes=15)
EPOCH = datetime(1970, 1, 1)


def _ceil_to_step(moment):
    """``moment`` (naive UTC) rounded up to the slot grid."""
    remainder = (moment - EPOCH) % SLOT_STEP
    return moment + (SLOT_STEP - remainder) if remainder else moment


def _to_naive_utc(moment):
    return moment.astimezone(pytz.utc).replace(tzinfo=None)


class BusyRanges:
    """The blocked ranges of one provider or room, sorted and disjoint (the
    database's exclusion constraints guarantee it), asked with a bisection."""

    def __init__(self, ranges):
        self.ranges = sorted(ranges)
        self.stops = [stop for _start, stop in self.ranges]

    def is_free(self, start, stop):
        # The first range ending after ``start`` is the only one that may
        # overlap [start, stop): the later ones start after it ends.
        index = bisect_right(self.stops, start)
        return index == len(self.ranges) or self.ranges[index][0] >= stop


class CrmHealthcareSlotFinder(models.AbstractModel):
    """Free slots of an appointment type, computed in one pass per provider.

    Working time comes from the providers' (and rooms') working calendars in
    their own time zone, the clinic's, with time off removed
    (``resource.calendar._work_intervals_batch``). Existing bookings are read
    in one query for all providers and rooms of the window; a slot is free when
    its blocked range, the appointment and the type's buffers, overlaps no
    blocked range of a non-cancelled booking of the provider and, when the type
    needs a room, of one of its rooms. Like the booking check, the appointment
    itself (not its buffers) must fit in the working hours.

    Slots start on a 15-minute grid (``SLOT_STEP``). Datetimes are naive UTC,
    as Odoo stores them.
    """

    _name = "crm.healthcare.slot.finder"
    _description = "Appointment Slot Finder"

    @api.model
    def _find_slots(
        self,
        appointment_type,
        date_from,
        date_to,
        providers=None,
        limit=None,
        ignore_appointments=None,
    ):
        """Free slots of ``appointment_type`` starting at or after ``date_from``
        and ending at or before ``date_to`` (naive UTC datetimes).

        :param providers: the providers to search; by default every provider
            allowed for the type ("any provider"). A provider the type does
            not allow is refused.
        :param limit: the number of earliest slots to return, all by default.
        :param ignore_appointments: bookings that do not count as busy (the
            one being rescheduled).
        :return: list of dicts ``{provider_id, room_id, start, stop}`` sorted
            by start, then provider; ``room_id`` is False when the type needs
            no room.
        """
        appointment_type.ensure_one()
        providers = self._slot_providers(appointment_type, providers)
        rooms = appointment_type.room_ids.filtered("active")
        if (
            not providers
            or date_to <= date_from
            or (appointment_type.room_ids and not rooms)
        ):
            return []
        duration = timedelta(hours=appointment_type.duration)
        before = timedelta(minutes=appointment_type.buffer_before)
        after = timedelta(minutes=appointment_type.buffer_after)

        work = self._work_intervals([*providers, *rooms], date_from, date_to)
        busy = self._busy_ranges(
            providers, rooms, date_from - before, date_to + after, ignore_appointments
        )
        room_list = [(room, work.get(room), busy[room]) for room in rooms]

        slots = []
        for provider in providers:
            provider_busy = busy[provider]
            for work_start, work_stop in work.get(provider, []):
                start = _ceil_to_step(max(work_start, date_from))
                last_start = min(work_stop, date_to) - duration
                while start <= last_start:
                    stop = start + duration
                    blocked = (start - before, stop + after)
                    if provider_busy.is_free(*blocked):
                        room = self._free_room(room_list, start, stop, blocked)
                        if room is not None:
                            slots.append(
                                {
                                    "provider_id": provider.id,
                                    "room_id": room.id if room else False,
                                    "start": start,
                                    "stop": stop,
                                }
                            )
                    start += SLOT_STEP
        slots.sort(key=lambda slot: (slot["start"], slot["provider_id"]))
        return slots[:limit] if limit else slots

    @api.model
    def _slot_providers(self, appointment_type, providers=None):
        """The active providers to search: those asked, which the type must
        allow, or every provider the type allows."""
        allowed = appointment_type.provider_ids
        if not allowed:
            allowed = self.env["crm.healthcare.provider"].search(
                [("company_id", "=", appointment_type.company_id.id)]
            )
        if providers:
            refused = providers - allowed
            if refused:
                raise UserError(
                    self.env._(
                        "%(provider)s does not give %(type)s appointments. Choose "
                        "one of: %(providers)s.",
                        provider=refused[0].name,
                        type=appointment_type.name,
                        providers=", ".join(allowed.mapped("name")),
                    )
                )
            allowed = providers
        return allowed.filtered("active")

    @api.model
    def _work_intervals(self, holders, date_from, date_to):
        """Working intervals of providers and rooms (``holders``, a list of
        records) between two naive UTC datetimes, time off removed, as lists
        of naive UTC ``(start, stop)`` per holder. One computation per working
        calendar for all its holders, in each resource's time zone (the
        clinic's). A holder without fixed working hours (no calendar, flexible
        hours) is left out: a provider then offers no slot, a room is always
        available (as for bookings)."""
        start = pytz.utc.localize(date_from)
        stop = pytz.utc.localize(date_to)
        by_calendar = defaultdict(list)
        for holder in holders:
            calendar = holder.resource_calendar_id
            if calendar and not calendar.flexible_hours:
                by_calendar[calendar].append(holder)
        result = {}
        for calendar, calendar_holders in by_calendar.items():
            resources = self.env["resource.resource"].union(
                *(holder.resource_id for holder in calendar_holders)
            )
            # sudo: working hours and time off of other people and rooms are
            # not readable by the front desk nor the portal; only free/busy
            # intervals leave this method, never a leave or its reason.
            intervals = calendar.sudo()._work_intervals_batch(
                start, stop, resources=resources.sudo()
            )
            for holder in calendar_holders:
                result[holder] = [
                    (_to_naive_utc(begin), _to_naive_utc(end))
                    for begin, end, _records in intervals[holder.resource_id.id]
                ]
        return result

    @api.model
    def _busy_ranges(self, providers, rooms, date_from, date_to, ignore=None):
        """Blocked ranges of the bookings of ``providers`` and ``rooms`` that
        overlap the window, in ONE query whatever the number of bookings or
        providers. Raw SQL: whoever searches (a portal patient) learns when a
        provider is busy, never with whom nor why."""
        Appointment = self.env["crm.healthcare.appointment"]
        Appointment.flush_model(
            ["provider_id", "room_id", "state", "blocked_start", "blocked_stop"]
        )
        rows = self.env.execute_query(
            SQL(
                """
            SELECT provider_id, room_id, blocked_start, blocked_stop
              FROM crm_healthcare_appointment
             WHERE (provider_id = ANY(%(providers)s) OR room_id = ANY(%(rooms)s))
               AND state NOT IN %(freeing)s
               AND blocked_start < %(date_to)s
               AND blocked_stop > %(date_from)s
               AND id != ALL(%(ignore)s)
            """,
                providers=providers.ids,
                rooms=rooms.ids,
                freeing=FREEING_STATES,
                date_from=date_from,
                date_to=date_to,
                ignore=ignore.ids if ignore else [],
            )
        )
        provider_ranges = defaultdict(list)
        room_ranges = defaultdict(list)
        for provider_id, room_id, blocked_start, blocked_stop in rows:
            provider_ranges[provider_id].append((blocked_start, blocked_stop))
            if room_id:
                room_ranges[room_id].append((blocked_start, blocked_stop))
        busy = {
            provider: BusyRanges(provider_ranges[provider.id]) for provider in providers
        }
        busy.update({room: BusyRanges(room_ranges[room.id]) for room in rooms})
        return busy

    @api.model
    def _free_room(self, room_list, start, stop, blocked):
        """The first room of ``room_list`` working during [start, stop] (a room
        without working hours always is) and free during ``blocked``; False
        when the type needs no room, None when none is free."""
        if not room_list:
            return False
        for room, work, room_busy in room_list:
            works = work is None or any(
                begin <= start and stop <= end for begin, end in work
            )
            if works and room_busy.is_free(*blocked):
                return room
        return None
