from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.models import MAGIC_COLUMNS
from odoo.tools import SQL, email_normalize_all, is_html_empty

from .mailing_mailing_journey import JOURNEY_BATCH_EMAILS

ACTION_TYPES = [
    ("email", "Send an email"),
    ("sms", "Send an SMS"),
    ("wait", "Wait"),
    ("tag_add", "Add a tag"),
    ("tag_remove", "Remove a tag"),
    ("engagement", "Change the engagement score"),
    ("activity", "Schedule an activity"),
    ("lead_stage", "Move the lead to a stage"),
    ("lead_assign", "Assign the lead by the assignment rules"),
    ("write", "Write a field"),
]
TRIGGER_TYPES = [
    ("after", "After the delay"),
    ("opened", "Opened within the delay"),
    ("not_opened", "Not opened within the delay"),
    ("clicked", "Clicked within the delay"),
    ("not_clicked", "Not clicked within the delay"),
    ("replied", "Replied within the delay"),
    ("not_replied", "Not replied within the delay"),
    ("bounced", "Bounced within the delay"),
]
# Triggers that fire as soon as the parent's message shows the event.
POSITIVE_TRIGGERS = ("opened", "clicked", "replied", "bounced")
# "not_x" fires at the deadline unless x happened.
NEGATIVE_TRIGGERS = {
    "not_opened": "opened",
    "not_clicked": "clicked",
    "not_replied": "replied",
}
# What an SMS can tell us: clicks on its links and bounces.
SMS_TRIGGERS = ("after", "clicked", "not_clicked", "bounced")
MESSAGE_ACTIONS = ("email", "sms")
DELAY_UNITS = [
    ("minutes", "Minutes"),
    ("hours", "Hours"),
    ("days", "Days"),
    ("weeks", "Weeks"),
]
# Actions and the targets they make sense on.
ACTION_TARGETS = {
    "tag_add": ("res.partner", "crm.lead", "mailing.contact"),
    "tag_remove": ("res.partner", "crm.lead", "mailing.contact"),
    "engagement": ("res.partner", "crm.lead"),
    "activity": ("res.partner", "crm.lead"),
    "lead_stage": ("crm.lead",),
    "lead_assign": ("crm.lead",),
}
# "Write a field" only writes plain values, never links, money, consent or state
# the system keeps.
WRITABLE_TYPES = (
    "char",
    "text",
    "boolean",
    "integer",
    "float",
    "selection",
    "date",
    "datetime",
)
PROTECTED_FIELDS = {
    *MAGIC_COLUMNS,
    "active",
    "company_id",
    "display_name",
    "email",
    "email_from",
    "email_normalized",
    "phone",
    "mobile",
    "phone_sanitized",
    "message_bounce",
    "type",
    "probability",
    "automated_probability",
}
PROTECTED_PREFIXES = (
    "privacy_",
    "crm_engagement_",
    "consent_",
    "message_",
    "activity_",
    "website_",
    "is_blacklisted",
    "churn_",
    "assignment_",
    "signup_",
)


class CrmMarketingJourneyStep(models.Model):
    """One node of a journey's tree: what to do, and when, relative to its parent."""

    _name = "crm.marketing.journey.step"
    _description = "Journey Step"
    _order = "journey_id, tree_path, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    journey_id = fields.Many2one(
        "crm.marketing.journey", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="journey_id.company_id", store=True, index=True, precompute=True
    )
    target_model = fields.Selection(related="journey_id.target_model")
    parent_id = fields.Many2one(
        "crm.marketing.journey.step",
        string="After Step",
        ondelete="cascade",
        index="btree_not_null",
        domain="[('journey_id', '=', journey_id), ('id', '!=', id)]",
        help="Leave empty for a step that starts when a person enters the journey.",
    )
    child_ids = fields.One2many("crm.marketing.journey.step", "parent_id")
    sequence = fields.Integer(default=10)
    tree_path = fields.Char(
        compute="_compute_tree_path", store=True, recursive=True, index=True
    )
    depth = fields.Integer(compute="_compute_tree_path", store=True, recursive=True)
    indented_name = fields.Char(string="Step", compute="_compute_indented_name")
    action_type = fields.Selection(
        ACTION_TYPES, string="Action", required=True, default="email"
    )
    trigger_type = fields.Selection(
        TRIGGER_TYPES, string="Trigger", required=True, default="after"
    )
    delay_number = fields.Integer(string="Delay", default=0)
    delay_unit = fields.Selection(DELAY_UNITS, required=True, default="days")
    trigger_description = fields.Char(
        string="When", compute="_compute_trigger_description"
    )
    # Send an email / an SMS: a real mailing, with footer, tracking and statistics.
    mailing_id = fields.Many2one(
        "mailing.mailing", string="Mailing", copy=False, ondelete="restrict"
    )
    mailing_subject = fields.Char(
        related="mailing_id.subject", readonly=False, string="Subject"
    )
    sms_body = fields.Text(string="SMS Text")
    # Tags
    partner_tag_id = fields.Many2one("res.partner.category", string="Contact Tag")
    lead_tag_id = fields.Many2one("crm.tag", string="Lead Tag")
    # Engagement
    points = fields.Float(
        help="Points added to the engagement score (negative to lower it)."
    )
    # Activity
    activity_type_id = fields.Many2one("mail.activity.type", string="Activity Type")
    activity_summary = fields.Char(string="Activity Summary")
    activity_days = fields.Integer(string="Due in (days)", default=0)
    activity_user_id = fields.Many2one(
        "res.users",
        string="Assigned To",
        domain=[("share", "=", False)],
        help="When the record has no salesperson; the journey's responsible otherwise.",
    )
    # Leads
    stage_id = fields.Many2one("crm.stage", string="Stage")
    assignment_rule_ids = fields.Many2many(
        "crm.assignment.rule",
        string="Assignment Rules",
        check_company=True,
        help="The rules to try, in order; empty means every rule of the company.",
    )
    # Write a field
    field_id = fields.Many2one(
        "ir.model.fields",
        string="Field",
        ondelete="cascade",
        domain="[('model', '=', target_model), ('ttype', 'in', "
        + repr(list(WRITABLE_TYPES))
        + "), ('store', '=', True), ('readonly', '=', False), "
        "('related', '=', False)]",
    )
    field_value = fields.Char(
        string="Value",
        help="Yes/No for a checkbox, the technical key of a selection, a date as "
        "2026-12-31.",
    )
    # Figures (test participants never count)
    processed_count = fields.Integer(string="Processed", compute="_compute_figures")
    waiting_count = fields.Integer(string="Waiting", compute="_compute_figures")
    sent_count = fields.Integer(string="Sent", compute="_compute_figures")
    opened_count = fields.Integer(string="Opened", compute="_compute_figures")
    clicked_count = fields.Integer(string="Clicked", compute="_compute_figures")
    replied_count = fields.Integer(string="Replied", compute="_compute_figures")
    bounced_count = fields.Integer(string="Bounced", compute="_compute_figures")
    goal_count = fields.Integer(string="Reached the Goal", compute="_compute_figures")

    # ------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------

    @api.depends("parent_id.tree_path", "sequence")
    def _compute_tree_path(self):
        for step in self:
            own_id = step._origin.id or 0
            own = f"{step.sequence:06d}.{own_id:010d}/"
            step.tree_path = (step.parent_id.tree_path or "") + own
            step.depth = step.tree_path.count("/") - 1

    @api.depends("name", "depth")
    def _compute_indented_name(self):
        for step in self:
            step.indented_name = (
                "\u2003" * (step.depth or 0)
                + ("\u21b3 " if step.depth else "")
                + (step.name or "")
            )

    @api.depends("trigger_type", "delay_number", "delay_unit", "parent_id")
    def _compute_trigger_description(self):
        for step in self:
            delay = step._delay_text()
            anchor = (
                self.env._("the previous step")
                if step.parent_id
                else self.env._("entering the journey")
            )
            if step.trigger_type == "after":
                step.trigger_description = (
                    self.env._("%(delay)s after %(anchor)s", delay=delay, anchor=anchor)
                    if step.delay_number
                    else self.env._("Right after %(anchor)s", anchor=anchor)
                )
            else:
                label = dict(TRIGGER_TYPES)[step.trigger_type].replace(
                    "within the delay", ""
                )
                step.trigger_description = self.env._(
                    "%(event)s within %(delay)s", event=label.strip(), delay=delay
                )

    def _delay_text(self):
        """The delay in words: "1 day", "3 days"."""
        self.ensure_one()
        _ = self.env._
        number = self.delay_number
        if number == 1:
            return {
                "minutes": _("1 minute"),
                "hours": _("1 hour"),
                "days": _("1 day"),
                "weeks": _("1 week"),
            }.get(self.delay_unit, "")
        return {
            "minutes": _("%(number)s minutes", number=number),
            "hours": _("%(number)s hours", number=number),
            "days": _("%(number)s days", number=number),
            "weeks": _("%(number)s weeks", number=number),
        }.get(self.delay_unit, "")

    def _compute_figures(self):
        figures = self._message_figures(step_ids=self.ids) if self.ids else {}
        for step in self:
            row = figures.get(step.id, {})
            step.processed_count = row.get("processed", 0)
            step.waiting_count = row.get("waiting", 0)
            step.sent_count = row.get("sent", 0)
            step.opened_count = row.get("opened", 0)
            step.clicked_count = row.get("clicked", 0)
            step.replied_count = row.get("replied", 0)
            step.bounced_count = row.get("bounced", 0)
            step.goal_count = row.get("goal", 0)

    @api.model
    def _message_figures(self, step_ids=None, journey_ids=None):
        """{step or journey id: {figure: count}} of real participants, in one query."""
        self.env["crm.marketing.journey.activity"].flush_model()
        self.env["crm.marketing.journey.participant"].flush_model()
        self.env["mailing.trace"].flush_model()
        key = SQL("a.step_id") if step_ids is not None else SQL("a.journey_id")
        ids = step_ids if step_ids is not None else journey_ids
        rows = self.env.execute_query_dict(
            SQL(
                """
            SELECT %(key)s AS key,
                   COUNT(*) FILTER (WHERE a.state = 'done') AS processed,
                   COUNT(*) FILTER (WHERE a.state = 'scheduled') AS waiting,
                   COUNT(t.id) FILTER (
                       WHERE t.trace_status IN ('pending', 'sent', 'open', 'reply',
                                                'bounce')) AS sent,
                   COUNT(t.id) FILTER (
                       WHERE t.open_datetime IS NOT NULL
                          OR t.trace_status IN ('open', 'reply')
                          OR t.links_click_datetime IS NOT NULL) AS opened,
                   COUNT(t.id) FILTER (
                       WHERE t.links_click_datetime IS NOT NULL) AS clicked,
                   COUNT(t.id) FILTER (
                       WHERE t.reply_datetime IS NOT NULL
                          OR t.trace_status = 'reply') AS replied,
                   COUNT(t.id) FILTER (WHERE t.trace_status = 'bounce') AS bounced,
                   COUNT(*) FILTER (WHERE a.state = 'done' AND p.goal_reached) AS goal
              FROM crm_marketing_journey_activity a
              JOIN crm_marketing_journey_participant p
                ON p.id = a.participant_id AND NOT p.is_test
         LEFT JOIN mailing_trace t ON t.id = a.trace_id
             WHERE %(key)s IN %(ids)s
          GROUP BY %(key)s
            """,
                key=key,
                ids=tuple(ids) or (0,),
            )
        )
        return {row.pop("key"): row for row in rows}

    # ------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------

    @api.constrains("parent_id", "journey_id")
    def _check_parent(self):
        if self._has_cycle():
            raise ValidationError(
                self.env._("A step cannot come after itself; pick another parent.")
            )
        for step in self.filtered("parent_id"):
            if step.parent_id.journey_id != step.journey_id:
                raise ValidationError(
                    self.env._(
                        "Step “%(step)s” follows a step of another journey; pick a "
                        "step of the same journey.",
                        step=step.name,
                    )
                )

    @api.constrains("trigger_type", "parent_id", "delay_number", "action_type")
    def _check_trigger(self):
        triggers = dict(TRIGGER_TYPES)
        for step in self:
            if step.delay_number < 0:
                raise ValidationError(
                    self.env._(
                        "Step “%(step)s”: a delay cannot be negative.", step=step.name
                    )
                )
            if step.trigger_type == "after":
                continue
            parent_action = step.parent_id.action_type
            allowed = (
                dict(TRIGGER_TYPES)
                if parent_action == "email"
                else SMS_TRIGGERS
                if parent_action == "sms"
                else ()
            )
            if step.trigger_type not in allowed:
                raise ValidationError(
                    self.env._(
                        "Step “%(step)s”: “%(trigger)s” needs a previous step that "
                        "sends an email (or an SMS, for clicks and bounces); use "
                        "“After the delay” here.",
                        step=step.name,
                        trigger=triggers[step.trigger_type],
                    )
                )
            if not step.delay_number:
                raise ValidationError(
                    self.env._(
                        "Step “%(step)s”: say within how long the person must react "
                        "(a delay above zero).",
                        step=step.name,
                    )
                )

    @api.constrains("action_type", "journey_id")
    def _check_action_target(self):
        targets = dict(
            self.env["crm.marketing.journey"]._fields["target_model"].selection
        )
        actions = dict(ACTION_TYPES)
        for step in self:
            allowed = ACTION_TARGETS.get(step.action_type)
            if allowed and step.target_model not in allowed:
                raise ValidationError(
                    self.env._(
                        "Step “%(step)s”: “%(action)s” does not apply to %(target)s.",
                        step=step.name,
                        action=actions[step.action_type],
                        target=targets[step.target_model],
                    )
                )

    @api.constrains("field_id", "field_value", "action_type")
    def _check_field_write(self):
        for step in self.filtered(lambda s: s.action_type == "write" and s.field_id):
            Target = self.env[step.target_model]
            name = step.field_id.name
            if step.field_id.model != step.target_model or not self._is_writable_field(
                Target, name
            ):
                raise ValidationError(
                    self.env._(
                        "Step “%(step)s”: the field %(field)s cannot be written by a "
                        "journey. Pick a plain field (text, number, date, checkbox, "
                        "choice) that is not a link to other records, an amount, a "
                        "consent or something the system keeps.",
                        step=step.name,
                        field=step.field_id.field_description,
                    )
                )
            step._field_typed_value()

    @api.model
    def _is_writable_field(self, model, name):
        field = model._fields.get(name)
        return bool(
            field
            and field.type in WRITABLE_TYPES
            and field.store
            and not field.readonly
            and not field.related
            and not field.groups
            and name not in PROTECTED_FIELDS
            and not name.startswith(PROTECTED_PREFIXES)
        )

    def _field_typed_value(self):
        """The step's value as the field's type, or a ValidationError saying how to
        write it."""
        self.ensure_one()
        field = self.env[self.target_model]._fields[self.field_id.name]
        raw = (self.field_value or "").strip()
        try:
            if field.type == "boolean":
                lowered = raw.lower()
                if lowered not in ("1", "0", "true", "false", "yes", "no", ""):
                    raise ValueError(raw)
                return lowered in ("1", "true", "yes")
            if not raw:
                return False
            if field.type == "integer":
                return int(raw)
            if field.type == "float":
                return float(raw)
            if field.type == "date":
                return fields.Date.to_date(raw)
            if field.type == "datetime":
                return fields.Datetime.to_datetime(raw)
            if field.type == "selection":
                keys = [key for key, _l in field._description_selection(self.env)]
                if raw not in keys:
                    raise ValueError(raw)
            return raw
        except ValueError as error:
            raise ValidationError(
                self.env._(
                    "Step “%(step)s”: “%(value)s” is not a valid value for "
                    "%(field)s. %(hint)s",
                    step=self.name,
                    value=raw,
                    field=self.field_id.field_description,
                    hint=self._fields["field_value"].help,
                )
            ) from error

    def _check_ready(self):
        """Everything a step needs to run, checked when its journey starts."""
        for step in self:
            missing = {
                "email": not step.mailing_id
                or not step.mailing_id.subject
                or is_html_empty(
                    step.mailing_id.body_arch or step.mailing_id.body_html
                ),
                "sms": not (step.sms_body or "").strip(),
                "tag_add": not (step.partner_tag_id or step.lead_tag_id),
                "tag_remove": not (step.partner_tag_id or step.lead_tag_id),
                "engagement": not step.points,
                "activity": not step.activity_type_id,
                "lead_stage": not step.stage_id,
                "write": not step.field_id,
            }.get(step.action_type)
            if missing:
                raise UserError(
                    self.env._(
                        "Step “%(step)s” is not ready: complete its %(what)s before "
                        "starting the journey.",
                        step=step.name,
                        what={
                            "email": self.env._("email (subject and content)"),
                            "sms": self.env._("SMS text"),
                            "tag_add": self.env._("tag"),
                            "tag_remove": self.env._("tag"),
                            "engagement": self.env._("points"),
                            "activity": self.env._("activity type"),
                            "lead_stage": self.env._("stage"),
                            "write": self.env._("field and value"),
                        }[step.action_type],
                    )
                )

    # ------------------------------------------------------------
    # CRUD: each message step owns its mailing
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        steps = super().create(vals_list)
        steps._sync_mailings()
        return steps

    def write(self, vals):
        res = super().write(vals)
        if {"action_type", "sms_body", "name", "journey_id"} & set(vals):
            self._sync_mailings()
        return res

    def _mailing_values(self):
        self.ensure_one()
        journey = self.journey_id
        model = (
            "mailing.list"
            if journey.target_model == "mailing.contact"
            else journey.target_model
        )
        vals = {
            "subject": self.name,
            "mailing_type": "mail" if self.action_type == "email" else "sms",
            "mailing_model_id": self.env["ir.model"]._get_id(model),
            # Only the journey sends it, to the people it names.
            "mailing_domain": "[('id', 'in', [])]",
            "campaign_id": journey.campaign_id.id,
            "contact_list_ids": [Command.set(journey.mailing_list_ids.ids)],
            "user_id": journey.user_id.id or self.env.uid,
        }
        Mailing = self.env["mailing.mailing"]
        if "crm_consent_purpose_id" in Mailing._fields and (
            self.action_type == "email" and journey.consent_purpose_id
        ):
            vals["crm_consent_purpose_id"] = journey.consent_purpose_id.id
        if self.action_type == "sms":
            vals["body_plaintext"] = self.sms_body or ""
        return vals

    def _sync_mailing_settings(self):
        """Keep the mailings in line with their journey's lists and purpose."""
        for step in self.filtered("mailing_id"):
            vals = step._mailing_values()
            step.mailing_id.write(
                {
                    name: vals[name]
                    for name in (
                        "contact_list_ids",
                        # Written with the lists, which would reset it otherwise.
                        "mailing_domain",
                        "crm_consent_purpose_id",
                        "user_id",
                    )
                    if name in vals
                }
            )

    def _sync_mailings(self):
        """Create the mailing of each message step; keep SMS texts in it."""
        to_create = self.filtered(
            lambda s: s.action_type in MESSAGE_ACTIONS and not s.mailing_id
        )
        if to_create:
            mailings = self.env["mailing.mailing"].create(
                [step._mailing_values() for step in to_create]
            )
            for step, mailing in zip(to_create, mailings, strict=True):
                step.mailing_id = mailing
        for step in self - to_create:
            if step.action_type == "sms" and step.mailing_id:
                if step.mailing_id.body_plaintext != (step.sms_body or ""):
                    step.mailing_id.body_plaintext = step.sms_body or ""
            expected = "mail" if step.action_type == "email" else "sms"
            if (
                step.action_type in MESSAGE_ACTIONS
                and step.mailing_id.mailing_type != expected
            ):
                # A step turned from email to SMS (or back) gets a fresh mailing.
                step.mailing_id = self.env["mailing.mailing"].create(
                    step._mailing_values()
                )

    def _copy_tree(self, journey):
        """Copy these steps (a whole tree) into ``journey``, parents first, each
        message step with a copy of its mailing."""
        mapping = {}
        for depth in sorted(set(self.mapped("depth"))):
            steps = self.filtered(lambda s, d=depth: s.depth == d)
            vals_list = steps.copy_data()
            for step, vals in zip(steps, vals_list, strict=True):
                vals["journey_id"] = journey.id
                vals["parent_id"] = (
                    mapping[step.parent_id].id if step.parent_id else False
                )
            with_mailing = steps.filtered("mailing_id")
            mailings = with_mailing.mailing_id.copy(
                {"campaign_id": journey.campaign_id.id}
            )
            mailing_of = dict(zip(with_mailing, mailings, strict=True))
            for step, vals in zip(steps, vals_list, strict=True):
                if step in mailing_of:
                    vals["mailing_id"] = mailing_of[step].id
            mapping.update(zip(steps, self.create(vals_list), strict=True))
        return self.browse(step.id for step in mapping.values())

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_open_mailing(self):
        self.ensure_one()
        if not self.mailing_id:
            self._sync_mailings()
        return {
            "type": "ir.actions.act_window",
            "res_model": "mailing.mailing",
            "res_id": self.mailing_id.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_view_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_marketing.crm_marketing_journey_activity_action"
        )
        action["domain"] = [("step_id", "=", self.id)]
        return action

    def action_add_child(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Next Step"),
            "res_model": "crm.marketing.journey.step",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_journey_id": self.journey_id.id,
                "default_parent_id": self.id,
            },
        }

    # ------------------------------------------------------------
    # Execution
    # ------------------------------------------------------------

    def _delay_delta(self, is_test=False):
        """How long after its parent (or the entry) the step is due; a test run
        counts every unit as one minute."""
        self.ensure_one()
        if is_test:
            return timedelta(minutes=self.delay_number)
        return relativedelta(**{self.delay_unit: self.delay_number})

    def _execute(self, activities):
        """Run this step for ``activities``; return {activity id: result text}."""
        self.ensure_one()
        # sudo: the journey acts on its whole audience, built by a marketer who
        # may not read every record it reaches; what it does is this step only.
        records = (
            self.env[self.target_model]
            .sudo()
            .browse(dict.fromkeys(activities.mapped("participant_id.res_id")))
        )
        return getattr(self, f"_execute_{self.action_type}")(activities, records)

    def _execute_email(self, activities, records):
        # sudo: the system sends the journey's mailing to the participants due.
        mailing = self.mailing_id.sudo()
        Trace = self.env["mailing.trace"].sudo()
        Trace.flush_model()
        last_trace = self.env.execute_query(
            SQL(
                "SELECT COALESCE(MAX(id), 0) FROM mailing_trace "
                "WHERE mass_mailing_id = %s",
                mailing.id,
            )
        )[0][0]
        if self.action_type == "email":
            # Only this batch's addresses can have been reached already.
            field = records._mail_get_primary_email_field()
            emails = {
                email
                for value in records.mapped(field)
                for email in email_normalize_all(value)
            }
            mailing = mailing.with_context(**{JOURNEY_BATCH_EMAILS: sorted(emails)})
        mailing.action_send_mail(records.ids)
        Trace.flush_model()
        trace_of = dict(
            self.env.execute_query(
                SQL(
                    """
            SELECT res_id, MAX(id) FROM mailing_trace
             WHERE mass_mailing_id = %s AND id > %s AND model = %s AND res_id IN %s
          GROUP BY res_id
            """,
                    mailing.id,
                    last_trace,
                    mailing.mailing_model_real,
                    tuple(records.ids),
                )
            )
        )
        traces = Trace.browse(trace_of.values())
        by_id = {trace.id: trace for trace in traces}
        failures = dict(Trace._fields["failure_type"]._description_selection(self.env))
        results = {}
        for activity in activities:
            trace = by_id.get(trace_of.get(activity.participant_id.res_id))
            activity.trace_id = trace
            if not trace:
                results[activity.id] = self.env._("Not sent: no message was created.")
            elif trace.trace_status in ("cancel", "error"):
                results[activity.id] = self.env._(
                    "Not sent: %(reason)s.",
                    reason=failures.get(trace.failure_type)
                    or trace.failure_type
                    or trace.trace_status,
                )
            else:
                results[activity.id] = (
                    self.env._("Email sent.")
                    if self.action_type == "email"
                    else self.env._("SMS sent.")
                )
        return results

    _execute_sms = _execute_email

    def _execute_wait(self, activities, records):
        return dict.fromkeys(activities.ids, self.env._("Waited."))

    def _tag_command(self, records):
        if self.target_model == "crm.lead":
            return "tag_ids", self.lead_tag_id
        field = "category_id" if self.target_model == "res.partner" else "tag_ids"
        return field, self.partner_tag_id

    def _execute_tag_add(self, activities, records):
        field, tag = self._tag_command(records)
        records.write({field: [Command.link(tag.id)]})
        return dict.fromkeys(
            activities.ids, self.env._("Tagged %(tag)s.", tag=tag.display_name)
        )

    def _execute_tag_remove(self, activities, records):
        field, tag = self._tag_command(records)
        records.write({field: [Command.unlink(tag.id)]})
        return dict.fromkeys(
            activities.ids, self.env._("Untagged %(tag)s.", tag=tag.display_name)
        )

    def _execute_engagement(self, activities, records):
        # sudo: the engagement ledger is written by the system's own flows; it
        # updates the scores of the records it touches.
        Event = self.env["crm.marketing.engagement.event"].sudo()
        now = fields.Datetime.now()
        Event._record(
            [
                {
                    "model": self.target_model,
                    "res_id": activity.participant_id.res_id,
                    "event_type": "journey",
                    "date": now,
                    "description": self.env._(
                        "Journey %(journey)s: %(step)s",
                        journey=self.journey_id.name,
                        step=self.name,
                    ),
                    "points": self.points,
                    "source_ref": f"{activity._name},{activity.id}",
                }
                for activity in activities
            ]
        )
        return dict.fromkeys(
            activities.ids,
            self.env._("Engagement %(points)+g points.", points=self.points),
        )

    def _execute_activity(self, activities, records):
        deadline = fields.Date.context_today(self) + timedelta(days=self.activity_days)
        model_id = self.env["ir.model"]._get_id(self.target_model)
        fallback = self.activity_user_id or self.journey_id.user_id or self.env.user
        owners = {}
        for record in records:
            owner = record.user_id if "user_id" in record._fields else False
            owners[record.id] = owner if owner and not owner.share else fallback
        # sudo: activities are scheduled for salespeople the marketer may not see.
        self.env["mail.activity"].sudo().create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": record.id,
                    "activity_type_id": self.activity_type_id.id,
                    "summary": self.activity_summary or self.name,
                    "date_deadline": deadline,
                    "user_id": owners[record.id].id,
                }
                for record in records
            ]
        )
        return {
            activity.id: self.env._(
                "Activity scheduled for %(user)s.",
                user=owners[activity.participant_id.res_id].name,
            )
            for activity in activities
        }

    def _execute_lead_stage(self, activities, records):
        records.filtered(lambda lead: lead.active).write({"stage_id": self.stage_id.id})
        return dict.fromkeys(
            activities.ids,
            self.env._("Moved to %(stage)s.", stage=self.stage_id.name),
        )

    def _execute_lead_assign(self, activities, records):
        Rule = self.env["crm.assignment.rule"].sudo()
        rules = self.assignment_rule_ids.sudo() or Rule.search(
            [("company_id", "=", self.company_id.id)]
        )
        owner_before = {lead.id: lead.user_id for lead in records}
        unplaced = Rule._assign_leads(records, rules)
        results = {}
        for activity in activities:
            lead = records.browse(activity.participant_id.res_id)
            if owner_before[lead.id]:
                results[activity.id] = self.env._(
                    "Already assigned to %(user)s.", user=owner_before[lead.id].name
                )
            elif lead in unplaced or not lead.user_id:
                results[activity.id] = self.env._("No rule placed the lead.")
            else:
                results[activity.id] = self.env._(
                    "Assigned to %(user)s.", user=lead.user_id.name
                )
        return results

    def _execute_write(self, activities, records):
        if not self._is_writable_field(records, self.field_id.name):
            raise UserError(
                self.env._(
                    "The field %(field)s cannot be written by a journey.",
                    field=self.field_id.field_description,
                )
            )
        records.write({self.field_id.name: self._field_typed_value()})
        return dict.fromkeys(
            activities.ids,
            self.env._(
                "%(field)s set to %(value)s.",
                field=self.field_id.field_description,
                value=self.field_value or "-",
            ),
        )
