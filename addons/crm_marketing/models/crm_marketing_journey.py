import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, split_every
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)

TARGET_MODELS = [
    ("res.partner", "Contacts"),
    ("crm.lead", "Leads"),
    ("mailing.contact", "Mailing Contacts"),
]
GOAL_TYPES = [
    ("none", "No goal"),
    ("lead_won", "Lead won"),
    ("invoice_posted", "Invoice posted"),
    ("domain", "Custom filter"),
]
# Participants created per INSERT when a large audience enrols.
ENROL_BATCH = 1000
# Newcomers are looked for at most this often (the cron calls again at once while
# a backlog of steps remains).
ENROL_INTERVAL = timedelta(minutes=10)


class CrmMarketingJourney(models.Model):
    """A nurturing journey: who enters, what happens to them step by step, and
    what ends it for them."""

    _name = "crm.marketing.journey"
    _description = "Nurturing Journey"
    _inherit = ["mail.thread"]
    _order = "state desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    color = fields.Integer()
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        domain=[("share", "=", False)],
        tracking=True,
        help="Gets the activities of steps that schedule one when the record has "
        "no salesperson.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("running", "Running"), ("stopped", "Stopped")],
        required=True,
        default="draft",
        copy=False,
        tracking=True,
        index=True,
    )
    target_model = fields.Selection(
        TARGET_MODELS,
        string="Target",
        required=True,
        default="res.partner",
        help="What the journey walks through: contacts, leads or mailing contacts.",
    )
    # Audience
    segment_id = fields.Many2one(
        "crm.marketing.segment",
        string="Segment",
        check_company=True,
        domain="[('target_model', '=', target_model)]",
        help="Current members of the segment enter the journey.",
    )
    domain = fields.Char(
        string="Filter",
        default="[]",
        help="Records matching this filter (and the segment, when one is set) enter "
        "the journey.",
    )
    mailing_list_ids = fields.Many2many(
        "mailing.list",
        string="Mailing Lists",
        help="Mailing contacts subscribed to these lists enter the journey; its "
        "emails honour the opt-outs of these lists.",
    )
    enrolment = fields.Selection(
        [
            ("once", "Once, when started"),
            ("scheduled", "Also newcomers, at every run"),
        ],
        required=True,
        default="once",
        help="Once: the audience of the day it starts. Newcomers: people who join "
        "the audience later enter too. Nobody enters the same journey twice.",
    )
    date_start = fields.Datetime(string="Started On", readonly=True, copy=False)
    date_enrolled = fields.Datetime(string="Last Enrolment", readonly=True, copy=False)
    # Goal
    goal_type = fields.Selection(
        GOAL_TYPES,
        string="Goal",
        required=True,
        default="none",
        help="Reaching the goal ends the journey for that person.",
    )
    goal_domain = fields.Char(string="Goal Filter", default="[]")
    consent_purpose_id = fields.Many2one(
        "crm.consent.purpose",
        string="Consent Purpose",
        default=lambda self: self.env.ref(
            "crm_core.consent_purpose_marketing_email", raise_if_not_found=False
        ),
        help="Only people we may contact for this purpose enter, and a withdrawal "
        "stops them. The journey's emails are sent under this purpose.",
    )
    campaign_id = fields.Many2one(
        "utm.campaign",
        string="Campaign",
        copy=False,
        ondelete="restrict",
        help="The journey's emails and SMS belong to this campaign, so that its "
        "revenue is attributed to them.",
    )
    step_ids = fields.One2many("crm.marketing.journey.step", "journey_id")
    participant_ids = fields.One2many("crm.marketing.journey.participant", "journey_id")
    # Figures (test participants never count)
    participant_count = fields.Integer(compute="_compute_participant_figures")
    running_count = fields.Integer(
        string="In Progress", compute="_compute_participant_figures"
    )
    completed_count = fields.Integer(
        string="Completed", compute="_compute_participant_figures"
    )
    stopped_count = fields.Integer(
        string="Stopped", compute="_compute_participant_figures"
    )
    goal_count = fields.Integer(
        string="Reached the Goal", compute="_compute_participant_figures"
    )
    goal_rate = fields.Float(
        string="Goal Rate (%)", compute="_compute_participant_figures", digits=(16, 1)
    )
    mail_sent = fields.Integer(string="Sent", compute="_compute_message_figures")
    mail_opened = fields.Integer(string="Opened", compute="_compute_message_figures")
    mail_clicked = fields.Integer(string="Clicked", compute="_compute_message_figures")

    _sql_constraints = [
        (
            "campaign_unique",
            "UNIQUE(campaign_id)",
            "Each journey has its own campaign.",
        )
    ]

    # ------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------

    def _compute_participant_figures(self):
        groups = (
            self.env["crm.marketing.journey.participant"]
            .sudo()
            ._read_group(
                [("journey_id", "in", self.ids), ("is_test", "=", False)],
                ["journey_id", "state", "goal_reached"],
                ["__count"],
            )
        )
        figures = {
            journey.id: dict.fromkeys(
                ("running", "completed", "stopped", "goal", "total"), 0
            )
            for journey in self
        }
        for journey, state, goal_reached, count in groups:
            figures[journey.id][state] += count
            figures[journey.id]["total"] += count
            if goal_reached:
                figures[journey.id]["goal"] += count
        for journey in self:
            counts = figures[journey.id]
            journey.participant_count = counts["total"]
            journey.running_count = counts["running"]
            journey.completed_count = counts["completed"]
            journey.stopped_count = counts["stopped"]
            journey.goal_count = counts["goal"]
            journey.goal_rate = (
                100.0 * counts["goal"] / counts["total"] if counts["total"] else 0.0
            )

    def _compute_message_figures(self):
        totals = dict.fromkeys(self.ids, (0, 0, 0))
        if self.ids:
            figures = self.env["crm.marketing.journey.step"]._message_figures(
                journey_ids=self.ids
            )
            totals.update(
                {
                    journey_id: (row["sent"], row["opened"], row["clicked"])
                    for journey_id, row in figures.items()
                }
            )
        for journey in self:
            journey.mail_sent, journey.mail_opened, journey.mail_clicked = totals.get(
                journey.id, (0, 0, 0)
            )

    # ------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------

    @api.constrains("target_model")
    def _check_target_model(self):
        for journey in self:
            if journey.participant_ids and journey.participant_ids.filtered(
                lambda p, j=journey: p.res_model != j.target_model
            ):
                raise ValidationError(
                    self.env._(
                        "Journey “%(journey)s” already has participants: duplicate it "
                        "to walk another kind of record.",
                        journey=journey.name,
                    )
                )

    @api.constrains("domain", "goal_domain", "target_model", "goal_type")
    def _check_domains(self):
        for journey in self:
            for label, value in (
                (self.env._("audience filter"), journey.domain),
                (self.env._("goal filter"), journey.goal_domain),
            ):
                try:
                    domain = safe_eval(value or "[]")
                    self.env[journey.target_model].sudo().search_count(domain, limit=1)
                except Exception as error:
                    raise ValidationError(
                        self.env._(
                            "Journey “%(journey)s”: the %(what)s is not a valid filter "
                            "on %(target)s (%(error)s).",
                            journey=journey.name,
                            what=label,
                            target=journey.target_model,
                            error=error,
                        )
                    ) from error
            if journey.goal_type in ("lead_won", "invoice_posted") and (
                journey.target_model == "mailing.contact"
            ):
                raise ValidationError(
                    self.env._(
                        "Journey “%(journey)s”: mailing contacts have no leads nor "
                        "invoices; choose a custom goal filter instead.",
                        journey=journey.name,
                    )
                )

    @api.constrains("segment_id", "target_model")
    def _check_segment(self):
        for journey in self.filtered("segment_id"):
            if journey.segment_id.target_model != journey.target_model:
                raise ValidationError(
                    self.env._(
                        "Journey “%(journey)s”: the segment %(segment)s groups another "
                        "kind of record; pick a segment of the journey's target.",
                        journey=journey.name,
                        segment=journey.segment_id.display_name,
                    )
                )

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_target_access(vals.get("target_model") or "res.partner")
        # The campaign first: the steps created with the journey tag their
        # mailings with it.
        without_campaign = [vals for vals in vals_list if not vals.get("campaign_id")]
        if without_campaign:
            campaigns = self.env["utm.campaign"].create(
                [{"name": vals.get("name") or "-"} for vals in without_campaign]
            )
            for vals, campaign in zip(without_campaign, campaigns, strict=True):
                vals["campaign_id"] = campaign.id
        return super().create(vals_list)

    def write(self, vals):
        if "target_model" in vals:
            self._check_target_access(vals["target_model"])
        res = super().write(vals)
        if {"mailing_list_ids", "consent_purpose_id", "user_id"} & set(vals):
            self.step_ids._sync_mailing_settings()
        return res

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        if "name" not in (default or {}):
            for journey, vals in zip(self, vals_list, strict=True):
                vals["name"] = self.env._("%(name)s (copy)", name=journey.name)
        return vals_list

    def copy(self, default=None):
        """Duplicate the journey with its tree of steps and their mailings, under
        the new journey's own campaign."""
        new_journeys = super().copy(default=default)
        for journey, new_journey in zip(self, new_journeys, strict=True):
            journey.step_ids._copy_tree(new_journey)
        return new_journeys

    @api.model
    def _check_target_access(self, target_model):
        """A journey acts on its records as the system: only someone who may read
        them builds one."""
        if not self.env[target_model].has_access("read"):
            raise AccessError(
                self.env._(
                    "You cannot build a journey on %(target)s: you have no access "
                    "to them. Ask a manager to build it, or to grant you access.",
                    target=dict(TARGET_MODELS).get(target_model, target_model),
                )
            )

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_start(self):
        for journey in self:
            journey._check_startable()
        # A restarted journey looks at its audience again (nobody enters twice).
        self.write(
            {
                "state": "running",
                "date_start": fields.Datetime.now(),
                "date_enrolled": False,
            }
        )
        # The cron enrols the audience and runs the first steps in batches.
        self.env.ref("crm_marketing.ir_cron_journey_process")._trigger()
        return True

    def action_stop(self):
        """Stop the journey: everybody still in it stops where they are."""
        self.write({"state": "stopped"})
        participants = (
            self.env["crm.marketing.journey.participant"]
            .sudo()
            .search([("journey_id", "in", self.ids), ("state", "=", "running")])
        )
        participants._stop("journey_stopped")
        return True

    def action_draft(self):
        self.filtered(lambda j: j.state == "stopped").write({"state": "draft"})
        return True

    def action_view_participants(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_marketing.crm_marketing_journey_participant_action"
        )
        action["domain"] = [("journey_id", "=", self.id)]
        action["context"] = {
            "default_journey_id": self.id,
            "search_default_filter_real": 1,
            "create": False,
        }
        return action

    def action_view_mailings(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Journey Mailings"),
            "res_model": "mailing.mailing",
            "view_mode": "list,form",
            "domain": [("id", "in", self.step_ids.mailing_id.ids)],
            "context": {"create": False},
        }

    def action_open_test(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Test the Journey"),
            "res_model": "crm.marketing.journey.test",
            "view_mode": "form",
            "target": "new",
            "context": {"default_journey_id": self.id},
        }

    # ------------------------------------------------------------
    # Audience and enrolment
    # ------------------------------------------------------------

    def _check_startable(self):
        self.ensure_one()
        if not self.step_ids:
            raise UserError(
                self.env._(
                    "Journey “%(journey)s” has no step yet: add at least one step "
                    "before starting it.",
                    journey=self.name,
                )
            )
        self.step_ids._check_ready()

    def _audience_domain(self):
        """Who may enter, as a domain on the target model."""
        self.ensure_one()
        Target = self.env[self.target_model]
        domain = safe_eval(self.domain or "[]")
        if self.segment_id:
            domain = expression.AND([domain, self.segment_id._member_domain()])
        if self.target_model == "mailing.contact" and self.mailing_list_ids:
            domain = expression.AND(
                [domain, [("list_ids", "in", self.mailing_list_ids.ids)]]
            )
        if "company_id" in Target._fields:
            domain = expression.AND(
                [domain, [("company_id", "in", [False, self.company_id.id])]]
            )
        return domain

    def _lock_for_enrolment(self):
        """Journeys another worker is not enrolling right now (it would enrol the
        same newcomers)."""
        if not self:
            return self
        self.flush_model(["state"])
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM crm_marketing_journey WHERE id IN %s "
                "FOR UPDATE SKIP LOCKED",
                tuple(self.ids),
            )
        )
        return self.browse(row[0] for row in rows)

    def _enrol(self):
        """Enrol the newcomers of each running journey; return how many entered."""
        entered = 0
        Participant = self.env["crm.marketing.journey.participant"].sudo()
        for journey in self._lock_for_enrolment():
            if journey.state != "running":
                continue
            if journey.date_enrolled and (
                journey.enrolment == "once"
                or journey.date_enrolled > fields.Datetime.now() - ENROL_INTERVAL
            ):
                continue
            # sudo: the journey enrols its whole audience, whoever runs the cron.
            Target = self.env[journey.target_model].sudo()
            res_ids = Target.search(journey._audience_domain(), order="id").ids
            already = journey._enrolled_res_ids()
            newcomers = [res_id for res_id in res_ids if res_id not in already]
            refused = journey._refused_res_ids(newcomers)
            allowed = [res_id for res_id in newcomers if res_id not in refused]
            for batch in split_every(ENROL_BATCH, allowed, list):
                Participant._enrol_records(journey, batch)
            journey.date_enrolled = fields.Datetime.now()
            entered += len(allowed)
            if allowed or refused:
                journey.message_post(
                    body=self.env._(
                        "%(count)s newcomer(s) entered the journey; %(refused)s left "
                        "out (unsubscribed, or no consent for %(purpose)s).",
                        count=len(allowed),
                        refused=len(refused),
                        purpose=journey.consent_purpose_id.name or "-",
                    )
                )
        return entered

    def _enrolled_res_ids(self):
        self.ensure_one()
        self.env["crm.marketing.journey.participant"].flush_model(
            ["journey_id", "res_id", "is_test"]
        )
        rows = self.env.execute_query(
            SQL(
                "SELECT res_id FROM crm_marketing_journey_participant "
                "WHERE journey_id = %s AND NOT is_test",
                self.id,
            )
        )
        return {row[0] for row in rows}

    # ------------------------------------------------------------
    # Who may still be contacted, who reached the goal
    # ------------------------------------------------------------

    def _partners_of(self, res_ids):
        """{res_id: partner} of the target records: the contact itself, the lead's
        customer, the contact with the mailing contact's address."""
        self.ensure_one()
        # sudo: consent is checked for everybody in the journey, not only for the
        # records the current user may read; only ids leave this method.
        records = self.env[self.target_model].sudo().browse(res_ids)
        if self.target_model == "res.partner":
            return {record.id: record for record in records}
        if self.target_model == "crm.lead":
            return {record.id: record.partner_id for record in records}
        emails = [email for email in records.mapped("email_normalized") if email]
        partners = (
            self.env["res.partner"]
            .sudo()
            .search([("email_normalized", "in", emails)], order="id desc")
        )
        by_email = {partner.email_normalized: partner for partner in partners}
        return {
            record.id: by_email.get(record.email_normalized, partners.browse())
            for record in records
        }

    def _unsubscribed_res_ids(self, res_ids):
        """Targets whose email is blacklisted or who left the journey's lists."""
        self.ensure_one()
        if not res_ids:
            return set()
        # sudo: see _partners_of.
        records = self.env[self.target_model].sudo().browse(res_ids)
        emails = {r.id: r.email_normalized for r in records if r.email_normalized}
        blacklisted = set(
            self.env["mail.blacklist"]
            .sudo()
            .search([("email", "in", list(set(emails.values())))])
            .mapped("email")
        )
        unsubscribed = {res_id for res_id, e in emails.items() if e in blacklisted}
        if self.target_model == "mailing.contact":
            list_domain = [("contact_id", "in", list(res_ids))]
            if self.mailing_list_ids:
                list_domain.append(("list_id", "in", self.mailing_list_ids.ids))
            subscriptions = (
                self.env["mailing.subscription"]
                .sudo()
                ._read_group(list_domain, ["contact_id", "opt_out"], ["__count"])
            )
            opted_in = {
                contact.id for contact, opt_out, _c in subscriptions if not opt_out
            }
            unsubscribed |= {
                contact.id
                for contact, opt_out, _count in subscriptions
                if opt_out and contact.id not in opted_in
            }
        return unsubscribed

    def _consent_channel(self):
        self.ensure_one()
        return "sms" if self.consent_purpose_id.code == "sms" else "email"

    def _refused_res_ids(self, res_ids):
        """{res_id: reason} of targets the journey may not contact any more."""
        self.ensure_one()
        if not res_ids or not self.consent_purpose_id:
            return {}
        refused = dict.fromkeys(self._unsubscribed_res_ids(res_ids), "unsubscribed")
        partners_of = self._partners_of(res_ids)
        partners = self.env["res.partner"].union(*partners_of.values())
        allowed = partners._crm_may_contact(
            self.consent_purpose_id.code, self._consent_channel()
        )
        opt_out = self.consent_purpose_id.policy == "opt_out"
        for res_id in res_ids:
            if res_id in refused:
                continue
            partner = partners_of.get(res_id)
            if partner and partner not in allowed:
                refused[res_id] = "consent"
            elif not partner and not opt_out:
                # Nobody to ask: an opt-in purpose needs a person who agreed.
                refused[res_id] = "consent"
        return refused

    def _goal_reached_res_ids(self, participants):
        """Res ids of ``participants`` (of this journey) who reached the goal
        since they entered."""
        self.ensure_one()
        if self.goal_type == "none" or not participants:
            return set()
        res_ids = participants.mapped("res_id")
        # sudo: the goal is the journey's, whoever runs it; only ids leave.
        Target = self.env[self.target_model].sudo()
        if self.goal_type == "domain":
            domain = [("id", "in", res_ids), *safe_eval(self.goal_domain or "[]")]
            return set(Target.search(domain).ids)
        entered = {p.res_id: p.date_enrolled for p in participants}
        if self.goal_type == "lead_won":
            Lead = self.env["crm.lead"].sudo()
            won = [("stage_id.is_won", "=", True), ("probability", "=", 100)]
            if self.target_model == "crm.lead":
                return set(Lead.search([("id", "in", res_ids), *won]).ids)
            customer_of = {
                partner.id: partner.commercial_partner_id
                for partner in Target.browse(res_ids)
            }
            groups = Lead._read_group(
                [("partner_id", "child_of", list({c.id for c in customer_of.values()}))]
                + won,
                ["partner_id"],
                ["date_closed:max"],
            )
            last_won = {}
            for partner, date in groups:
                if not date:
                    continue
                customer = partner.commercial_partner_id.id
                last_won[customer] = max(date, last_won.get(customer, date))
            return {
                res_id
                for res_id, customer in customer_of.items()
                if (date := last_won.get(customer.id)) and date >= entered[res_id]
            }
        # invoice_posted: a customer invoice posted for them since they entered.
        records = Target.browse(res_ids)
        if self.target_model == "crm.lead":
            customer_of = {
                lead.id: lead.partner_id.commercial_partner_id for lead in records
            }
        else:
            customer_of = {p.id: p.commercial_partner_id for p in records}
        customers = self.env["res.partner"].union(*customer_of.values())
        groups = (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", customers.ids),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("company_id", "=", self.company_id.id),
                ],
                ["commercial_partner_id"],
                ["invoice_date:max"],
            )
        )
        last_invoice = {partner.id: date for partner, date in groups}
        return {
            res_id
            for res_id, customer in customer_of.items()
            if customer
            and (date := last_invoice.get(customer.id))
            and date >= entered[res_id].date()
        }

    # ------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------

    @api.model
    def _cron_process(self):
        """Enrol newcomers, then run the due steps, a chunk of activities per call
        (the cron calls again, committing in between, while some are left)."""
        self.search([("state", "=", "running")])._enrol()
        return self.env["crm.batch"]._run("process_journeys")
