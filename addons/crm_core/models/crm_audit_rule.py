from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import SQL

OPERATIONS = ("create", "write", "unlink", "read")
# Technical models are Odoo's own machinery: views, actions, parameters, files, keys.
TECHNICAL_PREFIXES = ("ir.", "base.", "bus.")
UNAUDITABLE_MODELS = {
    "crm.audit.log",
    "res.users.apikeys",
    "res.users.log",
    "auth_totp.device",
}


def is_auditable(model_name):
    """Whether an audit rule may name the model."""
    return not (
        model_name in UNAUDITABLE_MODELS or model_name.startswith(TECHNICAL_PREFIXES)
    )


class CrmAuditRule(models.Model):
    """Which operations on which model go to the audit log."""

    _name = "crm.audit.rule"
    _description = "Audit Rule"
    _order = "model_id"

    model_id = fields.Many2one(
        "ir.model",
        string="Model",
        required=True,
        ondelete="cascade",
        domain=[
            ("transient", "=", False),
            ("model", "not in", sorted(UNAUDITABLE_MODELS)),
            "!",
            ("model", "=like", "ir.%"),
            "!",
            ("model", "=like", "base.%"),
            "!",
            ("model", "=like", "bus.%"),
        ],
    )
    model = fields.Char(related="model_id.model", store=True, string="Technical Name")
    active = fields.Boolean(default=True)
    log_create = fields.Boolean(string="Creations", default=True)
    log_write = fields.Boolean(string="Changes", default=True)
    log_unlink = fields.Boolean(string="Deletions", default=True)
    log_read = fields.Boolean(
        string="Read Access (sensitive data)",
        help="Who read which records and fields. For sensitive data only: every "
        "list and form opened is logged.",
    )

    _sql_constraints = [
        ("model_unique", "UNIQUE(model_id)", "A model has one audit rule at most.")
    ]

    @api.constrains("model_id")
    def _check_model(self):
        for rule in self:
            if rule.model_id.transient or rule.model == "crm.audit.log":
                raise ValidationError(
                    self.env._(
                        "%(model)s cannot be audited: wizards are temporary and the "
                        "audit log audits itself by being append-only.",
                        model=rule.model_id.name,
                    )
                )
            if not is_auditable(rule.model):
                raise ValidationError(
                    self.env._(
                        "%(model)s cannot be audited: it is one of Odoo's technical "
                        "models (views, actions, settings, files, keys), and its "
                        "values may be secrets. Audit the business records instead.",
                        model=rule.model_id.name,
                    )
                )

    @api.model
    @tools.ormcache("model_name")
    def _operations(self, model_name):
        """The audited operations of a model, cached until a rule changes."""
        if not is_auditable(model_name):
            # Rules made before technical models were refused log nothing.
            return frozenset()
        self.flush_model()
        rows = self.env.execute_query(
            SQL(
                """
            SELECT log_create, log_write, log_unlink, log_read
              FROM crm_audit_rule
             WHERE model = %s AND active
            """,
                model_name,
            )
        )
        if not rows:
            return frozenset()
        return frozenset(op for op, on in zip(OPERATIONS, rows[0], strict=True) if on)

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        self._rules_changed()
        return rules

    def write(self, vals):
        res = super().write(vals)
        self._rules_changed()
        return res

    def unlink(self):
        res = super().unlink()
        self._rules_changed()
        return res

    def _rules_changed(self):
        self.env.registry.clear_cache()
        registry = self.env.registry
        before = getattr(registry, "crm_read_audited_models", frozenset())
        self._register_hook()
        if registry.crm_read_audited_models != before:
            # Other workers learn the new set by reloading their registry.
            registry.registry_invalidated = True

    def _register_hook(self):
        # Read-audited models must not be read on a read-only cursor (see the
        # dataset controller); the set lives on the registry, no query needed.
        super()._register_hook()
        self.env.registry.crm_read_audited_models = frozenset(
            self.sudo().search([("log_read", "=", True)]).mapped("model")
        )
