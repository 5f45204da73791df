from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, create_index

END_REASONS = [
    ("done", "Went through every step"),
    ("goal", "Reached the goal"),
    ("unsubscribed", "Unsubscribed"),
    ("consent", "No consent any more"),
    ("journey_stopped", "Journey stopped"),
    ("manual", "Stopped by hand"),
    ("deleted", "Record deleted"),
]
# A test run goes through its next steps at once, at most this many rounds.
TEST_ROUNDS = 20


class CrmMarketingJourneyParticipant(models.Model):
    """One person (contact, lead or mailing contact) going through a journey."""

    _name = "crm.marketing.journey.participant"
    _description = "Journey Participant"
    _order = "id desc"
    _check_company_auto = True

    journey_id = fields.Many2one(
        "crm.marketing.journey", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="journey_id.company_id", store=True, index=True, precompute=True
    )
    res_model = fields.Char(string="Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(
        string="Record ID", model_field="res_model", required=True, readonly=True
    )
    record_name = fields.Char(string="Record", compute="_compute_record_name")
    state = fields.Selection(
        [
            ("running", "In Progress"),
            ("completed", "Completed"),
            ("stopped", "Stopped"),
        ],
        required=True,
        default="running",
        index=True,
        readonly=True,
    )
    end_reason = fields.Selection(END_REASONS, readonly=True)
    goal_reached = fields.Boolean(readonly=True)
    is_test = fields.Boolean(
        string="Test Run",
        default=False,
        required=True,
        readonly=True,
        help="Runs with every delay counted in minutes; never counts in figures.",
    )
    date_enrolled = fields.Datetime(
        string="Entered On", required=True, readonly=True, default=fields.Datetime.now
    )
    date_ended = fields.Datetime(string="Ended On", readonly=True)
    activity_ids = fields.One2many(
        "crm.marketing.journey.activity", "participant_id", string="Steps Run"
    )
    next_date = fields.Datetime(string="Next Step Due", compute="_compute_next_date")

    _sql_constraints = [
        ("res_id_set", "CHECK(res_id > 0)", "A participant is always a record.")
    ]

    def init(self):
        # Nobody enters the same journey twice, even with two workers enrolling.
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS "
                "crm_marketing_journey_participant_once_idx "
                "ON crm_marketing_journey_participant (journey_id, res_id) "
                "WHERE NOT is_test"
            )
        )
        create_index(
            self.env.cr,
            "crm_marketing_journey_participant_running_idx",
            self._table,
            ["journey_id"],
            where="state = 'running'",
        )

    def _compute_record_name(self):
        for model, participants in self.grouped("res_model").items():
            # sudo: a marketer sees who is in the journey by name, nothing else.
            records = self.env[model].sudo().browse(participants.mapped("res_id"))
            names = {record.id: record.display_name for record in records.exists()}
            for participant in participants:
                participant.record_name = names.get(
                    participant.res_id, self.env._("(deleted)")
                )

    @api.depends("record_name", "journey_id")
    def _compute_display_name(self):
        for participant in self:
            participant.display_name = (
                f"{participant.journey_id.name}: {participant.record_name}"
            )

    def _compute_next_date(self):
        groups = (
            self.env["crm.marketing.journey.activity"]
            .sudo()
            ._read_group(
                [("participant_id", "in", self.ids), ("state", "=", "scheduled")],
                ["participant_id"],
                ["schedule_date:min"],
            )
        )
        next_dates = {participant.id: date for participant, date in groups}
        for participant in self:
            participant.next_date = next_dates.get(participant.id, False)

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_stop(self):
        self.filtered(lambda p: p.state == "running")._stop("manual")
        return True

    def action_open_record(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "target": "current",
        }

    def action_run_test_now(self):
        """Test runs: bring the next steps forward to now and run them."""
        if self.filtered(lambda p: not p.is_test):
            raise UserError(
                self.env._(
                    "Only test runs can skip their waits; real participants go at "
                    "the journey's pace."
                )
            )
        self.check_access("write")
        # sudo: steps run as the system (see crm.marketing.journey.step._execute).
        participants = self.sudo()
        participants.env["crm.marketing.journey.activity"].search(
            [("participant_id", "in", participants.ids), ("state", "=", "scheduled")]
        ).write({"schedule_date": fields.Datetime.now()})
        participants._run_now()
        return True

    # ------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------

    @api.model
    def _enrol_records(self, journey, res_ids, is_test=False):
        """Create participants for ``res_ids`` and schedule the journey's first
        steps for them."""
        now = fields.Datetime.now()
        participants = self.create(
            [
                {
                    "journey_id": journey.id,
                    "res_model": journey.target_model,
                    "res_id": res_id,
                    "is_test": is_test,
                    "date_enrolled": now,
                }
                for res_id in res_ids
            ]
        )
        roots = journey.step_ids.filtered(lambda s: not s.parent_id)
        delays = {step: step._delay_delta(is_test) for step in roots}
        self.env["crm.marketing.journey.activity"].create(
            [
                {
                    "participant_id": participant.id,
                    "journey_id": journey.id,
                    "step_id": step.id,
                    "schedule_date": now + delays[step],
                }
                for participant in participants
                for step in roots
            ]
        )
        return participants

    def _run_now(self):
        """Run what is due for these participants at once (test runs)."""
        Activity = self.env["crm.marketing.journey.activity"]
        for _round in range(TEST_ROUNDS):
            if not Activity._process_due(participants=self):
                break

    def _stop(self, reason):
        """End these participants' journey for ``reason``; what was scheduled
        for them is cancelled."""
        if not self:
            return
        now = fields.Datetime.now()
        self.write(
            {
                "state": "completed" if reason in ("goal", "done") else "stopped",
                "end_reason": reason,
                "goal_reached": reason == "goal",
                "date_ended": now,
            }
        )
        label = dict(END_REASONS)[reason]
        self.env["crm.marketing.journey.activity"].sudo().search(
            [("participant_id", "in", self.ids), ("state", "=", "scheduled")]
        ).write({"state": "cancelled", "executed_date": now, "result": label})

    def _check_stops(self):
        """Stop the running participants who reached the goal, unsubscribed, no
        longer consent or whose record is gone."""
        for journey, participants in (
            self.filtered(lambda p: p.state == "running").grouped("journey_id").items()
        ):
            existing = set(
                self.env[journey.target_model]
                .sudo()
                .browse(participants.mapped("res_id"))
                .exists()
                .ids
            )
            gone = participants.filtered(lambda p, e=existing: p.res_id not in e)
            gone._stop("deleted")
            participants -= gone
            goal = journey._goal_reached_res_ids(participants)
            reached = participants.filtered(lambda p, g=goal: p.res_id in g)
            reached._stop("goal")
            participants -= reached
            refused = journey._refused_res_ids(participants.mapped("res_id"))
            for reason in ("unsubscribed", "consent"):
                participants.filtered(
                    lambda p, r=reason, f=refused: f.get(p.res_id) == r
                )._stop(reason)

    def _complete_finished(self):
        """Participants with nothing left to run have completed the journey."""
        running = self.filtered(lambda p: p.state == "running")
        if not running:
            return
        groups = (
            self.env["crm.marketing.journey.activity"]
            .sudo()
            ._read_group(
                [("participant_id", "in", running.ids), ("state", "=", "scheduled")],
                ["participant_id"],
                ["__count"],
            )
        )
        busy = {participant.id for participant, _count in groups}
        running.filtered(lambda p: p.id not in busy)._stop("done")
