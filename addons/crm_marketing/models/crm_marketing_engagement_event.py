from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL, float_round, split_every

SCORED_MODELS = [("res.partner", "Contact"), ("crm.lead", "Lead/Opportunity")]
# A contribution this small is not worth a line among the reasons.
MIN_REASON_POINTS = 0.05
# Past 64 half-lives an event counts for nothing (and float powers underflow).
MAX_HALF_LIVES = 64
TOP_REASONS = 3


class CrmMarketingEngagementEvent(models.Model):
    """The engagement ledger: what a contact or a lead did, when, and its worth.

    Appended to by the system's own collectors (mailing opens, clicks, replies
    and bounces, incoming emails, interactions, tickets, web forms) and by other
    flows through ``_record``; users read it, nobody edits it. A lead's score
    counts its own events and those of its contact that belong to no lead; a
    contact's score counts every event of theirs, their leads' included.
    """

    _name = "crm.marketing.engagement.event"
    _description = "Engagement Event"
    _order = "date desc, id desc"
    _rec_name = "description"

    rule_id = fields.Many2one(
        "crm.marketing.engagement.rule",
        string="Event Type",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    event_type = fields.Char(related="rule_id.code", string="Event Type Code")
    model = fields.Selection(
        SCORED_MODELS, string="Recorded On", required=True, readonly=True
    )
    res_id = fields.Many2oneReference(
        string="Record ID", model_field="model", required=True, readonly=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        readonly=True,
        index="btree_not_null",
        ondelete="cascade",
    )
    lead_id = fields.Many2one(
        "crm.lead",
        string="Lead/Opportunity",
        readonly=True,
        index="btree_not_null",
        ondelete="cascade",
    )
    date = fields.Datetime(required=True, readonly=True, index=True)
    points = fields.Float(
        readonly=True,
        digits=(16, 1),
        help="Points on the day of the event, before decay.",
    )
    description = fields.Char(required=True, readonly=True)
    source_ref = fields.Char(
        string="Source",
        readonly=True,
        help="What the event was read from; the same source is recorded once.",
    )
    company_id = fields.Many2one(
        "res.company",
        readonly=True,
        index=True,
        default=lambda self: self.env.company,
        help="The company of the contact or lead; empty for contacts shared by all "
        "companies.",
    )

    _sql_constraints = [
        (
            "source_ref_unique",
            "UNIQUE(source_ref)",
            "This engagement event is already recorded.",
        ),
    ]

    # ------------------------------------------------------------
    # Recording
    # ------------------------------------------------------------

    @api.model
    def _record(self, events, recompute=True):
        """Append ``events`` to the ledger; return the events actually recorded.

        Each event is a dict: ``model`` ("res.partner" or "crm.lead"), ``res_id``,
        ``event_type`` (the code of an engagement rule), ``date``, ``description``
        (what the person did, in words: "opened “Spring offer”"), and optionally
        ``points`` (else the rule's), ``source_ref`` (an event whose source is
        already recorded is skipped, so recording twice is harmless) and, for
        leads, ``partner_id`` (else the lead's contact).

        Events of archived rules, of records that no longer exist and of people
        who restricted processing are not recorded. Dates in the future are
        recorded as now. With ``recompute``, the scores of the records touched
        are updated at once.
        """
        if not events:
            return self.browse()
        # sudo: the ledger is appended to by the system, on behalf of any flow
        # (a journey run by a marketer, a collector run by the cron).
        self = self.sudo()
        codes = {event["event_type"] for event in events}
        rules = (
            self.env["crm.marketing.engagement.rule"]
            .with_context(active_test=False)
            .search([("code", "in", list(codes))])
        )
        rule_by_code = {rule.code: rule for rule in rules}
        if missing := codes - set(rule_by_code):
            raise UserError(
                self.env._(
                    "No engagement rule has the code %(codes)s; add it under Email "
                    "Marketing > Configuration > Engagement Rules or use an existing "
                    "code.",
                    codes=", ".join(sorted(missing)),
                )
            )
        if unknown := {event["model"] for event in events} - dict(SCORED_MODELS).keys():
            raise UserError(
                self.env._(
                    "Engagement is scored on contacts and leads only, not on "
                    "%(models)s.",
                    models=", ".join(sorted(unknown)),
                )
            )
        ids_by_model = defaultdict(set)
        for event in events:
            ids_by_model[event["model"]].add(event["res_id"])
            if event.get("partner_id"):
                ids_by_model["res.partner"].add(event["partner_id"])
        leads = (
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search_fetch(
                [("id", "in", list(ids_by_model["crm.lead"]))],
                ["partner_id", "company_id"],
            )
        )
        lead_by_id = {lead.id: lead for lead in leads}
        ids_by_model["res.partner"].update(leads.partner_id.ids)
        partners = (
            self.env["res.partner"]
            .with_context(active_test=False)
            .search_fetch(
                [("id", "in", list(ids_by_model["res.partner"]))],
                ["company_id", "privacy_restricted"],
            )
        )
        partner_by_id = {partner.id: partner for partner in partners}
        now = fields.Datetime.now()
        seen = set()
        rows = []
        for event in events:
            rule = rule_by_code[event["event_type"]]
            source_ref = event.get("source_ref") or None
            if not rule.active or (source_ref and source_ref in seen):
                continue
            if event["model"] == "crm.lead":
                lead = lead_by_id.get(event["res_id"])
                if not lead:
                    continue
                partner = partner_by_id.get(
                    event.get("partner_id") or lead.partner_id.id,
                    self.env["res.partner"],
                )
                company = lead.company_id or partner.company_id
            else:
                lead = self.env["crm.lead"]
                partner = partner_by_id.get(event["res_id"])
                if not partner:
                    continue
                company = partner.company_id
            # People who restricted processing are not profiled.
            if partner.privacy_restricted:
                continue
            seen.add(source_ref)
            points = event.get("points")
            rows.append(
                SQL(
                    "(%s, %s, %s, %s, %s, %s, %s::timestamp, %s, %s, %s,"
                    " %s, %s::timestamp, %s, %s::timestamp)",
                    rule.id,
                    event["model"],
                    event["res_id"],
                    partner.id or None,
                    lead.id or None,
                    company.id or None,
                    min(fields.Datetime.to_datetime(event.get("date")) or now, now),
                    rule.points if points is None else points,
                    event.get("description") or rule.name,
                    source_ref,
                    self.env.uid,
                    now,
                    self.env.uid,
                    now,
                )
            )
        ids = []
        for batch in split_every(1000, rows):
            ids += [
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        """
                INSERT INTO crm_marketing_engagement_event
                       (rule_id, model, res_id, partner_id, lead_id, company_id, date,
                        points, description, source_ref,
                        create_uid, create_date, write_uid, write_date)
                VALUES %s
                ON CONFLICT (source_ref) DO NOTHING
                RETURNING id
                """,
                        SQL(", ").join(batch),
                    )
                )
            ]
        recorded = self.browse(ids)
        if recompute and recorded:
            recorded._recompute_touched()
        return recorded

    def _recompute_touched(self):
        """Recompute the scores of the contacts and leads these events count for."""
        rows = self.env.execute_query(
            SQL(
                """
            SELECT ARRAY_AGG(DISTINCT partner_id) FILTER (WHERE partner_id IS NOT NULL),
                   ARRAY_AGG(DISTINCT lead_id) FILTER (WHERE lead_id IS NOT NULL),
                   ARRAY_AGG(DISTINCT partner_id)
                       FILTER (WHERE partner_id IS NOT NULL AND lead_id IS NULL)
              FROM crm_marketing_engagement_event
             WHERE id IN %s
            """,
                tuple(self.ids),
            )
        )
        partner_ids, lead_ids, lone_partner_ids = rows[0]
        partners = self.env["res.partner"].browse(partner_ids or [])
        leads = self.env["crm.lead"].browse(lead_ids or [])
        if lone_partner_ids:
            # A contact's own events also count for their leads, whoever owns them
            # (sudo: scores follow the ledger; nothing is returned to the caller).
            leads |= (
                self.env["crm.lead"]
                .sudo()
                .with_context(active_test=False)
                .search([("partner_id", "in", lone_partner_ids)])
            )
        self._recompute_scores(partners)
        self._recompute_scores(leads)

    # ------------------------------------------------------------
    # Scoring
    # ------------------------------------------------------------

    @api.model
    def _recompute_scores(self, records, batch_size=1000):
        """Update the engagement score, band and reasons of ``records``.

        ``records`` are contacts or leads. Each batch costs the same few queries
        whatever its size: one aggregation over the ledger, one update.
        """
        if not records:
            return
        if records._name not in dict(SCORED_MODELS):
            raise UserError(
                self.env._(
                    "Engagement is scored on contacts and leads only, not on "
                    "%(model)s.",
                    model=records._description,
                )
            )
        now = fields.Datetime.now()
        for batch in split_every(batch_size, records.ids):
            self._score_batch(records.browse(batch), now)

    @api.model
    def _contributions_query(self, records, now):
        """SQL listing (record id, description, date, decayed points) of the
        events counting for ``records``; people restricted count nothing."""
        decayed = SQL(
            "event.points * POWER(0.5, LEAST(GREATEST(EXTRACT(EPOCH FROM "
            "(%s::timestamp - event.date)), 0) / 86400.0 / rule.half_life_days, %s))",
            now,
            MAX_HALF_LIVES,
        )
        ledger = SQL(
            "crm_marketing_engagement_event event "
            "JOIN crm_marketing_engagement_rule rule "
            "ON rule.id = event.rule_id AND rule.active"
        )
        if records._name == "crm.lead":
            return SQL(
                """
            WITH target AS (
                SELECT lead.id, lead.partner_id
                  FROM crm_lead lead
                  LEFT JOIN res_partner partner ON partner.id = lead.partner_id
                 WHERE lead.id IN %(ids)s AND partner.privacy_restricted IS NOT TRUE
            )
            SELECT target.id, event.description, event.date, %(decayed)s
              FROM target JOIN %(ledger)s ON event.lead_id = target.id
             UNION ALL
            SELECT target.id, event.description, event.date, %(decayed)s
              FROM target JOIN %(ledger)s
                ON event.partner_id = target.partner_id AND event.lead_id IS NULL
            """,
                ids=tuple(records.ids),
                decayed=decayed,
                ledger=ledger,
            )
        return SQL(
            """
            SELECT partner.id, event.description, event.date, %(decayed)s
              FROM res_partner partner
              JOIN %(ledger)s ON event.partner_id = partner.id
             WHERE partner.id IN %(ids)s AND partner.privacy_restricted IS NOT TRUE
            """,
            ids=tuple(records.ids),
            decayed=decayed,
            ledger=ledger,
        )

    @api.model
    def _score_batch(self, records, now):
        self.flush_model()
        self.env["crm.marketing.engagement.rule"].flush_model(
            ["active", "half_life_days"]
        )
        self.env["res.partner"].flush_model(["privacy_restricted"])
        self.env["crm.lead"].flush_model(["partner_id"])
        rows = self.env.execute_query(
            SQL(
                """
            WITH contribution(record_id, description, date, points) AS (%(query)s),
            ranked AS (
                SELECT record_id, description, date, points,
                       SUM(points) OVER (PARTITION BY record_id) AS score,
                       ROW_NUMBER() OVER (
                           PARTITION BY record_id ORDER BY ABS(points) DESC, date DESC
                       ) AS rank
                  FROM contribution
            )
            SELECT record_id, score,
                   ARRAY_AGG(description ORDER BY rank),
                   ARRAY_AGG(date ORDER BY rank),
                   ARRAY_AGG(points ORDER BY rank)
              FROM ranked
             WHERE rank <= %(top)s
             GROUP BY record_id, score
            """,
                query=self._contributions_query(records, now),
                top=TOP_REASONS,
            )
        )
        scored = {
            record_id: (
                score,
                self._reasons_text(zip(descriptions, dates, points, strict=True), now),
            )
            for record_id, score, descriptions, dates, points in rows
        }
        warm, hot = records._crm_engagement_thresholds()
        digits = records._fields["crm_engagement_score"].get_digits(self.env)[1]
        values = []
        for record_id in records.ids:
            score, reasons = scored.get(record_id, (0.0, None))
            # Rounded as the ORM rounds the field, so that both write the same.
            score = float_round(score, precision_digits=digits)
            band = "hot" if score >= hot else "warm" if score >= warm else "cold"
            values.append(
                SQL("(%s, %s::float8, %s::text, %s)", record_id, score, reasons, band)
            )
        fnames = [
            "crm_engagement_score",
            "crm_engagement_band",
            "crm_engagement_reasons",
            "crm_engagement_date",
        ]
        records.flush_recordset(fnames)
        self.env.execute_query(
            SQL(
                """
            UPDATE %(table)s target
               SET crm_engagement_score = scored.score,
                   crm_engagement_band = scored.band,
                   crm_engagement_reasons = scored.reasons,
                   crm_engagement_date = %(now)s
              FROM (VALUES %(values)s) AS scored(id, score, reasons, band)
             WHERE target.id = scored.id
            """,
                table=SQL.identifier(records._table),
                now=now,
                values=SQL(", ").join(values),
            )
        )
        records.invalidate_recordset(fnames)
        if records._name == "crm.lead":
            records._crm_engagement_qualify()

    @api.model
    def _reasons_text(self, contributions, now):
        """The top contributions in words: "clicked the “pricing” link in “Spring
        offer” 3 days ago (+6.3)", one per line."""
        lines = [
            self.env._(
                "%(what)s %(when)s (%(points)s)",
                what=description,
                when=self._age_in_words(date, now),
                points=f"{points:+.1f}",
            )
            for description, date, points in contributions
            if abs(points) >= MIN_REASON_POINTS
        ]
        return "\n".join(lines) or None

    @api.model
    def _age_in_words(self, date, now):
        days = max((now - date).days, 0)
        _ = self.env._
        if days == 0:
            return _("today")
        if days == 1:
            return _("yesterday")
        if days < 60:
            return _("%(days)s days ago", days=days)
        return _("%(months)s months ago", months=days // 30)

    # ------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------

    @api.model
    def _cron_recompute_scores(self):
        """Let the contacts' scores decay, a chunk of contacts per call; the
        leads' scores decay by their own cron (``_cron_recompute_lead_scores``)."""
        return self.env["crm.batch"]._run("recompute_contact_scores")

    @api.model
    def _cron_recompute_lead_scores(self):
        """Let the leads' scores decay, a chunk of leads per call."""
        return self.env["crm.batch"]._run("recompute_lead_scores")

    @api.model
    def _decaying_domain(self, model):
        """Domain on ``model`` (contacts or leads) of the records whose score
        decays: those with events, and those still holding a score whose events
        are gone. A lead also counts its contact's events of no lead."""
        holding = [
            "|",
            "|",
            ("crm_engagement_score", ">", 0),
            ("crm_engagement_score", "<", 0),
            ("crm_engagement_reasons", "!=", False),
        ]
        if model == "res.partner":
            with_events = self._search([("partner_id", "!=", False)])
            return expression.OR(
                [[("id", "in", with_events.subselect("partner_id"))], holding]
            )
        with_events = self._search([("lead_id", "!=", False)])
        contacts_with_events = self._search(
            [("lead_id", "=", False), ("partner_id", "!=", False)]
        )
        return expression.OR(
            [
                [("id", "in", with_events.subselect("lead_id"))],
                [("partner_id", "in", contacts_with_events.subselect("partner_id"))],
                holding,
            ]
        )
