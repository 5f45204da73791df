from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL, split_every
from odoo.tools.safe_eval import safe_eval

DISTRIBUTIONS = [
    ("round_robin", "Round-robin"),
    ("least_loaded", "Least loaded"),
    ("weighted", "Weighted by capacity"),
]


class CrmAssignmentRule(models.Model):
    _name = "crm.assignment.rule"
    _description = "Lead Assignment Rule"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", required=True, check_company=True
    )
    member_ids = fields.Many2many(
        "res.users",
        string="Salespeople",
        domain="[('crm_team_ids', 'in', team_id)]",
        help="Who may receive the leads; empty means every member of the team.",
    )
    distribution = fields.Selection(DISTRIBUTIONS, required=True, default="round_robin")
    # Criteria: a lead matches when it meets every criterion that is set.
    country_ids = fields.Many2many("res.country", string="Countries")
    state_ids = fields.Many2many("res.country.state", string="States")
    zip_from = fields.Char(string="Zip From")
    zip_to = fields.Char(string="Zip To")
    industry_ids = fields.Many2many("res.partner.industry", string="Industries")
    revenue_min = fields.Float(string="Expected Revenue From")
    revenue_max = fields.Float(
        string="Expected Revenue To", help="Leave 0 for no upper limit."
    )
    employees_min = fields.Integer(string="Employees From")
    employees_max = fields.Integer(
        string="Employees To", help="Leave 0 for no upper limit."
    )
    source_ids = fields.Many2many("utm.source", string="Sources")
    medium_ids = fields.Many2many("utm.medium", string="Mediums")
    campaign_ids = fields.Many2many("utm.campaign", string="Campaigns")
    lang_ids = fields.Many2many("res.lang", string="Languages")
    domain = fields.Char(string="Other Conditions", default="[]")
    # Round-robin pointer: the next lead goes to the member after this one.
    last_user_id = fields.Many2one("res.users", readonly=True, copy=False)

    @api.constrains(
        "revenue_min",
        "revenue_max",
        "employees_min",
        "employees_max",
        "zip_from",
        "zip_to",
    )
    def _check_ranges(self):
        for rule in self:
            if rule.revenue_min < 0 or rule.revenue_max < 0:
                raise ValidationError(
                    self.env._(
                        "Rule “%(rule)s”: revenues cannot be negative.", rule=rule.name
                    )
                )
            if rule.revenue_max and rule.revenue_min > rule.revenue_max:
                raise ValidationError(
                    self.env._(
                        "Rule “%(rule)s”: the expected revenue range starts above its "
                        "end; swap the two amounts or leave the end at 0 for no limit.",
                        rule=rule.name,
                    )
                )
            if rule.employees_min < 0 or rule.employees_max < 0:
                raise ValidationError(
                    self.env._(
                        "Rule “%(rule)s”: a number of employees cannot be negative.",
                        rule=rule.name,
                    )
                )
            if rule.employees_max and rule.employees_min > rule.employees_max:
                raise ValidationError(
                    self.env._(
                        "Rule “%(rule)s”: the company size range starts above its "
                        "end; swap the two numbers or leave the end at 0 for no limit.",
                        rule=rule.name,
                    )
                )
            if rule.zip_from and rule.zip_to and rule.zip_from > rule.zip_to:
                raise ValidationError(
                    self.env._(
                        "Rule “%(rule)s”: the zip range %(start)s to %(end)s is empty; "
                        "swap the two codes.",
                        rule=rule.name,
                        start=rule.zip_from,
                        end=rule.zip_to,
                    )
                )

    @api.constrains("team_id", "member_ids", "active")
    def _check_members(self):
        for rule in self.filtered("active"):
            team_users = rule.team_id.crm_team_member_ids.user_id
            if not team_users:
                raise ValidationError(
                    self.env._(
                        "Rule “%(rule)s”: the team %(team)s has no member; add "
                        "salespeople to the team first.",
                        rule=rule.name,
                        team=rule.team_id.name,
                    )
                )
            if outsiders := rule.member_ids - team_users:
                raise ValidationError(
                    self.env._(
                        "Rule “%(rule)s”: %(users)s not in the team %(team)s.",
                        rule=rule.name,
                        users=", ".join(outsiders.mapped("name")),
                        team=rule.team_id.name,
                    )
                )

    @api.constrains("domain")
    def _check_domain(self):
        for rule in self:
            try:
                self.env["crm.lead"].search_count(rule._lead_domain(), limit=1)
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "Rule “%(rule)s”: the other conditions are not a valid filter "
                        "on leads (%(error)s).",
                        rule=rule.name,
                        error=error,
                    )
                ) from error

    # ------------------------------------------------------------
    # Matching
    # ------------------------------------------------------------

    def _lead_domain(self):
        """The rule's criteria as a domain on crm.lead."""
        self.ensure_one()
        domain = [("company_id", "in", [False, self.company_id.id])]
        domain += safe_eval(self.domain or "[]")
        for field, values in (
            ("country_id", self.country_ids),
            ("state_id", self.state_ids),
            ("partner_id.industry_id", self.industry_ids),
            ("source_id", self.source_ids),
            ("medium_id", self.medium_ids),
            ("campaign_id", self.campaign_ids),
            ("lang_id", self.lang_ids),
        ):
            if values:
                domain.append((field, "in", values.ids))
        if self.zip_from:
            domain.append(("zip", ">=", self.zip_from))
        if self.zip_to:
            domain.append(("zip", "<=", self.zip_to))
        if self.revenue_min:
            domain.append(("expected_revenue", ">=", self.revenue_min))
        if self.revenue_max:
            domain.append(("expected_revenue", "<=", self.revenue_max))
        if self.employees_min:
            domain.append(("employee_count", ">=", self.employees_min))
        if self.employees_max:
            domain.append(("employee_count", "<=", self.employees_max))
        return domain

    def _criteria_description(self):
        self.ensure_one()
        parts = [
            "{}: {}".format(
                self._fields[name].string, ", ".join(self[name].mapped("display_name"))
            )
            for name in (
                "country_ids",
                "state_ids",
                "industry_ids",
                "source_ids",
                "medium_ids",
                "campaign_ids",
                "lang_ids",
            )
            if self[name]
        ]
        if self.zip_from or self.zip_to:
            parts.append(f"zip {self.zip_from or '…'} to {self.zip_to or '…'}")
        if self.revenue_min or self.revenue_max:
            upper = f"{self.revenue_max:g}" if self.revenue_max else "…"
            parts.append(f"expected revenue {self.revenue_min:g} to {upper}")
        if self.employees_min or self.employees_max:
            upper = self.employees_max or "…"
            parts.append(f"{self.employees_min} to {upper} employees")
        if self.domain and self.domain.strip() not in ("", "[]"):
            parts.append(self.env._("other conditions %(domain)s", domain=self.domain))
        return "; ".join(parts) or self.env._("any lead")

    # ------------------------------------------------------------
    # Distribution
    # ------------------------------------------------------------

    def _available_members(self):
        """Users who may get a lead now, with what is left of their capacity.

        Returns {user: remaining capacity over 30 days}, ordered by user id.
        Members opted out, archived or on leave right now are left out.
        """
        self.ensure_one()
        team_members = self.team_id.crm_team_member_ids.filtered(
            lambda m: not m.assignment_optout and m.user_id.active
        )
        if self.member_ids:
            team_members = team_members.filtered(lambda m: m.user_id in self.member_ids)
        users = team_members.user_id
        now = fields.Datetime.now()
        on_leave = users._crm_on_leave_now()
        assigned = dict(
            self.env["crm.lead"]
            .with_context(active_test=False)
            .sudo()
            ._read_group(
                [
                    ("team_id", "=", self.team_id.id),
                    ("user_id", "in", users.ids),
                    ("date_open", ">=", now - timedelta(days=30)),
                ],
                ["user_id"],
                ["__count"],
            )
        )
        return {
            member.user_id: member.assignment_max - assigned.get(member.user_id, 0)
            for member in team_members.sorted(lambda m: m.user_id.id)
            if member.user_id not in on_leave
        }

    def _open_load(self, users):
        """Open leads of each user, weighted by priority (a 3-star lead weighs 4)."""
        groups = (
            self.env["crm.lead"]
            .sudo()
            ._read_group(
                [("user_id", "in", users.ids), ("probability", "<", 100)],
                ["user_id", "priority"],
                ["__count"],
            )
        )
        load = defaultdict(int)
        for user, priority, count in groups:
            load[user] += count * (1 + int(priority or 0))
        return load

    def _distribute(self, leads):
        """Choose a salesperson for each lead; returns {lead: (user, reason)}."""
        self.ensure_one()
        capacity = self._available_members()
        users = [user for user, left in capacity.items() if left > 0]
        if not users:
            return {}
        result = {}
        given = defaultdict(int)
        if self.distribution == "round_robin":
            after = [u for u in users if u.id > self.last_user_id.id]
            order = after + [u for u in users if u not in after]
            turn = 0
            for lead in leads:
                for _attempt in range(len(order)):
                    user = order[turn % len(order)]
                    turn += 1
                    if given[user] < capacity[user]:
                        break
                else:
                    break  # everybody is full
                given[user] += 1
                result[lead] = (user, self.env._("next in the round-robin"))
            if result:
                self.last_user_id = list(result.values())[-1][0]
        elif self.distribution == "least_loaded":
            load = self._open_load(self.env["res.users"].union(*users))
            for lead in leads.sorted(lambda lead: lead.priority, reverse=True):
                candidates = [u for u in users if given[u] < capacity[u]]
                if not candidates:
                    break
                user = min(candidates, key=lambda u: (load[u], u.id))
                # One reason per salesperson keeps the writes grouped.
                result[lead] = (
                    user,
                    self.env._("fewest open leads weighted by priority"),
                )
                load[user] += 1 + int(lead.priority or 0)
                given[user] += 1
        else:  # weighted: the largest share of capacity still free gets the lead
            for lead in leads:
                candidates = [u for u in users if given[u] < capacity[u]]
                if not candidates:
                    break
                user = max(
                    candidates,
                    key=lambda u: ((capacity[u] - given[u]) / capacity[u], -u.id),
                )
                given[user] += 1
                result[lead] = (
                    user,
                    self.env._(
                        "largest share of free capacity (%(capacity)s leads a month)",
                        capacity=capacity[user],
                    ),
                )
        self._claim_capacity({user for user, _reason in result.values()})
        return result

    def _claim_capacity(self, users):
        """Two transactions placing leads with the same salesperson at once each
        count the capacity left in their own snapshot: both could give the last
        place. Each updates the salesperson's membership row, so the second one
        fails to serialize and is retried (a request) or comes back (the cron),
        then counting the first one's leads."""
        if not users:
            return
        members = self.team_id.crm_team_member_ids.filtered(
            lambda member: member.user_id in users
        )
        self.env.execute_query(
            SQL(
                "UPDATE crm_team_member SET write_date = write_date WHERE id = ANY(%s)",
                members.ids,
            )
        )

    # ------------------------------------------------------------
    # Assignment
    # ------------------------------------------------------------

    @api.model
    def _lock_unassigned(self, lead_ids):
        """Lock the leads still unassigned; leads another worker holds are skipped.

        This is what makes two workers (the real-time hook and the cron, or two
        crons) never assign the same lead twice.
        """
        if not lead_ids:
            return self.env["crm.lead"]
        self.env["crm.lead"].flush_model(["user_id", "partner_id"])
        self.env["res.partner"].flush_model(["privacy_restricted"])
        # People who restricted processing are not routed until it is lifted.
        rows = self.env.execute_query(
            SQL(
                """
            SELECT id FROM crm_lead
             WHERE id IN %s AND user_id IS NULL AND active
               AND (partner_id IS NULL OR partner_id NOT IN (
                    SELECT id FROM res_partner WHERE privacy_restricted))
               FOR UPDATE SKIP LOCKED
            """,
                tuple(lead_ids),
            )
        )
        return self.env["crm.lead"].browse(row[0] for row in rows)

    @api.model
    def _assign_leads(self, leads, rules=None):
        """Give each unassigned lead to a salesperson by the first rule it matches.

        Without ``rules``, the active rules of the companies the user works in.
        Returns the leads no rule could place.
        """
        if rules is None:
            rules = self.search([("company_id", "in", self.env.companies.ids)])
        self = self.sudo()
        leads = self._lock_unassigned(leads.ids).sudo()
        for rule in rules.sudo():
            if not leads:
                break
            matched = leads.search([("id", "in", leads.ids), *rule._lead_domain()])
            decisions = rule._distribute(matched)
            by_owner = defaultdict(lambda: self.env["crm.lead"])
            for lead, (user, reason) in decisions.items():
                by_owner[user, reason] |= lead
            criteria = rule._criteria_description()
            for (user, reason), owned in by_owner.items():
                owned.write(
                    {
                        "team_id": rule.team_id.id,
                        "user_id": user.id,
                        "assignment_rule_id": rule.id,
                        "assignment_reason": self.env._(
                            "Rule “%(rule)s” (%(criteria)s) sent it to %(team)s; "
                            "%(user)s: %(reason)s.",
                            rule=rule.name,
                            criteria=criteria,
                            team=rule.team_id.name,
                            user=user.name,
                            reason=reason,
                        ),
                    }
                )
            leads -= self.env["crm.lead"].union(*decisions)
        return leads

    def action_assign_backlog(self):
        """Assign the open leads nobody owns yet, in batches, in the companies the
        manager works in."""
        # The button is a manager's; RPC reaches this method without the view.
        if not self.env.user.has_group("crm_core.group_crm_manager"):
            raise AccessError(
                self.env._("Only a CRM manager can assign the backlog of leads.")
            )
        unassigned = self._assign_backlog(companies=self.env.companies)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if not unassigned else "warning",
                "message": self.env._(
                    "Backlog assigned; %(count)s lead(s) matched no rule or found "
                    "nobody with capacity.",
                    count=unassigned,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    @api.model
    def _assign_backlog(self, batch_size=1000, companies=None):
        """Assign unowned open leads, of ``companies`` when given (else all)."""
        company_domain = (
            [("company_id", "in", [*companies.ids, False])] if companies else []
        )
        lead_ids = (
            self.env["crm.lead"]
            .sudo()
            .search(
                [("user_id", "=", False), ("probability", "<", 100), *company_domain],
                order="id",
            )
            .ids
        )
        # sudo: rules of every company in scope; each keeps to its own leads.
        rules = self.sudo().search(company_domain)
        left = 0
        for batch in split_every(batch_size, lead_ids):
            left += len(self._assign_leads(self.env["crm.lead"].browse(batch), rules))
        return left

    @api.model
    def _cron_assign_backlog(self):
        return self.env["crm.batch"]._run("assign_backlog")
