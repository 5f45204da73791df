import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools.safe_eval import safe_eval

from .crm_privacy_engine import FISCAL_TABLE_PREFIX

_logger = logging.getLogger(__name__)

# What changes what a policy does: whoever changes it becomes its owner.
DEFINITION_FIELDS = {
    "model_id",
    "date_field",
    "inactive_days",
    "action",
    "domain",
    "company_id",
}


class CrmRetentionPolicy(models.Model):
    """Anonymise or delete records nobody touched for a while.

    Only the models registered for privacy (and contacts, through the erasure
    engine) can have a policy. A policy sees the records of its company only,
    and previews and runs with the rights of its owner: what the owner may not
    read, change or delete stays as it is.
    """

    _name = "crm.retention.policy"
    _description = "Data Retention Policy"
    _order = "model_id, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    model_id = fields.Many2one(
        "ir.model",
        string="Records",
        required=True,
        ondelete="cascade",
        domain=[("transient", "=", False)],
        help="Only the models registered for privacy, and contacts, can be chosen.",
    )
    model = fields.Char(related="model_id.model")
    allowed_model_ids = fields.Many2many(
        "ir.model", string="Allowed Models", compute="_compute_allowed_model_ids"
    )
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
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        help="The policy touches the records of this company only. Records shared "
        "by all companies (without a company) are included only while the "
        "database has a single company; models without a company can have a "
        "policy only then.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Owner",
        required=True,
        index=True,
        default=lambda self: self.env.user,
        check_company=True,
        domain=[("share", "=", False)],
        help="The policy previews and runs with this person's rights: records they "
        "may not see, change or delete are left alone. Whoever changes what the "
        "policy does becomes its owner.",
    )
    preview_count = fields.Integer(string="Due Now", readonly=True, copy=False)
    preview_date = fields.Datetime(string="Previewed On", readonly=True, copy=False)
    last_run_date = fields.Datetime(readonly=True, copy=False)
    last_run_count = fields.Integer(
        string="Last Run Records", readonly=True, copy=False
    )

    @api.depends("company_id")
    def _compute_allowed_model_ids(self):
        # sudo: ir.model is for administrators; which models are allowed is no secret.
        allowed = (
            self.env["ir.model"]
            .sudo()
            .search([("model", "in", sorted(self._allowed_models()))])
        )
        for policy in self:
            policy.allowed_model_ids = allowed

    @api.model
    def _allowed_models(self):
        """The models registered for privacy, fiscal ones excepted, and contacts."""
        names = {"res.partner"} | {
            spec["model"] for spec in self.env["crm.privacy.engine"]._privacy_specs()
        }
        return {
            name
            for name in names
            if name in self.env
            and not (self.env[name]._table or "").startswith(FISCAL_TABLE_PREFIX)
        }

    @api.model
    def _single_company(self):
        # sudo: counting companies, archived ones included, tells nothing private.
        Company = self.env["res.company"].sudo().with_context(active_test=False)
        return Company.search_count([], limit=2) == 1

    @api.constrains("inactive_days", "model_id", "action", "domain", "date_field")
    def _check_policy(self):
        Engine = self.env["crm.privacy.engine"]
        allowed = self._allowed_models()
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
            if policy.model not in allowed:
                raise ValidationError(
                    self.env._(
                        "Policy “%(name)s”: %(model)s is not registered for privacy; "
                        "a retention policy can only handle: %(models)s.",
                        name=policy.name,
                        model=policy.model_id.name,
                        models=", ".join(sorted(allowed)),
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
            except UserError:
                raise
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "Policy “%(name)s”: the filter is not valid (%(error)s).",
                        name=policy.name,
                        error=error,
                    )
                ) from error

    @api.model_create_multi
    def create(self, vals_list):
        # The owner may come from the context's defaults too.
        owner = self.default_get(["user_id"]).get("user_id")
        for vals in vals_list:
            vals.setdefault("user_id", owner)
            self._check_owner_choice(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_owner_choice(vals)
        if DEFINITION_FIELDS & set(vals) and "user_id" not in vals and not self.env.su:
            # The policy runs with its owner's rights: whoever redefines it owns it.
            vals = {**vals, "user_id": self.env.uid}
        return super().write(vals)

    def _check_owner_choice(self, vals):
        """Nobody lends themselves someone else's rights, administrators aside."""
        owner = vals.get("user_id")
        if (
            owner
            and owner != self.env.uid
            and not self.env.su
            and not self.env.user.has_group("base.group_system")
        ):
            raise AccessError(
                self.env._(
                    "A retention policy runs with its owner's rights: make yourself "
                    "its owner, or ask an administrator to choose someone else."
                )
            )

    def _due_domain(self):
        self.ensure_one()
        Model = self.env[self.model]
        limit = fields.Datetime.now() - timedelta(days=self.inactive_days)
        if Model._fields[self.date_field].type == "date":
            limit = limit.date()
        domain = [(self.date_field, "<", limit)]
        company_field = Model._fields.get("company_id")
        if company_field and company_field.comodel_name == "res.company":
            if self._single_company():
                domain += [("company_id", "in", [self.company_id.id, False])]
            else:
                domain += [("company_id", "=", self.company_id.id)]
        elif not self._single_company():
            raise UserError(
                self.env._(
                    "Policy “%(name)s”: %(model)s records belong to no company; with "
                    "several companies in the database, a retention policy cannot "
                    "tell which are %(company)s's.",
                    name=self.name,
                    model=self.model_id.name,
                    company=self.company_id.name,
                )
            )
        if self.model == "res.partner":
            # Erased partners are done; companies of the database never are.
            # sudo: the companies' own contacts are excluded whoever runs it.
            companies = self.env["res.company"].sudo().with_context(active_test=False)
            domain += [
                ("privacy_erased", "=", False),
                ("user_ids", "=", False),
                ("id", "not in", companies.search([]).partner_id.ids),
            ]
        return domain + safe_eval(self.domain or "[]")

    def _operation(self):
        self.ensure_one()
        return "unlink" if self.action == "delete" else "write"

    def _check_owner_access(self):
        """Refuse, saying why, unless the owner may act on the policy's records."""
        self.ensure_one()
        _ = self.env._
        owner = self.user_id
        if not owner.active or owner.share or owner._is_superuser():
            raise UserError(
                _(
                    "Policy “%(name)s” runs with its owner's rights: give it an "
                    "active internal user as owner.",
                    name=self.name,
                )
            )
        if self.company_id not in owner.company_ids:
            raise UserError(
                _(
                    "Policy “%(name)s”: its owner %(owner)s does not work for "
                    "%(company)s; choose an owner who does.",
                    name=self.name,
                    owner=owner.name,
                    company=self.company_id.name,
                )
            )
        Model = self.env[self.model].with_user(owner).browse()
        verbs = {"read": _("read"), "write": _("change"), "unlink": _("delete")}
        missing = [
            verbs[operation]
            for operation in ("read", self._operation())
            if not Model.has_access(operation)
        ]
        if self.model == "res.partner" and self.action == "anonymize":
            if not owner.has_group("crm_core.group_crm_compliance"):
                missing.append(_("erase (Compliance Officer)"))
        if missing:
            raise AccessError(
                _(
                    "Policy “%(name)s”: its owner %(owner)s may not %(missing)s "
                    "%(model)s records; choose an owner who may, or ask an "
                    "administrator for these rights.",
                    name=self.name,
                    owner=owner.name,
                    missing=_(" or ").join(missing),
                    model=self.model_id.name,
                )
            )

    def _due_records(self, limit=None):
        """The due records the owner may see and act on, as the owner."""
        self.ensure_one()
        self._check_owner_access()
        Model = (
            self.env[self.model]
            .with_user(self.user_id)
            .with_context(active_test=False, allowed_company_ids=self.company_id.ids)
        )
        # Search rules apply by themselves; those of the action, added here, keep
        # a record the owner may read but not change or delete out of the batch.
        rules = Model.env["ir.rule"]._compute_domain(self.model, self._operation())
        return Model.search(
            expression.AND([self._due_domain(), rules or []]), limit=limit, order="id"
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
            # In bulk, no free-text replacement nor verification scan per person.
            Engine = self.env["crm.privacy.engine"].with_user(self.user_id)
            # Only the due contacts: those filed under them have their own dates.
            Engine._erase(records, sweep=False, with_contacts=False)
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
    def _cron_apply_retention(self):
        """Apply every policy as its owner, a chunk of records at a time."""
        return self.env["crm.batch"]._run("retention")

    # Batch "retention" (crm.batch): each active policy, a chunk of its due
    # records per call; a policy with more left is the next chunk's first row.

    @api.model
    def _batch_retention_domain(self):
        return [("active", "=", True)]

    def _batch_retention_process(self):
        limit = self.env.context.get("crm_batch_size") or 500
        for policy in self:
            try:
                with self.env.cr.savepoint():
                    applied = policy._apply(limit=limit)
            except Exception:
                _logger.exception("Retention policy %s failed", policy.name)
                continue
            if applied == limit and policy._due_records(limit=1):
                return policy
        return None
