import logging

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, split_every
from odoo.tools.safe_eval import datetime, safe_eval, time

_logger = logging.getLogger(__name__)

TARGET_MODELS = [("res.partner", "Customers"), ("crm.lead", "Leads")]
MEMBER_COLUMNS = {"res.partner": "partner_id", "crm.lead": "lead_id"}
CONSENT_CHANNELS = [("email", "Email"), ("sms", "SMS"), ("phone", "Phone")]
CONSENT_FILTERS = [
    ("may_contact", "May be contacted"),
    ("may_not_contact", "May not be contacted"),
]
# Partners handed to crm_core's consent API at a time.
CONSENT_BATCH = 5000
MANAGER_GROUP = "crm_marketing.group_marketing_manager"


class CrmMarketingSegment(models.Model):
    """A saved audience: customers (commercial entities) or leads matching a
    filter and criteria computed from posted invoices (RFM cell, lifecycle
    stage), the engagement band and consent for a purpose.

    Membership is stored (``crm.marketing.segment.member``) and refreshed in
    one SQL statement per segment, by a daily cron and on demand; the filter is
    applied with the access rules of the segment's owner. Mailings and journeys
    select current members with ``_member_domain()``.
    """

    _name = "crm.marketing.segment"
    _description = "Marketing Segment"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    description = fields.Text()
    color = fields.Integer()
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Owner",
        required=True,
        default=lambda self: self.env.user,
        domain=[("share", "=", False)],
        tracking=True,
        help="The refresh reads the records this user may read, and no others.",
    )
    target_model = fields.Selection(
        TARGET_MODELS,
        string="Target",
        required=True,
        default="res.partner",
        tracking=True,
        help="Customers: commercial entities (companies, and individuals who buy "
        "for themselves). Leads: leads and opportunities.",
    )
    include_contacts = fields.Boolean(
        string="Reach Their Contacts",
        help="Mailings and journeys using this segment also reach the contacts of "
        "the member companies, not only the companies' own addresses.",
    )
    domain = fields.Char(string="Filter", default="[]", tracking=True)
    # Criteria computed from posted invoices (the RFM analysis of the company).
    rfm_cell_ids = fields.Many2many(
        "crm.marketing.segment.criterion",
        "crm_marketing_segment_rfm_cell_rel",
        "segment_id",
        "criterion_id",
        string="RFM Cells",
        domain=[("kind", "=", "rfm_cell")],
    )
    lifecycle_ids = fields.Many2many(
        "crm.marketing.segment.criterion",
        "crm_marketing_segment_lifecycle_rel",
        "segment_id",
        "criterion_id",
        string="Lifecycle Stages",
        domain=[("kind", "=", "lifecycle")],
    )
    engagement_band_ids = fields.Many2many(
        "crm.marketing.segment.criterion",
        "crm_marketing_segment_engagement_rel",
        "segment_id",
        "criterion_id",
        string="Engagement Bands",
        domain=[("kind", "=", "engagement_band")],
    )
    consent_purpose_id = fields.Many2one(
        "crm.consent.purpose",
        string="Consent Purpose",
        help="Keep only the records we may (or may not) contact for this purpose, "
        "by crm_core's consent ledger, restrictions and blacklists.",
    )
    consent_channel = fields.Selection(
        CONSENT_CHANNELS, string="Channel", default="email", required=True
    )
    consent_filter = fields.Selection(
        CONSENT_FILTERS, string="Consent", default="may_contact", required=True
    )
    # Membership
    member_ids = fields.One2many("crm.marketing.segment.member", "segment_id")
    member_count = fields.Integer(
        string="Members", readonly=True, copy=False, help="As of the last refresh."
    )
    live_count = fields.Integer(
        string="Matching Now",
        compute="_compute_live_count",
        help="Records the criteria select right now, before saving or refreshing.",
    )
    live_count_error = fields.Char(compute="_compute_live_count")
    date_refresh = fields.Datetime(string="Refreshed On", readonly=True, copy=False)
    refresh_error = fields.Char(
        string="Refresh Failed",
        readonly=True,
        copy=False,
        help="Why the last scheduled refresh failed; empty once a refresh succeeds.",
    )
    history_ids = fields.One2many("crm.marketing.segment.history", "segment_id")
    mailing_count = fields.Integer(compute="_compute_mailing_count")

    @api.depends(
        "target_model",
        "domain",
        "company_id",
        "user_id",
        "rfm_cell_ids",
        "lifecycle_ids",
        "engagement_band_ids",
        "consent_purpose_id",
        "consent_channel",
        "consent_filter",
    )
    def _compute_live_count(self):
        for segment in self:
            segment.live_count, segment.live_count_error = 0, False
            if not segment.target_model or not segment.company_id:
                continue
            try:
                # A filter typed halfway may fail in the database: keep the
                # transaction usable.
                with self.env.cr.savepoint(flush=False):
                    segment.live_count = len(segment._matching_ids())
            except (AccessError, UserError, ValueError) as error:
                segment.live_count_error = str(error)
            except Exception as error:  # a broken filter while typing
                segment.live_count_error = self.env._(
                    "The filter cannot be evaluated: %(error)s", error=error
                )

    def _compute_mailing_count(self):
        counts = dict(
            self.env["mailing.mailing"]._read_group(
                [("crm_segment_id", "in", self.ids)], ["crm_segment_id"], ["__count"]
            )
        )
        for segment in self:
            segment.mailing_count = counts.get(segment, 0)

    @api.constrains("domain", "target_model")
    def _check_domain(self):
        for segment in self:
            try:
                domain = segment._filter_domain()
                with self.env.cr.savepoint():
                    self.env[segment.target_model].search_count(domain, limit=1)
            except AccessError:
                raise
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "Segment “%(segment)s”: the filter is not a valid filter on "
                        "%(target)s (%(error)s); fix it in the domain editor.",
                        segment=segment.name,
                        target=dict(TARGET_MODELS)[segment.target_model],
                        error=error,
                    )
                ) from error

    @api.constrains("rfm_cell_ids", "lifecycle_ids", "engagement_band_ids")
    def _check_criteria_kinds(self):
        for segment in self:
            for field, kind in (
                ("rfm_cell_ids", "rfm_cell"),
                ("lifecycle_ids", "lifecycle"),
                ("engagement_band_ids", "engagement_band"),
            ):
                if wrong := segment[field].filtered(lambda c, k=kind: c.kind != k):
                    raise ValidationError(
                        self.env._(
                            "Segment “%(segment)s”: %(values)s cannot be used as "
                            "%(field)s; pick values of that list.",
                            segment=segment.name,
                            values=", ".join(wrong.mapped("name")),
                            field=self._fields[field].string,
                        )
                    )

    @api.onchange("target_model")
    def _onchange_target_model(self):
        # A filter written for one model rarely makes sense on the other.
        self.domain = "[]"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._guard_owner_change(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._guard_owner_change(vals)
        return super().write(vals)

    @api.model
    def _guard_owner_change(self, vals):
        """Only marketing managers give a segment to somebody else: the refresh
        reads with the owner's rights, which must not be borrowed."""
        owner = vals.get("user_id")
        if (
            owner
            and owner != self.env.uid
            and not self.env.su
            and not self.env.user.has_group(MANAGER_GROUP)
        ):
            raise AccessError(
                self.env._(
                    "Only marketing managers can make somebody else the owner of a "
                    "segment; keep yourself as its owner."
                )
            )

    # ------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------

    def action_refresh(self):
        """Refresh the membership now."""
        self.check_access("read")
        self._refresh()
        return True

    def action_view_members(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Members of %(segment)s", segment=self.name),
            "res_model": self.target_model,
            "views": [(False, "list"), (False, "kanban"), (False, "form")],
            "domain": self._member_domain(),
            "context": {"create": False},
        }

    def action_view_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_marketing.crm_marketing_segment_history_action"
        )
        action["domain"] = [("segment_id", "=", self.id)]
        action["display_name"] = self.env._(
            "Size of %(segment)s over time", segment=self.name
        )
        return action

    def action_view_mailings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "mass_mailing.mailing_mailing_action_mail"
        )
        action["domain"] = [("crm_segment_id", "=", self.id)]
        action["context"] = {
            "default_crm_segment_id": self.id,
            "default_mailing_type": "mail",
        }
        return action

    # ------------------------------------------------------------
    # The interface mailings and journeys use
    # ------------------------------------------------------------

    def _member_domain(self):
        """Domain on ``target_model`` selecting the current members (and, with
        "Reach Their Contacts", the contacts of member companies)."""
        return [("crm_segment_ids", "in", self.ids)]

    # ------------------------------------------------------------
    # Matching
    # ------------------------------------------------------------

    def _uses_rfm(self):
        self.ensure_one()
        return bool(self.rfm_cell_ids or self.lifecycle_ids)

    def _filter_domain(self):
        """The filter as a domain, evaluated for the owner."""
        self.ensure_one()
        owner = self.user_id or self.env.user
        return safe_eval(
            self.domain or "[]",
            {
                "uid": owner.id,
                "user": owner,
                "context_today": lambda: fields.Date.context_today(self),
                "datetime": datetime,
                "time": time,
                "relativedelta": relativedelta,
            },
        )

    def _privacy_domain(self):
        """People who restricted processing, or were erased, are left out."""
        self.ensure_one()
        if self.target_model == "res.partner":
            return [("privacy_restricted", "=", False), ("privacy_erased", "=", False)]
        return [
            "|",
            ("partner_id", "=", False),
            "&",
            ("partner_id.privacy_restricted", "=", False),
            ("partner_id.privacy_erased", "=", False),
        ]

    def _matching_query(self):
        """One SELECT of the ids matching the filter, the invoice criteria and
        the engagement bands, with the owner's access rules (consent aside)."""
        self.ensure_one()
        company = self.company_id
        Target = (
            self.env[self.target_model]
            .with_user(self.user_id or self.env.user)
            .with_context(allowed_company_ids=company.ids, active_test=True)
        )
        domain = expression.AND(
            [
                [("company_id", "in", [False, company.id])],
                self._privacy_domain(),
                self._filter_domain(),
            ]
        )
        if self.engagement_band_ids:
            bands = self.engagement_band_ids.mapped("code")
            domain = expression.AND([domain, [("crm_engagement_band", "in", bands)]])
        query = Target._search(domain)
        alias = query.table
        record = SQL.identifier(alias, "id")
        if self.target_model == "res.partner":
            # Customers are commercial entities; their contacts follow them.
            query.add_where(
                SQL("%s = %s", SQL.identifier(alias, "commercial_partner_id"), record)
            )
            customer = record
        else:
            customer_alias = query.make_alias(alias, "crm_segment_customer")
            query.add_join(
                "LEFT JOIN",
                customer_alias,
                SQL.identifier("res_partner"),
                SQL(
                    "%s = %s",
                    SQL.identifier(customer_alias, "id"),
                    SQL.identifier(alias, "partner_id"),
                ),
            )
            customer = SQL.identifier(customer_alias, "commercial_partner_id")
        if self._uses_rfm():
            rfm_alias = query.make_alias(alias, "crm_segment_rfm")
            query.add_join(
                "LEFT JOIN",
                rfm_alias,
                # The view, with the changes it reads flushed first.
                self.env["crm.marketing.rfm"]._table_sql,
                SQL(
                    "%s = %s AND %s = %s",
                    SQL.identifier(rfm_alias, "partner_id"),
                    customer,
                    SQL.identifier(rfm_alias, "company_id"),
                    company.id,
                ),
            )
            if self.rfm_cell_ids:
                query.add_where(
                    SQL(
                        "%s IN %s",
                        SQL.identifier(rfm_alias, "cell"),
                        tuple(self.rfm_cell_ids.mapped("code")),
                    )
                )
            if self.lifecycle_ids:
                query.add_where(self._lifecycle_condition(alias, rfm_alias, customer))
        return query.select(record)

    def _lifecycle_condition(self, alias, rfm_alias, customer):
        """Lifecycle stages from the RFM analysis; "lead" for those without a
        posted invoice and with an open lead or opportunity."""
        stages = self.lifecycle_ids.mapped("code")
        conditions = []
        if invoiced := [stage for stage in stages if stage != "lead"]:
            conditions.append(
                SQL("%s IN %s", SQL.identifier(rfm_alias, "lifecycle"), tuple(invoiced))
            )
        if "lead" in stages:
            self.env["crm.lead"].flush_model(
                ["active", "stage_id", "partner_id", "company_id"]
            )
            if self.target_model == "res.partner":
                open_lead = SQL(
                    """EXISTS (
                    SELECT 1 FROM crm_lead lead
                      JOIN res_partner contact ON contact.id = lead.partner_id
                      LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                     WHERE contact.commercial_partner_id = %(customer)s
                       AND lead.active AND NOT COALESCE(stage.is_won, FALSE)
                       AND (lead.company_id IS NULL OR lead.company_id = %(company)s))
                    """,
                    customer=customer,
                    company=self.company_id.id,
                )
            else:
                open_lead = SQL(
                    """%(alias)s.active AND NOT EXISTS (
                    SELECT 1 FROM crm_stage stage
                     WHERE stage.id = %(alias)s.stage_id AND stage.is_won)
                    """,
                    alias=SQL.identifier(alias),
                )
            conditions.append(
                SQL("(%s IS NULL AND %s)", SQL.identifier(rfm_alias, "id"), open_lead)
            )
        return SQL("(%s)", SQL(" OR ").join(conditions))

    def _apply_consent(self, record_ids):
        """Keep those of ``record_ids`` that pass the consent criterion.

        crm_core's consent API decides, in batches: it checks blacklists and
        formats phone numbers in Python, so this part is batched rather than one
        SQL pass. A lead is judged by its customer; a lead without one may not be
        contacted.
        """
        self.ensure_one()
        if not self.consent_purpose_id or not record_ids:
            return record_ids
        # sudo: the consent ledger and addresses of the candidates, who already
        # passed the owner's access rules; only ids leave this method.
        if self.target_model == "res.partner":
            person_of = {record_id: record_id for record_id in record_ids}
        else:
            self.env["crm.lead"].flush_model(["partner_id"])
            person_of = dict(
                self.env.execute_query(
                    SQL(
                        "SELECT id, partner_id FROM crm_lead "
                        "WHERE id = ANY(%s) AND partner_id IS NOT NULL",
                        list(record_ids),
                    )
                )
            )
        Partner = self.env["res.partner"].sudo()
        allowed = set()
        for batch in split_every(CONSENT_BATCH, sorted(set(person_of.values()))):
            allowed.update(
                Partner.browse(batch)
                ._crm_may_contact(self.consent_purpose_id.code, self.consent_channel)
                .ids
            )
        wanted = self.consent_filter == "may_contact"
        return [
            record_id
            for record_id in record_ids
            if (person_of.get(record_id) in allowed) == wanted
        ]

    def _matching_ids(self):
        """Ids of the records matching every criterion right now."""
        self.ensure_one()
        ids = [row[0] for row in self.env.execute_query(self._matching_query())]
        return self._apply_consent(ids)

    # ------------------------------------------------------------
    # Refresh
    # ------------------------------------------------------------

    def _refresh(self):
        """Refresh the membership of each segment."""
        for segment in self:
            segment._refresh_members()

    def _refresh_members(self):
        """Replace the members by the records matching now, in one statement,
        and record the day's size."""
        self.ensure_one()
        column = SQL.identifier(MEMBER_COLUMNS[self.target_model])
        if self.consent_purpose_id:
            matching = SQL("SELECT UNNEST(%s::int[]) AS id", self._matching_ids() or [])
        else:
            matching = self._matching_query()
        today = fields.Date.context_today(self)
        now = fields.Datetime.now()
        # "IS NOT NULL" lets PostgreSQL use the partial unique index of the column.
        # The differences are set operations (EXCEPT), linear whatever the
        # planner guesses of the matching rows: an anti-join it believed to be
        # tiny turned quadratic on the first refresh of a big segment.
        count, added, removed = self.env.execute_query(
            SQL(
                """
            WITH matching AS MATERIALIZED (%(matching)s),
            current AS MATERIALIZED (
                SELECT member.%(column)s AS id
                  FROM crm_marketing_segment_member member
                 WHERE member.segment_id = %(segment)s
                   AND member.%(column)s IS NOT NULL
            ),
            removed AS (
                DELETE FROM crm_marketing_segment_member member
                 WHERE member.segment_id = %(segment)s
                   AND member.%(column)s IS NOT NULL
                   AND member.%(column)s IN (
                       SELECT id FROM current EXCEPT SELECT id FROM matching)
                RETURNING 1
            ),
            added AS (
                INSERT INTO crm_marketing_segment_member
                       (segment_id, %(column)s, date_joined)
                SELECT %(segment)s, joining.id, %(now)s
                  FROM (SELECT id FROM matching EXCEPT SELECT id FROM current) joining
                RETURNING 1
            ),
            sizes AS (
                SELECT (SELECT COUNT(*) FROM matching) AS member_count,
                       (SELECT COUNT(*) FROM added) AS added_count,
                       (SELECT COUNT(*) FROM removed) AS removed_count
            ),
            history AS (
                INSERT INTO crm_marketing_segment_history AS history
                       (segment_id, date, member_count, added_count, removed_count,
                        create_uid, create_date, write_uid, write_date)
                SELECT %(segment)s, %(today)s, member_count, added_count,
                       removed_count, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM sizes
                ON CONFLICT (segment_id, date) DO UPDATE
                   SET member_count = EXCLUDED.member_count,
                       added_count = history.added_count + EXCLUDED.added_count,
                       removed_count = history.removed_count + EXCLUDED.removed_count,
                       write_uid = EXCLUDED.write_uid,
                       write_date = EXCLUDED.write_date
            )
            SELECT member_count, added_count, removed_count FROM sizes
            """,
                matching=matching,
                segment=self.id,
                column=column,
                today=today,
                now=now,
                uid=self.env.uid,
            )
        )[0]
        self.env["crm.marketing.segment.member"].invalidate_model()
        self.env["crm.marketing.segment.history"].invalidate_model()
        # sudo: the refresh's own bookkeeping, whoever asked for the refresh.
        self.sudo().write(
            {"member_count": count, "date_refresh": now, "refresh_error": False}
        )
        return count, added, removed

    @api.model
    def _cron_refresh_segments(self):
        """Refresh every active segment, a chunk of segments per call."""
        return self.env["crm.batch"]._run("refresh_segments")

    # Batch "refresh_segments" (crm.batch): the active segments. A segment is
    # refreshed by one SQL statement over its whole audience, so it is the unit:
    # a chunk is that many segments refreshed and committed together.

    @api.model
    def _batch_refresh_segments_domain(self):
        return [("active", "=", True)]

    def _batch_refresh_segments_process(self):
        """Refresh each segment in its own savepoint so that one broken filter does
        not stop the others; a failure is posted once, not at every run."""
        # The batch browses with active_test off; matching wants active records.
        for segment in self.with_context(active_test=True):
            try:
                with self.env.cr.savepoint():
                    segment._refresh()
            except Exception as error:  # one segment must not stop the others
                _logger.warning(
                    "Segment %s (id %s) could not be refreshed: %s",
                    segment.name,
                    segment.id,
                    error,
                )
                if segment.refresh_error == str(error):
                    continue
                segment.refresh_error = str(error)
                segment.message_post(
                    body=self.env._(
                        "This segment could not be refreshed: %(error)s. Fix its "
                        "filter or owner.",
                        error=error,
                    )
                )
