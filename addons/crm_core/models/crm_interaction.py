import textwrap

from odoo import api, fields, models
from odoo.exceptions import ValidationError

CHANNELS = [
    ("call", "Call"),
    ("email", "Email"),
    ("meeting", "Meeting"),
    ("chat", "Chat"),
    ("sms", "SMS"),
    ("social", "Social"),
    ("visit", "Visit"),
    ("note", "Note"),
]

OUTCOMES = [
    ("completed", "Completed"),
    ("follow_up", "Follow-up Needed"),
    ("no_answer", "No Answer"),
    ("left_message", "Left Message"),
    ("not_interested", "Not Interested"),
]

# Chatter messages that are an exchange with the customer; internal notes are not.
SYNCED_MESSAGE_MODELS = ("res.partner", "crm.lead")
SYNCED_MESSAGE_TYPES = ("email", "comment", "email_outgoing")

# calendar.event fields whose change must be reflected on its meeting interactions.
SYNCED_EVENT_FIELDS = {
    "name",
    "start",
    "stop",
    "duration",
    "allday",
    "partner_ids",
    "user_id",
    "opportunity_id",
    "description",
    "active",
    "privacy",
}


class CrmInteraction(models.Model):
    _name = "crm.interaction"
    _description = "Customer Interaction"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Summary", required=True, index="trigram")
    description = fields.Html(string="Details", sanitize_style=True)
    channel = fields.Selection(CHANNELS, required=True, default="call", index=True)
    direction = fields.Selection(
        [("inbound", "Inbound"), ("outbound", "Outbound")],
        required=True,
        default="outbound",
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    duration = fields.Float(string="Duration (hours)")
    outcome = fields.Selection(OUTCOMES)
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
        index=True,
        check_company=True,
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        compute="_compute_team_id",
        store=True,
        readonly=False,
        index="btree_not_null",
        check_company=True,
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        compute="_compute_partner_id",
        store=True,
        readonly=False,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id",
        string="Customer",
        store=True,
        index=True,
    )
    lead_id = fields.Many2one(
        "crm.lead",
        string="Lead/Opportunity",
        ondelete="set null",
        index="btree_not_null",
        check_company=True,
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        index=True,
    )
    # Where a synced interaction comes from; a manual one has neither.
    message_id = fields.Many2one(
        "mail.message",
        string="Chatter Message",
        readonly=True,
        ondelete="cascade",
        index="btree_not_null",
    )
    calendar_event_id = fields.Many2one(
        "calendar.event",
        string="Meeting",
        readonly=True,
        ondelete="cascade",
        index="btree_not_null",
    )

    _sql_constraints = [
        (
            "message_unique",
            "UNIQUE(message_id)",
            "A chatter message is already logged as an interaction.",
        ),
        (
            "calendar_event_customer_unique",
            "UNIQUE(calendar_event_id, commercial_partner_id)",
            "This meeting is already logged for this customer.",
        ),
    ]

    @api.constrains("partner_id", "lead_id")
    def _check_partner_or_lead(self):
        if orphans := self.filtered(lambda i: not i.partner_id and not i.lead_id):
            raise ValidationError(
                self.env._(
                    "Choose the contact or the lead of the interaction “%(name)s”.",
                    name=orphans[0].name,
                )
            )

    @api.constrains("duration")
    def _check_duration(self):
        if self.filtered(lambda i: i.duration < 0):
            raise ValidationError(
                self.env._("The duration of an interaction cannot be negative.")
            )

    @api.depends("lead_id")
    def _compute_partner_id(self):
        for interaction in self:
            if not interaction.partner_id:
                interaction.partner_id = interaction.lead_id.partner_id

    @api.depends("lead_id", "user_id")
    def _compute_team_id(self):
        for interaction in self:
            interaction.team_id = (
                interaction.lead_id.team_id
                or interaction.user_id.sale_team_id
                or interaction.team_id
            )

    # ------------------------------------------------------------
    # Synchronisation from chatter messages and calendar meetings
    # ------------------------------------------------------------

    @api.model
    def _synced_owner(self, lead, partner, user):
        """Company and salesperson of a synced interaction, always compatible.

        The sync runs inside message posting and meeting saving: a company
        mismatch must never make those fail.
        """
        company = (
            lead.company_id or partner.company_id or user.company_id or self.env.company
        )
        if user and company not in user.company_ids:
            user = user.browse()
        return {"company_id": company.id, "user_id": user.id}

    @api.model
    def _sync_from_messages(self, messages):
        """Log each customer-facing chatter message of a partner or a lead once.

        Messages that already have their interaction are skipped, so calling this
        again with the same messages is harmless. Runs as superuser: the author of
        a message (a customer replying by email) cannot read the CRM.
        """
        messages = messages.filtered(
            lambda m: (
                m.model in SYNCED_MESSAGE_MODELS
                and m.res_id
                and m.message_type in SYNCED_MESSAGE_TYPES
                and not m.is_internal
                and not m.subtype_id.internal
            )
        )
        if not messages:
            return self.browse()
        self = self.sudo()
        messages -= self.search([("message_id", "in", messages.ids)]).message_id
        partners = (
            self.env["res.partner"]
            .browse(
                messages.filtered(lambda m: m.model == "res.partner").mapped("res_id")
            )
            .exists()
        )
        leads = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .browse(messages.filtered(lambda m: m.model == "crm.lead").mapped("res_id"))
            .exists()
        )
        partner_by_id = {partner.id: partner for partner in partners}
        lead_by_id = {lead.id: lead for lead in leads}
        vals_list = []
        for message in messages:
            if message.model == "crm.lead":
                lead = lead_by_id.get(message.res_id, leads.browse())
                partner = lead.partner_id
            else:
                lead = leads.browse()
                partner = partner_by_id.get(message.res_id, partners.browse())
            if not (partner or lead):
                continue
            # partner_share is False for employees, archived ones and OdooBot included.
            author = message.author_id
            inbound = (
                message.message_type == "email" or not author or author.partner_share
            )
            author_user = author.user_ids.filtered(lambda u: not u.share)[:1]
            vals_list.append(
                {
                    "name": message.subject
                    or textwrap.shorten(message.preview or "", 120, placeholder="…")
                    or message.record_name
                    or self.env._("Email"),
                    "description": message.body,
                    "channel": "email",
                    "direction": "inbound" if inbound else "outbound",
                    "date": message.date,
                    "partner_id": partner.id,
                    "lead_id": lead.id,
                    "message_id": message.id,
                    **self._synced_owner(
                        lead, partner, lead.user_id or partner.user_id or author_user
                    ),
                }
            )
        return self.create(vals_list)

    @api.model
    def _sync_from_events(self, events):
        """Keep one meeting interaction per customer met in each event.

        A meeting with two people of the same company is one interaction with that
        company, logged on the first of its attendees. Creates the missing ones,
        updates those whose meeting moved or changed, and removes those of customers
        who left the meeting and of archived meetings.
        """
        self = self.sudo()
        events = events.sudo().with_context(active_test=False)
        existing = self.search([("calendar_event_id", "in", events.ids)])
        existing_by_key = {
            (interaction.calendar_event_id.id, interaction.commercial_partner_id.id): (
                interaction
            )
            for interaction in existing
        }
        to_keep = self.browse()
        vals_list = []
        for event in events.filtered("active"):
            lead = event.opportunity_id
            organizer = event.user_id.filtered(lambda u: not u.share)
            common_vals = {
                "name": event.name,
                "description": event.description,
                "channel": "meeting",
                "direction": "outbound",
                "date": event.start,
                "duration": event.duration,
                "lead_id": lead.id,
            }
            if self._is_private_event(event):
                # What the organizer hid from colleagues stays hidden: only that a
                # meeting took place, and with whom.
                lead = lead.browse()
                common_vals.update(
                    name=self.env._("Private meeting"), description=False, lead_id=False
                )
            customers = event.partner_ids.filtered("partner_share").sorted("id")
            for commercial, attendees in customers.grouped(
                "commercial_partner_id"
            ).items():
                interaction = existing_by_key.get((event.id, commercial.id))
                if interaction:
                    # Only called when the meeting changed: follow it.
                    keeps_company = interaction.company_id in organizer.company_ids
                    vals = dict(common_vals, user_id=keeps_company and organizer.id)
                    if interaction.partner_id not in attendees:
                        vals["partner_id"] = attendees[0].id
                    interaction.write(vals)
                    to_keep |= interaction
                else:
                    vals_list.append(
                        {
                            **common_vals,
                            **self._synced_owner(lead, commercial, organizer),
                            "partner_id": attendees[0].id,
                            "calendar_event_id": event.id,
                        }
                    )
        (existing - to_keep).unlink()
        return self.create(vals_list)

    @api.model
    def _is_private_event(self, event):
        """Private by its own setting, or by its organizer's default privacy."""
        return event.privacy == "private" or (
            not event.privacy and event.user_id.calendar_default_privacy == "private"
        )

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    @api.model
    def _action_log(self, defaults):
        """Quick "Log an Interaction" dialog, prefilled with ``defaults``."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Log an Interaction"),
            "res_model": "crm.interaction",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": defaults,
        }
