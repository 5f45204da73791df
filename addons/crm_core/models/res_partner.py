from collections import defaultdict

from odoo import api, fields, models

INVOICE_GROUPS = "crm_core.group_crm_user,account.group_account_invoice"


class ResPartner(models.Model):
    _inherit = "res.partner"

    interaction_ids = fields.One2many("crm.interaction", "partner_id")

    # Customer 360°: every figure is computed on the commercial entity, so a
    # company and each of its contacts show the same totals, for the current
    # company and in its currency.
    customer_currency_id = fields.Many2one(
        "res.currency", compute="_compute_customer_currency_id"
    )
    customer_interaction_count = fields.Integer(
        string="Interactions", compute="_compute_customer_interactions"
    )
    customer_last_interaction_date = fields.Datetime(
        string="Last Interaction", compute="_compute_customer_interactions"
    )
    customer_next_interaction_date = fields.Datetime(
        string="Next Interaction", compute="_compute_customer_interactions"
    )
    customer_open_opportunity_count = fields.Integer(
        string="Open Opportunities", compute="_compute_customer_opportunities"
    )
    customer_pipeline_amount = fields.Monetary(
        string="Pipeline",
        compute="_compute_customer_opportunities",
        currency_field="customer_currency_id",
    )
    customer_won_opportunity_count = fields.Integer(
        string="Won Opportunities", compute="_compute_customer_opportunities"
    )
    customer_won_amount = fields.Monetary(
        string="Won Revenue",
        compute="_compute_customer_opportunities",
        currency_field="customer_currency_id",
    )
    customer_invoiced_amount = fields.Monetary(
        string="Invoiced",
        compute="_compute_customer_invoicing",
        currency_field="customer_currency_id",
        groups=INVOICE_GROUPS,
        help="Posted customer invoices net of credit notes, taxes included.",
    )
    customer_paid_amount = fields.Monetary(
        string="Paid",
        compute="_compute_customer_invoicing",
        currency_field="customer_currency_id",
        groups=INVOICE_GROUPS,
    )
    customer_due_amount = fields.Monetary(
        string="Due",
        compute="_compute_customer_invoicing",
        currency_field="customer_currency_id",
        groups=INVOICE_GROUPS,
    )
    customer_overdue_amount = fields.Monetary(
        string="Overdue",
        compute="_compute_customer_invoicing",
        currency_field="customer_currency_id",
        groups=INVOICE_GROUPS,
    )
    customer_open_activity_count = fields.Integer(
        string="Open Activities", compute="_compute_customer_activities"
    )
    customer_next_activity_date = fields.Date(
        string="Next Activity", compute="_compute_customer_activities"
    )

    # Company size, a routing criterion; Community has no such field.
    employee_count = fields.Integer(
        string="Employees", help="Headcount of the company, used by assignment rules."
    )

    # Churn risk, scored daily by crm.churn.analysis on the commercial entity, per
    # company (from that company's invoices, in its currency). The reasons quote
    # amounts: CRM users only.
    churn_score = fields.Integer(
        readonly=True,
        company_dependent=True,
        aggregator="avg",
        groups="crm_core.group_crm_user",
    )
    churn_reasons = fields.Text(
        readonly=True, company_dependent=True, groups="crm_core.group_crm_user"
    )
    churn_at_risk = fields.Boolean(
        string="At Risk",
        readonly=True,
        company_dependent=True,
        groups="crm_core.group_crm_user",
    )
    churn_date = fields.Datetime(
        string="Churn Scored On",
        readonly=True,
        company_dependent=True,
        groups="crm_core.group_crm_user",
    )

    # Privacy: consent ledger, data-subject requests, restriction and erasure.
    consent_ids = fields.One2many("crm.consent", "partner_id", string="Consent History")
    privacy_request_ids = fields.One2many(
        "crm.privacy.request", "partner_id", string="Data-Subject Requests"
    )
    privacy_restricted = fields.Boolean(
        string="Processing Restricted",
        readonly=True,
        copy=False,
        help="Set by a restriction request: the person is left out of campaigns, "
        "scoring and assignment until the restriction is lifted.",
    )
    privacy_erased = fields.Boolean(string="Erased", readonly=True, copy=False)

    @api.depends_context("company")
    def _compute_customer_currency_id(self):
        self.customer_currency_id = self.env.company.currency_id

    @api.depends_context("company", "uid")
    def _compute_customer_interactions(self):
        now = fields.Datetime.now()
        domain = [("commercial_partner_id", "in", self.commercial_partner_id.ids)]
        past = dict(
            (partner.id, (count, date))
            for partner, count, date in self.env["crm.interaction"]._read_group(
                domain + [("date", "<=", now)],
                ["commercial_partner_id"],
                ["__count", "date:max"],
            )
        )
        future = dict(
            (partner.id, (count, date))
            for partner, count, date in self.env["crm.interaction"]._read_group(
                domain + [("date", ">", now)],
                ["commercial_partner_id"],
                ["__count", "date:min"],
            )
        )
        for partner in self:
            past_count, last = past.get(partner.commercial_partner_id.id, (0, False))
            next_count, upcoming = future.get(
                partner.commercial_partner_id.id, (0, False)
            )
            partner.customer_interaction_count = past_count + next_count
            partner.customer_last_interaction_date = last
            partner.customer_next_interaction_date = upcoming

    @api.depends_context("company", "uid")
    def _compute_customer_opportunities(self):
        stats = defaultdict(
            lambda: {"open": 0, "pipeline": 0.0, "won": 0, "won_amount": 0.0}
        )
        groups = self.env["crm.lead"]._read_group(
            [
                ("partner_id", "child_of", self.commercial_partner_id.ids),
                ("type", "=", "opportunity"),
                ("company_id", "in", [False, self.env.company.id]),
            ],
            ["partner_id", "stage_id"],
            ["__count", "expected_revenue:sum"],
        )
        for partner, stage, count, revenue in groups:
            entry = stats[partner.commercial_partner_id.id]
            if stage.is_won:
                entry["won"] += count
                entry["won_amount"] += revenue
            else:
                entry["open"] += count
                entry["pipeline"] += revenue
        for partner in self:
            entry = stats[partner.commercial_partner_id.id]
            partner.customer_open_opportunity_count = entry["open"]
            partner.customer_pipeline_amount = entry["pipeline"]
            partner.customer_won_opportunity_count = entry["won"]
            partner.customer_won_amount = entry["won_amount"]

    @api.depends_context("company")
    def _compute_customer_invoicing(self):
        # Sales people rarely hold accounting rights, yet the 360° must show what a
        # customer owes: read the posted moves as superuser, for the current
        # company only (the fields themselves are restricted to CRM users).
        moves = self.env["account.move"].sudo()
        domain = [
            ("commercial_partner_id", "in", self.commercial_partner_id.ids),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("state", "=", "posted"),
            ("company_id", "=", self.env.company.id),
        ]
        totals = {
            partner.id: (total, residual)
            for partner, total, residual in moves._read_group(
                domain,
                ["commercial_partner_id"],
                ["amount_total_signed:sum", "amount_residual_signed:sum"],
            )
        }
        overdue = {
            partner.id: residual
            for partner, residual in moves._read_group(
                domain + [("invoice_date_due", "<", fields.Date.context_today(self))],
                ["commercial_partner_id"],
                ["amount_residual_signed:sum"],
            )
        }
        for partner in self:
            commercial_id = partner.commercial_partner_id.id
            total, residual = totals.get(commercial_id, (0.0, 0.0))
            partner.customer_invoiced_amount = total
            partner.customer_paid_amount = total - residual
            partner.customer_due_amount = residual
            partner.customer_overdue_amount = overdue.get(commercial_id, 0.0)

    @api.depends_context("company", "uid")
    def _compute_customer_activities(self):
        contacts = (
            self.env["res.partner"]
            .with_context(active_test=False)
            ._search([("commercial_partner_id", "in", self.commercial_partner_id.ids)])
        )
        leads = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            ._search([("partner_id", "in", contacts)])
        )
        groups = self.env["mail.activity"]._read_group(
            [
                "|",
                "&",
                ("res_model", "=", "res.partner"),
                ("res_id", "in", contacts),
                "&",
                ("res_model", "=", "crm.lead"),
                ("res_id", "in", leads),
            ],
            ["res_model", "res_id"],
            ["__count", "date_deadline:min"],
        )
        partner_ids = [res_id for model, res_id, *_ in groups if model == "res.partner"]
        lead_ids = [res_id for model, res_id, *_ in groups if model == "crm.lead"]
        commercial_of = {
            ("res.partner", partner.id): partner.commercial_partner_id.id
            for partner in self.env["res.partner"].browse(partner_ids)
        }
        commercial_of.update(
            {
                ("crm.lead", lead.id): lead.partner_id.commercial_partner_id.id
                for lead in self.env["crm.lead"]
                .with_context(active_test=False)
                .browse(lead_ids)
            }
        )
        stats = defaultdict(lambda: [0, False])
        for model, res_id, count, deadline in groups:
            entry = stats[commercial_of[(model, res_id)]]
            entry[0] += count
            entry[1] = min(entry[1], deadline) if entry[1] else deadline
        for partner in self:
            count, deadline = stats[partner.commercial_partner_id.id]
            partner.customer_open_activity_count = count
            partner.customer_next_activity_date = deadline

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def _customer_contacts_domain(self, field="partner_id"):
        return [(field, "child_of", self.commercial_partner_id.ids)]

    def action_log_interaction(self):
        self.ensure_one()
        return self.env["crm.interaction"]._action_log({"default_partner_id": self.id})

    def action_record_consent(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record a Consent"),
            "res_model": "crm.consent",
            "view_mode": "form",
            "target": "new",
            "context": {"default_partner_id": self.id},
        }

    def action_new_privacy_request(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New Data-Subject Request"),
            "res_model": "crm.privacy.request",
            "view_mode": "form",
            "context": {"default_partner_id": self.id},
        }

    def action_view_customer_interactions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_core.crm_interaction_action_timeline"
        )
        action["domain"] = [
            ("commercial_partner_id", "=", self.commercial_partner_id.id)
        ]
        action["context"] = {"default_partner_id": self.id}
        action["display_name"] = self.env._(
            "Timeline of %(customer)s", customer=self.commercial_partner_id.display_name
        )
        return action

    def action_view_customer_opportunities(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm.crm_lead_opportunities"
        )
        action["domain"] = self._customer_contacts_domain() + [
            ("type", "=", "opportunity")
        ]
        action["context"] = {
            "default_partner_id": self.id,
            "default_type": "opportunity",
            "search_default_open_opportunities": 1,
        }
        return action

    def _action_customer_invoices(self, search_filter=None):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [
            ("commercial_partner_id", "=", self.commercial_partner_id.id),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("state", "=", "posted"),
        ]
        action["context"] = {
            "default_move_type": "out_invoice",
            "default_partner_id": self.id,
        }
        if search_filter:
            action["context"][f"search_default_{search_filter}"] = 1
        return action

    def action_view_customer_invoices(self):
        return self._action_customer_invoices()

    def action_view_customer_due_invoices(self):
        return self._action_customer_invoices("open")

    def action_view_customer_overdue_invoices(self):
        return self._action_customer_invoices("late")

    def action_view_customer_activities(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mail.mail_activity_action"
        )
        contacts = self.search(self._customer_contacts_domain("id"))
        leads = self.env["crm.lead"].search([("partner_id", "in", contacts.ids)])
        action["domain"] = [
            "|",
            "&",
            ("res_model", "=", "res.partner"),
            ("res_id", "in", contacts.ids),
            "&",
            ("res_model", "=", "crm.lead"),
            ("res_id", "in", leads.ids),
        ]
        action["context"] = {"force_search_count": 1}
        return action

    # ------------------------------------------------------------
    # Consent
    # ------------------------------------------------------------

    def _crm_contact_number(self, channel):
        """The E.164 number we would use on ``channel`` ("sms" or "phone")."""
        self.ensure_one()
        raw = (
            self.mobile or self.phone if channel == "sms" else self.phone or self.mobile
        )
        if not raw:
            return False
        return self._phone_format(number=raw, country=self.country_id) or raw

    def _crm_may_contact(self, purpose_code, channel="email"):
        """Return those of these partners we may contact for a purpose on a channel.

        The one check every addon makes before contacting someone: the consent
        ledger (opt-in purposes need a granted entry, opt-out ones no withdrawal),
        restriction and erasure, Odoo's email and phone blacklists, and the hashed
        opt-outs of erased people (``crm.privacy.suppression``).
        """
        Consent = self.env["crm.consent"].sudo()
        Suppression = self.env["crm.privacy.suppression"]
        purpose = Consent._get_purpose(purpose_code)
        partners = self.sudo().filtered(
            lambda p: not p.privacy_restricted and not p.privacy_erased
        )
        if channel == "email":
            partners = partners.filtered("email_normalized")
            emails = partners.mapped("email_normalized")
            blacklist = set(
                self.env["mail.blacklist"]
                .sudo()
                .search([("email", "in", emails)])
                .mapped("email")
            ) | Suppression._suppressed("email", emails)
            partners = partners.filtered(lambda p: p.email_normalized not in blacklist)
        elif channel in ("sms", "phone"):
            numbers = {
                partner.id: number
                for partner in partners
                if (number := partner._crm_contact_number(channel))
            }
            blacklist = set(
                self.env["phone.blacklist"]
                .sudo()
                .search([("number", "in", list(numbers.values()))])
                .mapped("number")
            ) | Suppression._suppressed("phone", numbers.values())
            partners = partners.filtered(
                lambda p: p.id in numbers and numbers[p.id] not in blacklist
            )
        states = Consent._current_states(partners, purpose, channel)
        if purpose.policy == "opt_in":
            allowed = [p.id for p in partners if states.get(p.id) == "granted"]
        else:
            allowed = [p.id for p in partners if states.get(p.id) != "withdrawn"]
        return self.browse(allowed)

    # Batch "churn_scoring" (crm.batch): customers with posted invoices.

    @api.model
    def _batch_churn_scoring_domain(self):
        invoiced = self.env["account.move"]._search(
            [
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "=", "posted"),
            ]
        )
        return [("id", "in", invoiced.subselect("commercial_partner_id"))]

    def _batch_churn_scoring_process(self):
        self.env["crm.churn.analysis"]._score_in_companies(self)
