import re
import uuid
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, consteq, email_normalize

PRIORITIES = [("0", "Low"), ("1", "Normal"), ("2", "High"), ("3", "Urgent")]
CHANNELS = [
    ("email", "Email"),
    ("portal", "Portal"),
    ("web", "Web Form"),
    ("phone", "Phone"),
    ("chat", "Chat"),
    ("api", "API"),
]
SLA_STATUSES = [
    ("none", "No SLA"),
    ("ongoing", "Ongoing"),
    ("met", "Met"),
    ("failed", "Failed"),
]
# "[TCK-00042]" in a subject: how replies stripped of their headers find their ticket.
SUBJECT_NUMBER = re.compile(r"\[([^\[\]\s]{3,30})\]")
# Web tickets accepted per hour from one address / one IP (ir.config_parameter).
WEB_LIMIT_EMAIL_PARAM = "crm_support.web_form_limit_per_email"
WEB_LIMIT_IP_PARAM = "crm_support.web_form_limit_per_ip"


class CrmTicket(models.Model):
    _name = "crm.ticket"
    _description = "Support Ticket"
    _inherit = [
        "portal.mixin",
        "mail.thread.cc",
        "mail.activity.mixin",
        "rating.mixin",
    ]
    _order = "priority desc, id desc"
    _primary_email = "partner_email"
    _mail_post_access = "read"
    _check_company_auto = True

    number = fields.Char(readonly=True, copy=False, index=True, default="/")
    name = fields.Char(string="Subject", required=True, tracking=True)
    description = fields.Html()
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    team_id = fields.Many2one(
        "crm.support.team",
        string="Team",
        tracking=True,
        index=True,
        check_company=True,
        group_expand="_read_group_expand_full",
    )
    stage_id = fields.Many2one(
        "crm.ticket.stage",
        string="Stage",
        tracking=True,
        index=True,
        copy=False,
        compute="_compute_stage_id",
        store=True,
        readonly=False,
        group_expand="_read_group_stage_ids",
        domain="['|', ('team_ids', '=', False), ('team_ids', 'in', team_id)]",
    )
    is_closed = fields.Boolean(related="stage_id.is_closed", store=True, index=True)
    priority = fields.Selection(PRIORITIES, default="1", tracking=True, index=True)
    category_id = fields.Many2one("crm.ticket.category", tracking=True)
    tag_ids = fields.Many2many("crm.ticket.tag", string="Tags")
    skill_ids = fields.Many2many(
        "crm.support.skill",
        string="Skills Needed",
        compute="_compute_skill_ids",
        store=True,
        readonly=False,
        groups="base.group_user",
    )
    partner_id = fields.Many2one("res.partner", string="Customer", tracking=True)
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", store=True, index=True
    )
    partner_email = fields.Char(
        string="Email",
        compute="_compute_partner_email",
        store=True,
        readonly=False,
    )
    partner_name = fields.Char(
        string="Customer Name", compute="_compute_partner_email", store=True
    )
    channel = fields.Selection(CHANNELS, required=True, default="api")
    user_id = fields.Many2one(
        "res.users",
        string="Assigned To",
        tracking=True,
        index=True,
        domain=[("share", "=", False)],
    )
    # Internal fields below carry groups: portal customers read the ticket over RPC
    # too, and see only what their portal page shows.
    routing_reason = fields.Text(readonly=True, copy=False, groups="base.group_user")
    color = fields.Integer()
    date_open = fields.Datetime(
        string="Opened On",
        default=fields.Datetime.now,
        readonly=True,
        copy=False,
        help="When the SLA clock started.",
    )
    date_first_response = fields.Datetime(readonly=True, copy=False)
    date_closed = fields.Datetime(string="Resolved On", readonly=True, copy=False)
    # SLA: deadlines in the team's working time, paused while waiting on the customer.
    sla_policy_id = fields.Many2one(
        "crm.sla.policy",
        string="SLA Policy",
        readonly=True,
        copy=False,
        groups="base.group_user",
    )
    sla_response_deadline = fields.Datetime(readonly=True, copy=False)
    sla_resolution_deadline = fields.Datetime(readonly=True, copy=False)
    sla_response_status = fields.Selection(
        SLA_STATUSES, default="none", readonly=True, copy=False
    )
    sla_resolution_status = fields.Selection(
        SLA_STATUSES, default="none", readonly=True, copy=False
    )
    sla_status = fields.Selection(
        SLA_STATUSES,
        string="SLA",
        compute="_compute_sla_status",
        store=True,
        index=True,
    )
    sla_deadline = fields.Datetime(
        string="SLA Deadline",
        compute="_compute_sla_deadline",
        store=True,
        index="btree_not_null",
        help="The next deadline still to meet.",
    )
    sla_paused_since = fields.Datetime(
        readonly=True, copy=False, groups="base.group_user"
    )
    sla_paused_hours = fields.Float(readonly=True, copy=False, groups="base.group_user")
    # Each deadline warns once and escalates once.
    sla_warned_deadline = fields.Datetime(
        readonly=True, copy=False, groups="base.group_user"
    )
    sla_escalated_deadline = fields.Datetime(
        readonly=True, copy=False, groups="base.group_user"
    )
    response_hours = fields.Float(
        string="Hours to First Response",
        readonly=True,
        copy=False,
        aggregator="avg",
        groups="base.group_user",
    )
    resolution_hours = fields.Float(
        string="Hours to Resolution",
        readonly=True,
        copy=False,
        aggregator="avg",
        groups="base.group_user",
    )
    article_ids = fields.Many2many(
        "crm.ticket.article",
        "crm_ticket_article_rel",
        "ticket_id",
        "article_id",
        string="Articles",
        groups="base.group_user",
    )
    suggested_article_ids = fields.Many2many(
        "crm.ticket.article",
        string="Suggested Articles",
        compute="_compute_suggested_article_ids",
        groups="base.group_user",
    )
    invoice_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        readonly=True,
        copy=False,
        groups="base.group_user",
    )
    invoice_count = fields.Integer(
        compute="_compute_invoice_count", groups="base.group_user"
    )
    # Public web form: who sent it, and whether the sender proved the address.
    web_sender_ip = fields.Char(
        string="Sender IP", readonly=True, copy=False, groups="base.group_user"
    )
    web_confirm_token = fields.Char(copy=False, groups="base.group_system")
    web_unconfirmed = fields.Boolean(
        string="Sender Not Confirmed",
        readonly=True,
        copy=False,
        help="Sent from the public form with the address of an existing contact: "
        "attached to them once the address confirms it.",
    )

    # ------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------

    @api.depends("number", "name")
    def _compute_display_name(self):
        # The number in every notification subject lets a reply find its ticket.
        for ticket in self:
            ticket.display_name = (
                f"[{ticket.number}] {ticket.name}"
                if ticket.number and ticket.number != "/"
                else ticket.name
            )

    @api.depends("team_id")
    def _compute_stage_id(self):
        stages = self.env["crm.ticket.stage"].search([])
        for ticket in self:
            if ticket.stage_id and (
                not ticket.stage_id.team_ids
                or ticket.team_id in ticket.stage_id.team_ids
            ):
                continue
            ticket.stage_id = stages.filtered(
                lambda s, t=ticket: not s.team_ids or t.team_id in s.team_ids
            )[:1]

    @api.depends("category_id")
    def _compute_skill_ids(self):
        for ticket in self:
            if ticket.category_id:
                ticket.skill_ids = ticket.category_id.skill_ids

    @api.depends("partner_id")
    def _compute_partner_email(self):
        for ticket in self:
            if ticket.partner_id:
                ticket.partner_email = ticket.partner_id.email
                ticket.partner_name = ticket.partner_id.name
            else:
                ticket.partner_name = ticket.partner_name or False

    @api.depends("sla_response_status", "sla_resolution_status")
    def _compute_sla_status(self):
        for ticket in self:
            statuses = {ticket.sla_response_status, ticket.sla_resolution_status}
            statuses.discard("none")
            if "failed" in statuses:
                ticket.sla_status = "failed"
            elif "ongoing" in statuses:
                ticket.sla_status = "ongoing"
            elif statuses:
                ticket.sla_status = "met"
            else:
                ticket.sla_status = "none"

    @api.depends(
        "sla_response_status",
        "sla_resolution_status",
        "sla_response_deadline",
        "sla_resolution_deadline",
    )
    def _compute_sla_deadline(self):
        for ticket in self:
            if ticket.sla_response_status == "ongoing":
                ticket.sla_deadline = ticket.sla_response_deadline
            elif ticket.sla_resolution_status == "ongoing":
                ticket.sla_deadline = ticket.sla_resolution_deadline
            else:
                ticket.sla_deadline = False

    def _compute_access_url(self):
        for ticket in self:
            ticket.access_url = f"/my/tickets/{ticket.id}"

    def _compute_invoice_count(self):
        for ticket in self:
            ticket.invoice_count = len(ticket.invoice_ids)

    def _compute_suggested_article_ids(self):
        suggestions = self.env["crm.ticket.article"]._suggest(
            {
                ticket.id: f"{ticket.name or ''} {ticket.description or ''}"
                for ticket in self
                if ticket.id
            }
        )
        for ticket in self:
            ticket.suggested_article_ids = suggestions.get(ticket.id, [])

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        team_id = self.env.context.get("default_team_id")
        search = [("team_ids", "=", False)]
        if team_id:
            search = ["|", ("team_ids", "=", False), ("team_ids", "in", [team_id])]
        return stages.search(search)

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("number", "/") == "/":
                vals["number"] = self.env["ir.sequence"].next_by_code("crm.ticket")
            context = self.env.context
            email = vals.get("partner_email") or context.get("default_partner_email")
            if (
                email
                and not vals.get("web_unconfirmed")
                and not (vals.get("partner_id") or context.get("default_partner_id"))
            ):
                # Web form, email and API tickets get their customer by email.
                vals["partner_id"] = (
                    self.env["res.partner"].sudo().find_or_create(email).id
                )
        tickets = super().create(vals_list)
        tickets._route_to_team()
        tickets._assign_agents()
        tickets.sudo()._sla_apply()
        # The customer follows: they get the agents' answers by email.
        for partner in tickets.partner_id:
            tickets.filtered(lambda t, p=partner: t.partner_id == p).message_subscribe(
                partner_ids=partner.ids
            )
        tickets._send_stage_emails()
        return tickets

    def write(self, vals):
        now = fields.Datetime.now()
        stage_change = "stage_id" in vals
        res = super().write(vals)
        if stage_change:
            self._on_stage_change(now)
        if {"team_id", "priority", "category_id", "partner_id"} & set(vals):
            self.filtered(lambda t: not t.is_closed).sudo()._sla_apply()
        if "team_id" in vals and "user_id" not in vals:
            self.filtered(lambda t: not t.user_id)._assign_agents()
        return res

    def _on_stage_change(self, now):
        """Pause, resume or stop the SLA clock; working time read once per team."""
        tickets = self.sudo()
        tickets.filtered(
            lambda t: t.stage_id.is_waiting and not t.sla_paused_since
        ).sla_paused_since = now
        resumed = tickets.filtered(
            lambda t: not t.stage_id.is_waiting and t.sla_paused_since
        )
        paused = resumed._worked_hours(lambda t: (t.sla_paused_since, now))
        for ticket in resumed:
            ticket.write(
                {
                    "sla_paused_hours": ticket.sla_paused_hours + paused[ticket],
                    "sla_paused_since": False,
                }
            )
        tickets.filtered(lambda t: not t.is_closed)._sla_apply()
        closed = tickets.filtered(lambda t: t.is_closed and not t.date_closed)
        worked = closed._worked_hours(lambda t: (t.date_open, now))
        for ticket in closed:
            values = {
                "date_closed": now,
                "resolution_hours": worked[ticket] - ticket.sla_paused_hours,
            }
            if ticket.sla_resolution_status == "ongoing":
                values["sla_resolution_status"] = (
                    "met" if now <= ticket.sla_resolution_deadline else "failed"
                )
            ticket.write(values)
        (tickets - closed).filtered(lambda t: not t.is_closed and t.date_closed).write(
            {"date_closed": False}
        )
        self._send_stage_emails()
        self._send_rating_requests()

    def _send_stage_emails(self):
        tickets = self.filtered("partner_id")
        for template in tickets.stage_id.template_id:
            tickets.filtered(
                lambda t, template=template: t.stage_id.template_id == template
            ).message_post_with_source(
                template,
                subtype_xmlid="mail.mt_comment",
                email_layout_xmlid="mail.mail_notification_light",
            )

    def _send_rating_requests(self):
        for ticket in self.filtered(
            lambda t: (
                t.stage_id.rating_template_id and t.partner_id and t.team_id.use_rating
            )
        ):
            ticket.rating_send_request(
                ticket.stage_id.rating_template_id, force_send=False
            )

    # ------------------------------------------------------------
    # Mail gateway
    # ------------------------------------------------------------

    @api.model
    def _find_by_subject(self, subject, email_from):
        """The open or closed ticket whose number a subject quotes, if the sender
        is its customer or a follower; None otherwise."""
        numbers = SUBJECT_NUMBER.findall(subject or "")
        if not numbers:
            return None
        ticket = self.sudo().search([("number", "in", numbers)], limit=1)
        if not ticket:
            return None
        known = {
            email_normalize(email)
            for email in [
                ticket.partner_email,
                *ticket.message_partner_ids.mapped("email"),
            ]
        }
        sender = email_normalize(email_from or "")
        return ticket if sender and sender in known else None

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        # A reply whose client dropped In-Reply-To/References still threads.
        existing = self._find_by_subject(
            msg_dict.get("subject"), msg_dict.get("email_from")
        )
        if existing:
            return existing.with_env(self.env)
        values = {
            "name": msg_dict.get("subject") or self.env._("(no subject)"),
            "partner_email": msg_dict.get("email_from"),
            "channel": "email",
            **(custom_values or {}),
        }
        if msg_dict.get("author_id"):
            values["partner_id"] = msg_dict["author_id"]
        return super().message_new(msg_dict, custom_values=values)

    def _message_post_after_hook(self, message, msg_vals):
        # The first answer an agent sends the customer is the first response.
        if (
            message.message_type == "comment"
            and message.subtype_id == self.env.ref("mail.mt_comment")
            and message.author_id.user_ids.filtered(lambda u: not u.share)
        ):
            self.filtered(
                lambda t: not t.date_first_response
            ).sudo()._set_first_response(message.date or fields.Datetime.now())
        elif message.message_type in ("email", "comment") and message.author_id:
            # The customer answered: a ticket waiting on them is back in the queue.
            waiting = self.filtered(
                lambda t: (
                    t.stage_id.is_waiting
                    and message.author_id.commercial_partner_id
                    == t.commercial_partner_id
                )
            )
            for ticket in waiting:
                back = ticket._stage_before_waiting()
                if back:
                    ticket.sudo().stage_id = back
        return super()._message_post_after_hook(message, msg_vals)

    def _stage_before_waiting(self):
        """The open stage just before the waiting one (e.g. In Progress)."""
        self.ensure_one()
        return self.env["crm.ticket.stage"].search(
            [
                ("is_waiting", "=", False),
                ("is_closed", "=", False),
                ("sequence", "<=", self.stage_id.sequence),
                "|",
                ("team_ids", "=", False),
                ("team_ids", "in", self.team_id.ids),
            ],
            order="sequence desc, id desc",
            limit=1,
        )

    def _worked_hours(self, span):
        """{ticket: working hours of its team in span(ticket)}, one read per team."""
        result = dict.fromkeys(self, 0.0)
        for team in self.team_id:
            tickets = self.filtered(lambda t, team=team: t.team_id == team)
            hours = team._worked_hours([span(ticket) for ticket in tickets])
            result.update(zip(tickets, hours, strict=True))
        return result

    def _set_first_response(self, when):
        worked = self._worked_hours(lambda t: (t.date_open, when))
        for ticket in self:
            values = {"date_first_response": when, "response_hours": worked[ticket]}
            if ticket.sla_response_status == "ongoing":
                values["sla_response_status"] = (
                    "met" if when <= ticket.sla_response_deadline else "failed"
                )
            ticket.write(values)

    def _rating_get_parent_field_name(self):
        return "team_id"

    def _notify_get_reply_to(self, default=None):
        # Replies go to the team's alias, so that even replies stripped of their
        # headers come back through the gateway (and find the ticket by number).
        reply_to = super()._notify_get_reply_to(default=default)
        for ticket in self.sudo().filtered(lambda t: t.team_id.alias_email):
            reply_to[ticket.id] = self._notify_get_reply_to_formatted_email(
                ticket.team_id.alias_email,
                ticket.team_id.name,
                company=ticket.company_id,
            )
        return reply_to

    # ------------------------------------------------------------
    # Routing
    # ------------------------------------------------------------

    def _route_to_team(self):
        """Teams for tickets created without one, by the first matching rule."""
        todo = self.filtered(lambda t: not t.team_id)
        if not todo:
            return
        rules = (
            self.env["crm.ticket.routing.rule"]
            .sudo()
            .search([("company_id", "in", todo.company_id.ids)])
        )
        default_teams = {}
        for ticket in todo.sudo():
            rule = next(
                (
                    r
                    for r in rules
                    if r.company_id == ticket.company_id and r._matches(ticket)
                ),
                None,
            )
            if rule:
                ticket.write(
                    {
                        "team_id": rule.team_id.id,
                        "routing_reason": self.env._(
                            "Team %(team)s by %(reason)s.",
                            team=rule.team_id.name,
                            reason=rule._reason(),
                        ),
                    }
                )
                continue
            company = ticket.company_id
            if company not in default_teams:
                default_teams[company] = (
                    self.env["crm.support.team"]
                    .sudo()
                    .search([("company_id", "=", company.id)], limit=1)
                )
            if default_teams[company]:
                ticket.write(
                    {
                        "team_id": default_teams[company].id,
                        "routing_reason": self.env._(
                            "Team %(team)s: no routing rule matched, first team.",
                            team=default_teams[company].name,
                        ),
                    }
                )

    def _assign_agents(self):
        """Agents for unassigned tickets of auto-assigning teams.

        Skills first (the most of the needed skills, then the highest levels),
        then the lightest load (open tickets weighted by priority), then in turn
        after the team's last assignee. Archived agents and agents on time off
        now are skipped. One pass per team; loads are counted once.
        """
        todo = self.filtered(lambda t: not t.user_id and t.team_id.auto_assign)
        if not todo:
            return
        by_team = defaultdict(lambda: self.env["crm.ticket"])
        for ticket in todo:
            by_team[ticket.team_id] |= ticket
        members = self.env["res.users"].union(*(team.member_ids for team in by_team))
        available = members.filtered("active") - members._crm_on_leave_now()
        skills = defaultdict(dict)
        for line in (
            self.env["crm.support.user.skill"]
            .sudo()
            .search([("user_id", "in", available.ids)])
        ):
            skills[line.user_id][line.skill_id] = int(line.level)
        load = defaultdict(int)
        for user, priority, count in (
            self.env["crm.ticket"]
            .sudo()
            ._read_group(
                [("user_id", "in", available.ids), ("is_closed", "=", False)],
                ["user_id", "priority"],
                ["__count"],
            )
        ):
            load[user] += count * (1 + int(priority or 0))
        decisions = defaultdict(lambda: self.env["crm.ticket"])
        reasons = {}
        for team, tickets in by_team.items():
            agents = (team.member_ids & available).sorted("id")
            if not agents:
                continue
            last = team.last_user_id
            for ticket in tickets.sorted(lambda t: t.priority, reverse=True):
                order = _turn_order(agents, last)

                def rank(user, ticket=ticket, order=order):
                    had = skills[user]
                    matched = [s for s in ticket.skill_ids if s in had]
                    return (
                        -len(matched),
                        -sum(had[s] for s in matched),
                        load[user],
                        order[user],
                    )

                agent = min(agents, key=rank)
                tied = agents.filtered(lambda u, a=agent: rank(u)[:3] == rank(a)[:3])
                matched = ticket.skill_ids.filtered(lambda s, a=agent: s in skills[a])
                reasons[ticket.id] = "\n".join(
                    filter(
                        None,
                        [
                            ticket.routing_reason,
                            self.env._(
                                "%(agent)s: %(skills)s; open ticket load "
                                "%(load)s%(turn)s.",
                                agent=agent.name,
                                skills=(
                                    self.env._(
                                        "skills %(names)s",
                                        names=", ".join(matched.mapped("name")),
                                    )
                                    if matched
                                    else self.env._("no specific skill asked or held")
                                ),
                                load=load[agent],
                                turn=self.env._(", next in turn")
                                if len(tied) > 1
                                else "",
                            ),
                        ],
                    )
                )
                decisions[agent] |= ticket
                load[agent] += 1 + int(ticket.priority or 0)
                last = agent
            team.sudo().last_user_id = last
        # One write per agent (tracking, followers), one statement for the reasons.
        for agent, tickets in decisions.items():
            tickets.sudo().write({"user_id": agent.id})
        if reasons:
            self.flush_model(["routing_reason"])
            self.env.execute_query(
                SQL(
                    "UPDATE crm_ticket SET routing_reason = v.reason "
                    "FROM (VALUES %s) AS v(id, reason) WHERE crm_ticket.id = v.id",
                    SQL(", ").join(SQL("(%s, %s)", i, r) for i, r in reasons.items()),
                )
            )
            self.browse(reasons).invalidate_recordset(["routing_reason"])

    # ------------------------------------------------------------
    # SLA
    # ------------------------------------------------------------

    def _sla_apply(self):
        """Pick each ticket's policy and set its deadlines, batched per team."""
        tickets = self.filtered(lambda t: t.team_id and not t.is_closed)
        if not tickets:
            return
        plans = self.env["res.partner"]._support_plans(tickets.commercial_partner_id)
        policies = self.env["crm.sla.policy"].search(
            [("company_id", "in", [False, *tickets.company_id.ids])]
        )
        requests = defaultdict(list)
        for ticket in tickets:
            policy = next(
                (
                    p
                    for p in policies
                    if p.company_id in (ticket.company_id, self.env["res.company"])
                    and p._matches(
                        ticket,
                        plans.get(ticket.commercial_partner_id.id)
                        or self.env["product.product"],
                    )
                ),
                self.env["crm.sla.policy"],
            )
            start = ticket.date_open or fields.Datetime.now()
            requests[ticket.team_id].append((ticket, policy, start))
        for team, items in requests.items():
            # Paused working hours push both deadlines back.
            asked = []
            for ticket, policy, start in items:
                asked.append((start, policy.response_hours + ticket.sla_paused_hours))
                asked.append((start, policy.resolution_hours + ticket.sla_paused_hours))
            planned = team._plan(asked)
            for index, (ticket, policy, _start) in enumerate(items):
                response, resolution = planned[2 * index : 2 * index + 2]
                values = {"sla_policy_id": policy.id}
                # A failed target stays failed when the deadline moves.
                if policy.response_hours and not ticket.date_first_response:
                    values["sla_response_deadline"] = response
                    values["sla_response_status"] = (
                        "failed"
                        if ticket.sla_response_status == "failed"
                        else "ongoing"
                    )
                elif not policy.response_hours:
                    values["sla_response_deadline"] = False
                    values["sla_response_status"] = "none"
                if policy.resolution_hours:
                    values["sla_resolution_deadline"] = resolution
                    values["sla_resolution_status"] = (
                        "failed"
                        if ticket.sla_resolution_status == "failed"
                        else "ongoing"
                    )
                else:
                    values["sla_resolution_deadline"] = False
                    values["sla_resolution_status"] = "none"
                ticket.write(values)

    @api.model
    def _cron_check_sla(self):
        """Warn before a deadline and escalate on breach, each once per deadline."""
        return self.env["crm.batch"]._run("sla_check")

    # Batch "sla_check" (crm.batch): open tickets whose deadline is near or past.

    @api.model
    def _batch_sla_check_domain(self):
        now = fields.Datetime.now()
        # sudo: the longest warning of any policy bounds the tickets to look at.
        policies = self.env["crm.sla.policy"].sudo().search([])
        horizon = max(policies.mapped("warn_hours") or [0])
        return [
            ("is_closed", "=", False),
            ("sla_paused_since", "=", False),
            ("sla_deadline", "!=", False),
            ("sla_deadline", "<=", now + timedelta(hours=horizon)),
        ]

    def _batch_sla_check_process(self):
        # Each deadline is warned and escalated once: the deadline it was done for
        # is stored, so a ticket seen again is left alone.
        now = fields.Datetime.now()
        breached = self.filtered(
            lambda t: (
                t.sla_deadline < now and t.sla_escalated_deadline != t.sla_deadline
            )
        )
        warned = (self - breached).filtered(
            lambda t: (
                t.sla_warned_deadline != t.sla_deadline
                and t.sla_deadline - timedelta(hours=t.sla_policy_id.warn_hours) <= now
            )
        )
        warned._sla_warn()
        breached._sla_escalate()

    def _sla_warn(self):
        """One activity per ticket for its assignee (emailed), created in one go."""
        if not self:
            return
        todo = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("crm.ticket")
        self.env["mail.activity"].create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": ticket.id,
                    "activity_type_id": todo.id,
                    "date_deadline": fields.Date.context_today(
                        self, ticket.sla_deadline
                    ),
                    "user_id": (
                        ticket.user_id or ticket.team_id.leader_id or self.env.user
                    ).id,
                    "summary": self.env._(
                        "SLA deadline %(when)s (UTC)",
                        when=fields.Datetime.to_string(ticket.sla_deadline),
                    ),
                }
                for ticket in self
            ]
        )
        for ticket in self:
            ticket.sla_warned_deadline = ticket.sla_deadline

    def _sla_escalate(self):
        for ticket in self:
            deadline = ticket.sla_deadline
            values = {"sla_escalated_deadline": deadline}
            if ticket.sla_response_status == "ongoing":
                values["sla_response_status"] = "failed"
                which = self.env._("first response")
            else:
                values["sla_resolution_status"] = "failed"
                which = self.env._("resolution")
            policy = ticket.sla_policy_id
            if policy.escalate_raise_priority and ticket.priority < "3":
                values["priority"] = str(int(ticket.priority) + 1)
            leader = ticket.team_id.leader_id
            if policy.escalate_reassign and leader:
                values["user_id"] = leader.id
            ticket.write(values)
            ticket.message_post(
                body=self.env._(
                    "SLA breached: the %(which)s was due %(when)s (UTC).",
                    which=which,
                    when=fields.Datetime.to_string(deadline),
                ),
                partner_ids=leader.partner_id.ids,
                subtype_xmlid="mail.mt_note",
            )

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    @api.model
    def _action_new(self, defaults):
        """The form of a new ticket, phoned in unless told otherwise."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New Ticket"),
            "res_model": "crm.ticket",
            "view_mode": "form",
            "context": {
                "default_channel": "phone",
                **{f"default_{name}": value for name, value in defaults.items()},
            },
        }

    def action_assign_to_me(self):
        self.write({"user_id": self.env.uid})

    def action_solve(self):
        """One tap to resolve: the first resolved stage of the ticket's team."""
        stages = self.env["crm.ticket.stage"].search([("is_closed", "=", True)])
        for team, tickets in self.grouped("team_id").items():
            stage = stages.filtered(
                lambda s, t=team: not s.team_ids or t in s.team_ids
            )[:1]
            if not stage:
                raise UserError(
                    self.env._(
                        "The team %(team)s has no resolved stage: add one in "
                        "Support > Configuration > Stages.",
                        team=team.display_name,
                    )
                )
            tickets.write({"stage_id": stage.id})

    # ------------------------------------------------------------
    # Public web form
    # ------------------------------------------------------------

    @api.model
    def _web_form_check_rate(self, email, ip):
        """Refuse a flood: too many web tickets from one address or one IP."""
        since = fields.Datetime.now() - timedelta(hours=1)
        param = self.env["ir.config_parameter"].sudo().get_param
        limits = (
            ("partner_email", email, int(param(WEB_LIMIT_EMAIL_PARAM, 3))),
            ("web_sender_ip", ip, int(param(WEB_LIMIT_IP_PARAM, 10))),
        )
        # sudo: counts only, across tickets the public user cannot read.
        Ticket = self.sudo().with_context(active_test=False)
        for field, value, limit in limits:
            if not value:
                continue
            recent = Ticket.search_count(
                [
                    ("channel", "=", "web"),
                    ("create_date", ">=", since),
                    (field, "=ilike", value),
                ],
                limit=limit,
            )
            if recent >= limit:
                raise UserError(
                    self.env._(
                        "We received several requests from you within the hour; "
                        "please wait a little before sending another one."
                    )
                )

    @api.model
    def _web_form_create(self, name, description, email, contact_name, ip):
        """Open a ticket from the public form; return it.

        An unknown address gets its contact at once. The address of an existing
        contact proves nothing: the ticket stays apart from them, and from their
        company's tickets, until a link sent to that address confirms it.
        """
        self._web_form_check_rate(email, ip)
        # sudo: the public user finds contacts by email only to keep them apart.
        known = (
            self.env["res.partner"]
            .sudo()
            .search([("email_normalized", "=", email)], limit=1)
        )
        vals = {
            "name": name,
            "description": description,
            "partner_email": f'"{contact_name}" <{email}>' if contact_name else email,
            "channel": "web",
            "web_sender_ip": ip,
        }
        if known:
            vals.update(web_unconfirmed=True, web_confirm_token=uuid.uuid4().hex)
        ticket = self.sudo().create(vals)
        if known:
            ticket._web_send_confirmation(email)
        return ticket

    def _web_send_confirmation(self, email):
        """Ask the address to confirm; the mail quotes nothing of the request."""
        self.ensure_one()
        template = self.env.ref("crm_support.mail_template_ticket_confirm_sender")
        template.sudo().send_mail(
            self.id,
            email_values={"email_to": email, "recipient_ids": []},
            force_send=False,
        )

    def _web_confirm(self, token):
        """Attach the ticket to the contact owning its address; True when done."""
        self.ensure_one()
        ticket = self.sudo()
        if not (
            ticket.web_unconfirmed
            and ticket.web_confirm_token
            and token
            and consteq(ticket.web_confirm_token, token)
        ):
            return False
        email = email_normalize(ticket.partner_email)
        partner = (
            self.env["res.partner"]
            .sudo()
            .search([("email_normalized", "=", email)], limit=1)
        ) or self.env["res.partner"].sudo().find_or_create(ticket.partner_email)
        ticket.write(
            {
                "partner_id": partner.id,
                "web_unconfirmed": False,
                "web_confirm_token": False,
            }
        )
        ticket.message_subscribe(partner_ids=partner.ids)
        ticket._send_stage_emails()
        return True

    def action_create_invoice(self):
        self.ensure_one()
        if not self.partner_id:
            raise UserError(
                self.env._("Set the customer of the ticket before invoicing it.")
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Invoice Support"),
            "res_model": "crm.ticket.invoice.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_ticket_id": self.id},
        }

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"default_move_type": "out_invoice"}
        return action


def _turn_order(agents, last):
    """Position of each agent in the round-robin, starting after ``last``."""
    ids = agents.ids
    start = ids.index(last.id) + 1 if last.id in ids else 0
    rotated = ids[start:] + ids[:start]
    return {agent: rotated.index(agent.id) for agent in agents}
