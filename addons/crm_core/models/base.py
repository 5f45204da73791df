from odoo import api, models

# Values the audit log keeps as "changed" without copying them.
UNLOGGED_TYPES = ("binary", "html")
# Secrets are never copied into the log: that they changed is all it keeps. A
# field is secret when one of the words of its name (split on "_") is one of
# these: api_key, access_token, totp_secret, new_password; not "monkey_count".
SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "tokens",
        "key",
        "keys",
        "apikey",
        "apikeys",
        "credential",
        "credentials",
    }
)
CHANGED = "(changed)"


def is_secret_field(field):
    """Whether the audit log may keep only that ``field`` changed: a password,
    secret, token or key by its name, or any field restricted by ``groups``."""
    return bool(field.groups) or not SECRET_WORDS.isdisjoint(
        field.name.lower().split("_")
    )


class Base(models.AbstractModel):
    """Audit hooks: one log entry per create, write, unlink or read call on the
    models an audit rule names; nothing but a cached lookup for the others."""

    _inherit = "base"

    def _crm_audited(self, operation):
        registry = self.env.registry
        if not registry.ready or self._transient or "crm.audit.rule" not in registry:
            return False
        return operation in self.env["crm.audit.rule"]._operations(self._name)

    def _crm_audit_values(self, names):
        # Values never copied: secrets, and files or rich text (too big).
        markers = {}
        for name in names:
            if is_secret_field(self._fields[name]):
                markers[name] = CHANGED
            elif self._fields[name].type in UNLOGGED_TYPES:
                markers[name] = "…"
        values = {}
        for record in self:
            values[record.id] = {
                name: (
                    markers[name]
                    if name in markers
                    else self._fields[name].convert_to_read(
                        record[name], record, use_display_name=False
                    )
                )
                for name in names
            }
        return values

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if records and records._crm_audited("create"):
            names = sorted(
                {name for vals in vals_list for name in vals if name in self._fields}
            )
            changes = {
                record_id: {name: [False, value] for name, value in values.items()}
                for record_id, values in records._crm_audit_values(names).items()
            }
            self.env["crm.audit.log"]._log(records, "create", changes, names)
        return records

    def write(self, vals):
        if not self or not self._crm_audited("write"):
            return super().write(vals)
        names = sorted(name for name in vals if name in self._fields)
        before = self._crm_audit_values(names)
        res = super().write(vals)
        after = self._crm_audit_values(names)
        changes = {}
        for record_id, old_values in before.items():
            new_values = after[record_id]
            changed = {
                name: [old_values[name], new_values[name]]
                for name in names
                if old_values[name] != new_values[name]
                or old_values[name] in ("…", CHANGED)
            }
            if changed:
                changes[record_id] = changed
        self.env["crm.audit.log"]._log(self, "write", changes, names)
        return res

    def unlink(self):
        if self and self._crm_audited("unlink"):
            changes = {
                record.id: {"display_name": record.display_name} for record in self
            }
            self.env["crm.audit.log"]._log(self, "unlink", changes)
        return super().unlink()

    def _crm_audit_read(self, field_names):
        if self and not self.env.su and self._crm_audited("read"):
            names = field_names or [
                name for name, field in self._fields.items() if field.store
            ]
            self.env["crm.audit.log"]._log(self, "read", field_names=names)

    @api.readonly
    def read(self, fields=None, load="_classic_read"):
        result = super().read(fields, load)
        self._crm_audit_read(fields)
        return result

    @api.model
    @api.readonly
    def search_read(
        self, domain=None, fields=None, offset=0, limit=None, order=None, **read_kwargs
    ):
        result = super().search_read(
            domain, fields, offset, limit, order, **read_kwargs
        )
        if result:
            self.browse([row["id"] for row in result])._crm_audit_read(fields)
        return result

    def export_data(self, fields_to_export):
        result = super().export_data(fields_to_export)
        self._crm_audit_read(fields_to_export)
        return result
