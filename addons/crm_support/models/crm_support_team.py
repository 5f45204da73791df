from ast import literal_eval
from datetime import timedelta

from pytz import utc

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CrmSupportTeam(models.Model):
    """A support team: its members, working hours and email alias."""

    _name = "crm.support.team"
    _description = "Support Team"
    _inherit = ["mail.alias.mixin", "mail.thread"]
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    leader_id = fields.Many2one(
        "res.users",
        string="Team Leader",
        domain=[("share", "=", False)],
        help="Told when a ticket breaches its SLA.",
    )
    member_ids = fields.Many2many(
        "res.users",
        "crm_support_team_member_rel",
        "team_id",
        "user_id",
        string="Agents",
        domain=[("share", "=", False)],
    )
    resource_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working Hours",
        required=True,
        default=lambda self: self.env.company.resource_calendar_id,
        help="SLA targets count these hours only; public holidays (global time off "
        "on this calendar) and weekends are skipped.",
    )
    auto_assign = fields.Boolean(
        string="Assign Automatically",
        default=True,
        help="New tickets go to the agent with the skills asked, then the lightest "
        "load, then in turn.",
    )
    use_rating = fields.Boolean(string="Ask for Ratings", default=True)
    last_user_id = fields.Many2one("res.users", readonly=True, copy=False)
    ticket_ids = fields.One2many("crm.ticket", "team_id")
    open_ticket_count = fields.Integer(compute="_compute_ticket_stats")
    unassigned_ticket_count = fields.Integer(compute="_compute_ticket_stats")
    sla_failed_count = fields.Integer(compute="_compute_ticket_stats")

    def _compute_ticket_stats(self):
        Ticket = self.env["crm.ticket"]
        base = [("team_id", "in", self.ids), ("is_closed", "=", False)]
        open_counts = dict(Ticket._read_group(base, ["team_id"], ["__count"]))
        unassigned = dict(
            Ticket._read_group(
                base + [("user_id", "=", False)], ["team_id"], ["__count"]
            )
        )
        failed = dict(
            Ticket._read_group(
                base + [("sla_status", "=", "failed")], ["team_id"], ["__count"]
            )
        )
        for team in self:
            team.open_ticket_count = open_counts.get(team, 0)
            team.unassigned_ticket_count = unassigned.get(team, 0)
            team.sla_failed_count = failed.get(team, 0)

    @api.constrains("member_ids", "leader_id")
    def _check_members(self):
        for team in self:
            if team.member_ids.filtered("share") or team.leader_id.share:
                raise ValidationError(
                    self.env._(
                        "Team %(team)s: portal users cannot be agents or leaders.",
                        team=team.name,
                    )
                )

    def _alias_get_creation_values(self):
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get("crm.ticket").id
        if self.id:
            values["alias_defaults"] = defaults = literal_eval(
                self.alias_defaults or "{}"
            )
            defaults["team_id"] = self.id
            defaults["channel"] = "email"
        return values

    # ------------------------------------------------------------
    # Working time
    # ------------------------------------------------------------

    def _work_intervals(self, start, end):
        """Working intervals of the team's calendar, holidays excluded (UTC naive)."""
        self.ensure_one()
        calendar = self.resource_calendar_id
        intervals = calendar._work_intervals_batch(
            start.replace(tzinfo=utc), end.replace(tzinfo=utc)
        )[False]
        return [
            (
                begin.astimezone(utc).replace(tzinfo=None),
                stop.astimezone(utc).replace(tzinfo=None),
            )
            for begin, stop, _meta in intervals
        ]

    def _plan(self, requests):
        """Deadlines in working time for many tickets, one calendar read per team.

        ``requests`` is a list of (start, hours); returns the deadlines in order
        (False where the calendar has no working time within a year).
        """
        self.ensure_one()
        if not requests:
            return []
        first = min(start for start, _hours in requests)
        last = max(start for start, _hours in requests)
        for days in (30, 400):  # a month covers every usual target
            intervals = self._work_intervals(first, last + timedelta(days=days))
            deadlines = [_walk(intervals, start, hours) for start, hours in requests]
            if None not in deadlines:
                return deadlines
        return [deadline or False for deadline in deadlines]

    def _worked_hours(self, spans):
        """Working hours in each (start, end) span (UTC naive), one calendar read."""
        self.ensure_one()
        spans = [(start, end) for start, end in spans]
        valid = [(start, end) for start, end in spans if start and end and end > start]
        if not valid:
            return [0.0] * len(spans)
        intervals = self._work_intervals(
            min(start for start, _end in valid), max(end for _start, end in valid)
        )
        return [
            sum(
                (min(stop, end) - max(begin, start)).total_seconds() / 3600
                for begin, stop in intervals
                if stop > start and begin < end
            )
            if start and end and end > start
            else 0.0
            for start, end in spans
        ]


def _walk(intervals, start, hours):
    for begin, stop in intervals:
        if stop <= start:
            continue
        begin = max(begin, start)
        available = (stop - begin).total_seconds() / 3600
        if hours <= available:
            return begin + timedelta(hours=hours)
        hours -= available
    return None
