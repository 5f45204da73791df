import itertools
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, split_every

# The one watermark of the collector before each event type kept its own (the
# rule's date_collected): where a type not collected since then starts.
WATERMARK_PARAM = "crm_marketing.engagement_collected_at"
# Rows committed by a slower transaction may carry a date just before the last
# run: read again this far back; events already recorded are skipped.
OVERLAP = timedelta(hours=1)
# The first run reads this much history; older events would have faded anyway.
FIRST_RUN_HISTORY = timedelta(days=180)
RECORD_BATCH = 5000
# Each collector and the event types (engagement rule codes) it yields.
COLLECTORS = {
    "_collect_mailing_traces": ("opened", "replied", "bounced"),
    "_collect_link_clicks": ("clicked",),
    "_collect_incoming_emails": ("email_in",),
    "_collect_interactions": ("interaction",),
    "_collect_tickets": ("ticket",),
    "_collect_web_forms": ("web_form",),
}
COLLECTED_CODES = tuple(code for codes in COLLECTORS.values() for code in codes)


class CrmMarketingEngagementCollector(models.AbstractModel):
    """Reads what Odoo already records into the engagement ledger.

    Each collector yields the events that appeared since a date; every event has
    a ``source_ref`` naming its source row, so reading a row again records
    nothing twice. Sources:

    - mailing traces of contacts, leads and mailing contacts (a mailing contact
      counts for the oldest active contact with the same email): opened, replied,
      bounced, and each link clicked (once per link and trace, by its label);
    - incoming emails (``mail.message`` of type email) on a contact, written by
      that contact, or on a lead, written by anyone but an employee;
    - inbound interactions of crm_core logged by hand (those synced from an
      email are the email's event already);
    - tickets of crm_support, when installed, once their sender is known;
    - web form submissions: leads whose medium is "Website", the medium the
      website's contact form stamps on the leads it creates.
    """

    _name = "crm.marketing.engagement.collector"
    _description = "Engagement Event Collector"

    @api.model
    def _collect(self, since=None, rules=None):
        """Record the events that appeared since ``since`` (by default since each
        rule's last run, with some overlap), update the scores they touch, and move
        the rules' watermarks. ``rules`` are the engagement rules to collect (by
        default every rule with a collector); archived ones only have their
        watermark moved, so that what happened while archived is never recorded.
        Returns the events recorded."""
        now = fields.Datetime.now()
        # sudo: collectors read the sources of every company into the ledger.
        self = self.sudo()
        Rule = self.env["crm.marketing.engagement.rule"]
        if rules is None:
            rules = Rule.with_context(active_test=False).search(
                [("code", "in", COLLECTED_CODES)]
            )
        rules = rules.with_env(self.env).filtered(
            lambda rule: rule.code in COLLECTED_CODES
        )
        legacy = fields.Datetime.to_datetime(
            self.env["ir.config_parameter"].get_param(WATERMARK_PARAM)
        )
        Event = self.env["crm.marketing.engagement.event"]
        recorded = Event
        sources = itertools.chain.from_iterable(
            self._collect_for(method, rules, since, now, legacy)
            for method in COLLECTORS
        )
        for batch in split_every(RECORD_BATCH, sources, list):
            recorded |= Event._record(batch, recompute=False)
        if recorded:
            recorded._recompute_touched()
        rules.write({"date_collected": now})
        return recorded

    @api.model
    def _collect_for(self, method, rules, since, now, legacy):
        """The events collector ``method`` yields for the active ``rules`` among
        its types, read from the oldest of their watermarks."""
        rules = rules.filtered(
            lambda rule: rule.active and rule.code in COLLECTORS[method]
        )
        if not rules:
            return
        if since is None:
            marks = [rule.date_collected or legacy for rule in rules]
            since = min(marks) - OVERLAP if all(marks) else now - FIRST_RUN_HISTORY
        codes = set(rules.mapped("code"))
        for event in getattr(self, method)(since):
            if event["event_type"] in codes:
                yield event

    @api.model
    def _trace_target(self):
        """SQL columns (model, res_id) a trace's event is recorded on; mailing
        contacts go to the oldest active contact with their email."""
        self.env["mailing.contact"].flush_model(["email_normalized"])
        self.env["res.partner"].flush_model(["email_normalized", "active"])
        return SQL(
            """
            CASE WHEN trace.model = 'mailing.contact' THEN 'res.partner'
                 ELSE trace.model END,
            CASE WHEN trace.model = 'mailing.contact' THEN (
                      SELECT partner.id
                        FROM mailing_contact contact
                        JOIN res_partner partner
                          ON partner.email_normalized = contact.email_normalized
                       WHERE contact.id = trace.res_id AND partner.active
                       ORDER BY partner.id
                       LIMIT 1)
                 ELSE trace.res_id END
            """
        )

    @api.model
    def _collect_mailing_traces(self, since):
        self.env["mailing.trace"].flush_model()
        self.env["mailing.mailing"].flush_model(["subject"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT trace.id, %(target)s, mailing.subject, trace.trace_type,
                   trace.open_datetime, trace.reply_datetime,
                   CASE WHEN trace.trace_status = 'bounce' THEN trace.write_date END
              FROM mailing_trace trace
              LEFT JOIN mailing_mailing mailing ON mailing.id = trace.mass_mailing_id
             WHERE trace.write_date >= %(since)s
               AND trace.model IN ('res.partner', 'crm.lead', 'mailing.contact')
               AND trace.res_id IS NOT NULL
               AND (trace.open_datetime IS NOT NULL
                    OR trace.reply_datetime IS NOT NULL
                    OR trace.trace_status = 'bounce')
             ORDER BY trace.id
            """,
                target=self._trace_target(),
                since=since,
            )
        )
        _ = self.env._
        for trace_id, model, res_id, subject, kind, opened, replied, bounced in rows:
            if not res_id:
                continue
            mailing = subject or _("a mailing")
            common = {"model": model, "res_id": res_id}
            if opened:
                yield {
                    **common,
                    "event_type": "opened",
                    "date": opened,
                    "description": _("opened “%(mailing)s”", mailing=mailing),
                    "source_ref": f"mailing.trace,{trace_id},open",
                }
            if replied:
                yield {
                    **common,
                    "event_type": "replied",
                    "date": replied,
                    "description": _("replied to “%(mailing)s”", mailing=mailing),
                    "source_ref": f"mailing.trace,{trace_id},reply",
                }
            if bounced:
                yield {
                    **common,
                    "event_type": "bounced",
                    "date": bounced,
                    "description": (
                        _("the SMS “%(mailing)s” bounced", mailing=mailing)
                        if kind == "sms"
                        else _("the email “%(mailing)s” bounced", mailing=mailing)
                    ),
                    "source_ref": f"mailing.trace,{trace_id},bounce",
                }

    @api.model
    def _collect_link_clicks(self, since):
        self.env["link.tracker.click"].flush_model()
        self.env["link.tracker"].flush_model(["label", "title", "url"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT DISTINCT ON (trace.id, click.link_id)
                   trace.id, click.link_id, %(target)s, click.create_date,
                   COALESCE(NULLIF(link.label, ''), NULLIF(link.title, ''), link.url),
                   mailing.subject
              FROM link_tracker_click click
              JOIN mailing_trace trace ON trace.id = click.mailing_trace_id
              JOIN link_tracker link ON link.id = click.link_id
              LEFT JOIN mailing_mailing mailing ON mailing.id = trace.mass_mailing_id
             WHERE click.create_date >= %(since)s
               AND trace.model IN ('res.partner', 'crm.lead', 'mailing.contact')
               AND trace.res_id IS NOT NULL
             ORDER BY trace.id, click.link_id, click.create_date
            """,
                target=self._trace_target(),
                since=since,
            )
        )
        _ = self.env._
        for trace_id, link_id, model, res_id, date, link, subject in rows:
            if not res_id:
                continue
            yield {
                "model": model,
                "res_id": res_id,
                "event_type": "clicked",
                "date": date,
                "description": _(
                    "clicked the “%(link)s” link in “%(mailing)s”",
                    link=link,
                    mailing=subject or _("a mailing"),
                ),
                "source_ref": f"mailing.trace,{trace_id},click,{link_id}",
            }

    @api.model
    def _collect_incoming_emails(self, since):
        self.env["mail.message"].flush_model(
            ["message_type", "model", "res_id", "author_id", "subject", "date"]
        )
        self.env["res.users"].flush_model(["partner_id", "share"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT message.id, message.model, message.res_id, message.date,
                   message.subject
              FROM mail_message message
             WHERE message.create_date >= %(since)s
               AND message.message_type = 'email'
               AND message.res_id IS NOT NULL
               AND (message.model = 'crm.lead'
                    OR (message.model = 'res.partner'
                        AND message.author_id = message.res_id))
               AND NOT EXISTS (
                   SELECT 1 FROM res_users employee
                    WHERE employee.partner_id = message.author_id
                      AND NOT employee.share)
             ORDER BY message.id
            """,
                since=since,
            )
        )
        _ = self.env._
        for message_id, model, res_id, date, subject in rows:
            yield {
                "model": model,
                "res_id": res_id,
                "event_type": "email_in",
                "date": date,
                "description": (
                    _("wrote “%(subject)s”", subject=subject)
                    if subject
                    else _("wrote an email")
                ),
                "source_ref": f"mail.message,{message_id}",
            }

    @api.model
    def _collect_interactions(self, since):
        Interaction = self.env["crm.interaction"]
        Interaction.flush_model()
        rows = self.env.execute_query(
            SQL(
                """
            SELECT id, partner_id, lead_id, date, name, channel
              FROM crm_interaction
             WHERE create_date >= %(since)s
               AND direction = 'inbound'
               AND message_id IS NULL
             ORDER BY id
            """,
                since=since,
            )
        )
        channels = dict(Interaction._fields["channel"]._description_selection(self.env))
        _ = self.env._
        for interaction_id, partner_id, lead_id, date, name, channel in rows:
            yield {
                "model": "crm.lead" if lead_id else "res.partner",
                "res_id": lead_id or partner_id,
                "partner_id": partner_id,
                "event_type": "interaction",
                "date": date,
                "description": _(
                    "reached out (%(channel)s): “%(summary)s”",
                    channel=channels.get(channel, channel).lower(),
                    summary=name,
                ),
                "source_ref": f"crm.interaction,{interaction_id}",
            }

    @api.model
    def _collect_tickets(self, since):
        # crm_support is not a dependency: tickets count when it is installed.
        if "crm.ticket" not in self.env:
            return
        self.env["crm.ticket"].flush_model()
        rows = self.env.execute_query(
            SQL(
                """
            SELECT id, partner_id, date_open, create_date, name
              FROM crm_ticket
             WHERE write_date >= %(since)s
               AND partner_id IS NOT NULL
               AND web_unconfirmed IS NOT TRUE
             ORDER BY id
            """,
                since=since,
            )
        )
        for ticket_id, partner_id, date_open, create_date, name in rows:
            yield {
                "model": "res.partner",
                "res_id": partner_id,
                "event_type": "ticket",
                "date": date_open or create_date,
                "description": self.env._("opened the ticket “%(name)s”", name=name),
                "source_ref": f"crm.ticket,{ticket_id}",
            }

    @api.model
    def _collect_web_forms(self, since):
        medium = self.env.ref("utm.utm_medium_website", raise_if_not_found=False)
        if not medium:
            return
        self.env["crm.lead"].flush_model(["medium_id", "name"])
        rows = self.env.execute_query(
            SQL(
                """
            SELECT id, create_date, name
              FROM crm_lead
             WHERE create_date >= %(since)s AND medium_id = %(medium)s
             ORDER BY id
            """,
                since=since,
                medium=medium.id,
            )
        )
        for lead_id, date, name in rows:
            yield {
                "model": "crm.lead",
                "res_id": lead_id,
                "event_type": "web_form",
                "date": date,
                "description": self.env._(
                    "sent the web form “%(subject)s”", subject=name
                ),
                "source_ref": f"crm.lead,{lead_id},web_form",
            }

    @api.model
    def _cron_collect_events(self):
        """Collect the events of each engagement rule, a chunk of rules per call."""
        return self.env["crm.batch"]._run("collect_events")
