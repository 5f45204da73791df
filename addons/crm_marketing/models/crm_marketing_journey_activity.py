import logging

from odoo import api, fields, models
from odoo.tools import SQL, create_index

from .crm_marketing_journey_step import (
    MESSAGE_ACTIONS,
    NEGATIVE_TRIGGERS,
    POSITIVE_TRIGGERS,
)

_logger = logging.getLogger(__name__)

# When the parent's message shows the event (same reading as Odoo's statistics:
# a click or a reply implies an open).
EVENT_SQL = {
    "opened": SQL(
        "(t.open_datetime IS NOT NULL OR t.trace_status IN ('open', 'reply') "
        "OR t.links_click_datetime IS NOT NULL)"
    ),
    "clicked": SQL("t.links_click_datetime IS NOT NULL"),
    "replied": SQL("(t.reply_datetime IS NOT NULL OR t.trace_status = 'reply')"),
    "bounced": SQL("t.trace_status = 'bounce'"),
}


class CrmMarketingJourneyActivity(models.Model):
    """One step due, or run, for one participant."""

    _name = "crm.marketing.journey.activity"
    _description = "Journey Step Run"
    _order = "schedule_date desc, id desc"
    _rec_name = "step_id"
    _check_company_auto = True

    participant_id = fields.Many2one(
        "crm.marketing.journey.participant",
        required=True,
        ondelete="cascade",
        index=True,
    )
    journey_id = fields.Many2one(
        "crm.marketing.journey", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="journey_id.company_id", store=True, index=True, precompute=True
    )
    step_id = fields.Many2one(
        "crm.marketing.journey.step", required=True, ondelete="cascade", index=True
    )
    action_type = fields.Selection(related="step_id.action_type")
    trigger_type = fields.Selection(related="step_id.trigger_type")
    parent_id = fields.Many2one(
        "crm.marketing.journey.activity",
        string="After",
        ondelete="cascade",
        index="btree_not_null",
    )
    record_name = fields.Char(related="participant_id.record_name", string="Record")
    is_test = fields.Boolean(related="participant_id.is_test")
    schedule_date = fields.Datetime(
        string="Due On",
        required=True,
        help="When the step runs; for “within” triggers, the deadline.",
    )
    state = fields.Selection(
        [
            ("scheduled", "Scheduled"),
            ("done", "Done"),
            ("skipped", "Skipped"),
            ("cancelled", "Cancelled"),
            ("failed", "Failed"),
        ],
        required=True,
        default="scheduled",
        readonly=True,
    )
    executed_date = fields.Datetime(string="Run On", readonly=True)
    trace_id = fields.Many2one(
        "mailing.trace",
        string="Message",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
    )
    trace_status = fields.Selection(
        related="trace_id.trace_status", string="Message Status"
    )
    result = fields.Char(readonly=True)

    def init(self):
        # The cron's query: due rows only, by date.
        create_index(
            self.env.cr,
            "crm_marketing_journey_activity_due_idx",
            self._table,
            ["schedule_date", "id"],
            where="state = 'scheduled'",
        )

    # ------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------

    @api.model
    def _fired_early_query(self, now, scope=None):
        """SQL selecting the activities not due yet whose positive trigger fired:
        the event they wait for shows on their parent's message."""
        self.flush_model(["state", "schedule_date", "step_id", "parent_id", "trace_id"])
        self.env["mailing.trace"].flush_model(
            ["trace_status", "open_datetime", "links_click_datetime", "reply_datetime"]
        )
        self.env["crm.marketing.journey.step"].flush_model(["trigger_type"])
        fired = SQL(" OR ").join(
            SQL("(s.trigger_type = %s AND %s)", trigger, EVENT_SQL[trigger])
            for trigger in POSITIVE_TRIGGERS
        )
        return SQL(
            """
            SELECT a.id FROM crm_marketing_journey_activity a
              JOIN crm_marketing_journey_step s ON s.id = a.step_id
              JOIN crm_marketing_journey_activity p ON p.id = a.parent_id
              JOIN mailing_trace t ON t.id = p.trace_id
             WHERE a.state = 'scheduled' AND a.schedule_date > %(now)s
               AND s.trigger_type IN %(triggers)s AND (%(fired)s) %(scope)s
            """,
            now=now,
            triggers=POSITIVE_TRIGGERS,
            fired=fired,
            scope=scope or SQL(),
        )

    @api.model
    def _lock_due(self, limit=1000, participants=None):
        """Lock up to ``limit`` activities due now: by date, or early because the
        event their trigger waits for has happened. Rows another worker holds are
        skipped, so two workers never run the same activity."""
        now = fields.Datetime.now()
        self.flush_model()
        scope = (
            SQL("AND a.participant_id IN %s", tuple(participants.ids))
            if participants
            else SQL()
        )
        rows = self.env.execute_query(
            SQL(
                """
            SELECT a.id FROM crm_marketing_journey_activity a
             WHERE a.state = 'scheduled' AND a.schedule_date <= %(now)s %(scope)s
          ORDER BY a.schedule_date, a.id
             LIMIT %(limit)s
               FOR UPDATE SKIP LOCKED
            """,
                now=now,
                scope=scope,
                limit=limit,
            )
        )
        ids = [row[0] for row in rows]
        if len(ids) < limit:
            rows = self.env.execute_query(
                SQL(
                    "%s ORDER BY a.id LIMIT %s FOR UPDATE OF a SKIP LOCKED",
                    self._fired_early_query(now, scope),
                    limit - len(ids),
                )
            )
            ids += [row[0] for row in rows]
        return self.browse(ids)

    @api.model
    def _process_due(self, limit=1000, participants=None):
        """Run one batch of due activities; return how many were taken."""
        # sudo: the journey runs as the system for its whole audience.
        activities = self.sudo()._lock_due(limit=limit, participants=participants)
        if activities:
            activities._run()
        return len(activities)

    # Batch "process_journeys" (crm.batch): the activities due, by date or early
    # because their trigger fired. The batch claims its rows SKIP LOCKED, and so
    # does _lock_due (test runs): the two never run the same activity.

    @api.model
    def _batch_process_journeys_domain(self):
        now = fields.Datetime.now()
        return [
            ("state", "=", "scheduled"),
            "|",
            ("schedule_date", "<=", now),
            ("id", "in", SQL("(%s)", self._fired_early_query(now))),
        ]

    def _batch_process_journeys_process(self):
        # The batch browses with active_test off; the steps read and send as
        # they do outside a batch. Activities another run finished are left.
        activities = self.with_context(active_test=True).filtered(
            lambda activity: activity.state == "scheduled"
        )
        if activities:
            activities._run()

    def _run(self):
        now = fields.Datetime.now()
        # Claimed: marked done in this transaction before anything is sent, so
        # that a send committing halfway never lets another worker run them again.
        self.write({"state": "done", "executed_date": now})
        participants = self.participant_id
        participants._check_stops()
        live = self.filtered(lambda a: a.participant_id.state == "running")
        reasons = dict(
            self.env["crm.marketing.journey.participant"]
            ._fields["end_reason"]
            ._description_selection(self.env)
        )
        for reason, cancelled in (
            (self - live).grouped(lambda a: a.participant_id.end_reason).items()
        ):
            cancelled.write({"state": "cancelled", "result": reasons.get(reason)})
        to_run = live._check_triggers()
        # Message steps last: Odoo's mailing send may commit as it goes.
        for step, activities in sorted(
            to_run.grouped("step_id").items(),
            key=lambda item: (item[0].action_type in MESSAGE_ACTIONS, item[0].id),
        ):
            if step.action_type in MESSAGE_ACTIONS:
                results = step._execute(activities)
            else:
                try:
                    with self.env.cr.savepoint():
                        results = step._execute(activities)
                except Exception as error:  # one failing step never blocks the others
                    _logger.warning(
                        "Journey step %s failed for %s participants: %s",
                        step.id,
                        len(activities),
                        error,
                    )
                    activities.write(
                        {
                            "state": "failed",
                            "result": self.env._(
                                "Failed: %(error)s", error=str(error)[:200]
                            ),
                        }
                    )
                    continue
            for activity in activities:
                activity.result = results.get(activity.id)
            activities._schedule_children(now)
        participants._complete_finished()

    def _check_triggers(self):
        """Skip the activities whose trigger did not happen; return the others."""
        to_run = self.browse()
        skipped = {}
        for activity in self:
            trigger = activity.step_id.trigger_type
            if trigger == "after":
                to_run |= activity
                continue
            trace = activity.parent_id.trace_id
            if not trace or trace.trace_status in ("cancel", "error"):
                skipped[activity] = self.env._("The previous message was not sent.")
                continue
            if trigger in NEGATIVE_TRIGGERS and trace.trace_status == "bounce":
                skipped[activity] = self.env._("The previous message bounced.")
                continue
            event = NEGATIVE_TRIGGERS.get(trigger, trigger)
            happened = activity._event_happened(trace, event)
            if happened == (trigger in POSITIVE_TRIGGERS):
                to_run |= activity
            else:
                skipped[activity] = (
                    self.env._("Did not happen in time.")
                    if trigger in POSITIVE_TRIGGERS
                    else self.env._("It happened: this branch is not taken.")
                )
        for result, activities in (
            self.browse().union(*skipped).grouped(lambda a: skipped[a]).items()
        ):
            activities.write({"state": "skipped", "result": result})
        return to_run

    def _event_happened(self, trace, event):
        """Whether ``event`` shows on the trace by this activity's deadline."""
        self.ensure_one()
        if event == "bounced":
            return trace.trace_status == "bounce"
        if event == "opened":
            dates = [trace.open_datetime, trace.links_click_datetime]
            status = trace.trace_status in ("open", "reply")
        elif event == "clicked":
            dates, status = [trace.links_click_datetime], False
        else:
            dates = [trace.reply_datetime]
            status = trace.trace_status == "reply"
        dates = [date for date in dates if date]
        if dates:
            return min(dates) <= self.schedule_date
        return status

    def _schedule_children(self, now):
        """Schedule the next steps after these activities, each by its trigger."""
        vals_list = []
        delays = {}
        for activity in self:
            is_test = activity.participant_id.is_test
            for child in activity.step_id.child_ids:
                if (child, is_test) not in delays:
                    delays[child, is_test] = child._delay_delta(is_test)
                vals_list.append(
                    {
                        "participant_id": activity.participant_id.id,
                        "journey_id": activity.journey_id.id,
                        "step_id": child.id,
                        "parent_id": activity.id,
                        "schedule_date": now + delays[child, is_test],
                    }
                )
        return self.create(vals_list)
