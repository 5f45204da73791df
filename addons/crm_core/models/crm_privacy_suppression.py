import hashlib
import secrets

from odoo import api, fields, models
from odoo.tools import SQL

SALT_PARAM = "crm_core.privacy_suppression_salt"


class CrmPrivacySuppression(models.Model):
    """The opt-outs of erased people, kept as hashes that name nobody.

    Erasure removes a person's rows from Odoo's email and phone blacklists;
    what stays is the SHA-256 of this database's salt and the normalised email
    address or E.164 number. The blacklist flags and the consent check compute
    the same hash, so an address that comes back is still refused, while the
    table alone tells nobody whose addresses these were.
    """

    _name = "crm.privacy.suppression"
    _description = "Opt-Out of an Erased Person"
    _order = "id desc"
    _rec_name = "kind"

    kind = fields.Selection(
        [("email", "Email"), ("phone", "Phone")], required=True, readonly=True
    )
    digest = fields.Char(
        required=True,
        readonly=True,
        help="SHA-256 of the database's salt and the normalised email address or "
        "E.164 phone number.",
    )

    _sql_constraints = [
        (
            "kind_digest_uniq",
            "unique(kind, digest)",
            "This address is already suppressed.",
        )
    ]

    @api.model
    def _salt(self, create=False):
        """This database's salt; made by the first erasure that needs one."""
        # sudo: a system parameter, read and written by the system only.
        Param = self.env["ir.config_parameter"].sudo()
        salt = Param.get_param(SALT_PARAM)
        if not salt and create:
            salt = secrets.token_hex(16)
            Param.set_param(SALT_PARAM, salt)
        return salt

    @api.model
    def _digest(self, value, salt):
        # Computed the same way in SQL by _suppressed_ids_sql.
        return hashlib.sha256(f"{salt}{value}".encode()).hexdigest()

    @api.model
    def _suppress(self, kind, values):
        """Suppress normalised emails or E.164 numbers; return the new rows."""
        values = {value for value in values if value}
        if not values:
            return self.browse()
        salt = self._salt(create=True)
        digests = {self._digest(value, salt) for value in values}
        # sudo: written by erasure only, whoever the officer running it.
        Suppression = self.sudo()
        existing = Suppression.search(
            [("kind", "=", kind), ("digest", "in", list(digests))]
        )
        return Suppression.create(
            [
                {"kind": kind, "digest": digest}
                for digest in sorted(digests - set(existing.mapped("digest")))
            ]
        )

    @api.model
    def _suppressed(self, kind, values):
        """Return those of ``values`` (normalised emails or E.164 numbers) that
        are suppressed."""
        values = {value for value in values if value}
        salt = self._salt()
        if not (values and salt):
            return set()
        by_digest = {self._digest(value, salt): value for value in values}
        # sudo: only a yes or no per value leaves this method.
        found = self.sudo().search(
            [("kind", "=", kind), ("digest", "in", list(by_digest))]
        )
        return {by_digest[digest] for digest in found.mapped("digest")}

    @api.model
    def _suppressed_ids_sql(self, records, kind, fname):
        """SQL subquery of the ids of ``records``' model whose ``fname`` (a
        stored normalised email or E.164 field) is suppressed, or None."""
        salt = self._salt()
        if not salt:
            return None
        self.flush_model()
        records.flush_model([fname])
        return SQL(
            """(SELECT record.id
                  FROM %s record
                  JOIN %s suppression
                    ON suppression.kind = %s
                   AND suppression.digest
                       = encode(sha256(convert_to(%s || record.%s, 'UTF8')), 'hex'))""",
            SQL.identifier(records._table),
            SQL.identifier(self._table),
            kind,
            salt,
            SQL.identifier(fname),
        )
