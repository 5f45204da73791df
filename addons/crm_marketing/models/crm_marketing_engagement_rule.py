from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .crm_marketing_engagement_collector import COLLECTED_CODES


class CrmMarketingEngagementRule(models.Model):
    """What one kind of engagement event is worth, and how fast it fades.

    An event of this type adds ``points`` to the score of its contact or lead on
    the day it happens; the contribution halves every ``half_life_days``. Rules
    are shared by every company, like mailing lists' types; the events they
    value belong to the companies of their records.
    """

    _name = "crm.marketing.engagement.rule"
    _description = "Engagement Scoring Rule"
    _order = "sequence, id"

    name = fields.Char(string="Event Type", required=True, translate=True)
    code = fields.Char(
        required=True,
        help="How collectors and other flows name this type of event; fixed once "
        "events use it.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(
        default=True,
        help="Archived: events of this type are no longer recorded and no longer "
        "count in scores.",
    )
    points = fields.Float(
        required=True,
        default=5.0,
        digits=(16, 1),
        help="Points an event of this type is worth on the day it happens; negative "
        "for bad signs such as bounces. A change applies to events recorded from "
        "then on.",
    )
    half_life_days = fields.Float(
        string="Half-Life (days)",
        required=True,
        default=30.0,
        digits=(16, 1),
        help="After this many days an event counts for half its points, after twice "
        "as many for a quarter, and so on.",
    )
    description = fields.Text(help="Where the events of this type come from.")
    date_collected = fields.Datetime(
        string="Collected On",
        readonly=True,
        copy=False,
        help="When the events of this type were last read from their source; the "
        "next run reads from then on.",
    )
    event_count = fields.Integer(compute="_compute_event_count", string="Events")

    _sql_constraints = [
        (
            "code_unique",
            "UNIQUE(code)",
            "Another engagement rule already has this code; give each type its own.",
        ),
    ]

    def _compute_event_count(self):
        counts = dict(
            self.env["crm.marketing.engagement.event"]._read_group(
                [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]
            )
        )
        for rule in self:
            rule.event_count = counts.get(rule, 0)

    @api.constrains("half_life_days")
    def _check_half_life_days(self):
        for rule in self:
            if rule.half_life_days <= 0:
                raise ValidationError(
                    self.env._(
                        "Engagement rule “%(rule)s”: the half-life must be a positive "
                        "number of days (for example 30).",
                        rule=rule.name,
                    )
                )

    def write(self, vals):
        if "code" in vals and any(rule.code != vals["code"] for rule in self):
            # sudo: whether events exist, whatever their company.
            used = (
                self.env["crm.marketing.engagement.event"]
                .sudo()
                .search_count([("rule_id", "in", self.ids)], limit=1)
            )
            if used:
                raise ValidationError(
                    self.env._(
                        "Events already use this engagement rule: keep its code, or "
                        "archive it and create a new rule."
                    )
                )
        return super().write(vals)

    def action_view_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_marketing.crm_marketing_engagement_event_action"
        )
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {}
        return action

    # Batch "collect_events" (crm.batch): the collectors read their sources by date
    # since a watermark, not row by row, so the rows are the event types that have
    # a collector, each with its own watermark: a chunk is a set of sources read
    # and committed together (a chunk size of 1 commits after each type).

    @api.model
    def _batch_collect_events_domain(self):
        # Archived types too: their watermark moves on, nothing is recorded.
        return [("code", "in", COLLECTED_CODES)]

    def _batch_collect_events_process(self):
        # The batch browses with active_test off; scoring and qualification
        # read active records, as the collector does outside a batch.
        collector = self.env["crm.marketing.engagement.collector"]
        collector.with_context(active_test=True)._collect(rules=self)
