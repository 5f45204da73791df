import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval

from .crm_privacy_engine import FISCAL_TABLE_PREFIX

_logger = logging.getLogger(__name__)


class CrmRetentionPolicy(models.Model):
    """Anonymise or delete records nobody touched for a while."""

    _name = "crm.retention.policy"
    _description = "Data Retention Policy"
    _order = "model_id, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    model_id = fields.Many2one(
        "ir.model",
        string="Records",
        required=True,
        ondelete="cascade",
        domain=[("transient", "=", False)],
    )
    model = fields.Char(related="model_id.model")
    date_field = fields.Char(
        string="Last Activity Field",
        required=True,
        default="write_date",
        help="Technical name of the date field telling when a record was last "
        "active; records older than the retention period are due.",
    )
    inactive_days = fields.Integer(
        string="Keep For (days)", required=True, default=1095
    )
    action = fields.Selection(
        [("anonymize", "Anonymise"), ("delete", "Delete")],
        required=True,
        default="anonymize",
    )
    domain = fields.Char(string="Only Records Matching", default="[]")
    preview_count = fields.Integer(string="Due Now", readonly=True, copy=False)
    preview_date = fields.Datetime(string="Previewed On", readonly=True, copy=False)
    last_run_date = fields.Datetime(readonly=True, copy=False)
    last_run_count = fields.Integer(
        string="Last Run Records", readonly=True, copy=False
    )

    @api.constrains("inactive_days", "model_id", "action", "domain", "date_field")
    def _check_policy(self):
        Engine = self.env["crm.privacy.engine"]
        anonymizable = {"res.partner"} | {
            spec["model"]
            for spec in Engine._privacy_specs()
            if spec["erase"] == "anonymize"
        }
        for policy in self:
            if policy.inactive_days <= 0:
                raise ValidationError(
                    self.env._(
                        "Policy “%(name)s”: keep records for at least one day.",
                        name=policy.name,
                    )
                )
            model = self.env[policy.model]
            if (model._table or "").startswith(FISCAL_TABLE_PREFIX):
                raise ValidationError(
                    self.env._(
                        "Policy “%(name)s”: accounting records are fiscal records kept "
                        "under the law; they cannot have a retention policy here.",
                        name=policy.name,
                    )
                )
            if policy.action == "anonymize" and policy.model not in anonymizable:
                raise ValidationError(
                    self.env._(
                        "Policy “%(name)s”: %(model)s has no anonymisation rule; "
                        "choose Delete, or pick one of: %(models)s.",
                        name=policy.name,
                        model=policy.model_id.name,
                        models=", ".join(sorted(anonymizable)),
                    )
                )
            field = model._fields.get(policy.date_field)
            if not field or field.type not in ("date", "datetime") or not field.store:
                raise ValidationError(
                    self.env._(
                        "Policy “%(name)s”: %(field)s is not a stored date field of "
                        "%(model)s; write_date (last change) always is.",
                        name=policy.name,
                        field=policy.date_field,
                        model=policy.model_id.name,
                    )
                )
            try:
                model.search_count(policy._due_domain(), limit=1)
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "Policy “%(name)s”: the filter is not valid (%(error)s).",
                        name=policy.name,
                        error=error,
                    )
                ) from error

    def _due_domain(self):
        self.ensure_one()
        limit = fields.Datetime.now() - timedelta(days=self.inactive_days)
        if self.env[self.model]._fields[self.date_field].type == "date":
            limit = limit.date()
        domain = [(self.date_field, "<", limit)]
        if self.model == "res.partner":
            # Erased partners are done; companies of the database never are.
            domain += [
                ("privacy_erased", "=", False),
                ("user_ids", "=", False),
                (
                    "id",
                    "not in",
                    self.env["res.company"].sudo().search([]).partner_id.ids,
                ),
            ]
        return domain + safe_eval(self.domain or "[]")

    def _due_records(self, limit=None):
        self.ensure_one()
        return (
            self.env[self.model]
            .sudo()
            .with_context(active_test=False)
            .search(self._due_domain(), limit=limit, order="id")
        )

    def action_preview(self):
        """Dry run: count what is due and list it, changing nothing."""
        self.ensure_one()
        records = self._due_records()
        self.write(
            {"preview_count": len(records), "preview_date": fields.Datetime.now()}
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Due under %(policy)s", policy=self.name),
            "res_model": self.model,
            "view_mode": "list,form",
            "domain": [("id", "in", records.ids)],
            "context": {"active_test": False, "create": False},
        }

    def _apply(self, limit=None):
        """Anonymise or delete up to ``limit`` due records; return how many."""
        self.ensure_one()
        records = self._due_records(limit=limit)
        if not records:
            return 0
        if self.action == "delete":
            records.unlink()
        elif self.model == "res.partner":
            # No database-wide sweep in bulk: the registered models are enough.
            self.env["crm.privacy.engine"]._erase(records, sweep=False)
        else:
            spec = next(
                spec
                for spec in self.env["crm.privacy.engine"]._privacy_specs()
                if spec["model"] == self.model and spec["erase"] == "anonymize"
            )
            records.with_context(crm_privacy_erasure=True, tracking_disable=True).write(
                spec["values"]
            )
        self.write(
            {"last_run_date": fields.Datetime.now(), "last_run_count": len(records)}
        )
        return len(records)

    @api.model
    def _cron_apply_retention(self, batch_size=500):
        """Apply every policy, one batch each per run; the cron comes back for more."""
        done = remaining = 0
        for policy in self.search([]):
            try:
                with self.env.cr.savepoint():
                    done += policy._apply(limit=batch_size)
            except Exception:
                _logger.exception("Retention policy %s failed", policy.name)
                continue
            remaining += len(policy._due_records(limit=batch_size))
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
