import json

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL


class CrmAuditLog(models.Model):
    """One entry per audited operation, however many records it touched.

    Written in SQL by the audit hooks (models/base.py); the ORM can only read
    it: nobody, administrators included, creates, edits or deletes entries.
    """

    _name = "crm.audit.log"
    _description = "Audit Log Entry"
    _order = "date desc, id desc"
    _rec_name = "model"

    date = fields.Datetime(required=True, readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users", string="User", readonly=True, index=True, ondelete="set null"
    )
    user_name = fields.Char(
        string="Acted As",
        readonly=True,
        help="Name and login of the user who acted, as they were then: the entry "
        "still says who acted once the user is deleted.",
    )
    model = fields.Char(required=True, readonly=True, index=True)
    model_name = fields.Char(string="Model Name", compute="_compute_model_name")
    operation = fields.Selection(
        [
            ("create", "Create"),
            ("write", "Write"),
            ("unlink", "Delete"),
            ("read", "Read"),
        ],
        required=True,
        readonly=True,
        index=True,
    )
    res_ids = fields.Json(string="Record IDs", readonly=True)
    record_count = fields.Integer(string="Records", readonly=True)
    field_names = fields.Char(string="Fields", readonly=True)
    changes = fields.Json(readonly=True, help="{record id: {field: [old, new]}}")
    changes_text = fields.Text(string="Details", compute="_compute_changes_text")
    company_id = fields.Many2one("res.company", readonly=True, index=True)

    def _compute_model_name(self):
        names = {
            model.model: model.name
            for model in self.env["ir.model"]
            .sudo()
            .search([("model", "in", list(set(self.mapped("model"))))])
        }
        for entry in self:
            entry.model_name = names.get(entry.model, entry.model)

    def _compute_changes_text(self):
        for entry in self:
            entry.changes_text = (
                json.dumps(entry.changes, indent=1, ensure_ascii=False, default=str)
                if entry.changes
                else False
            )

    # Deliberately no super(): entries are written in SQL by _log only.
    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        raise UserError(self.env._("Audit entries are written by the system only."))

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("Audit entries cannot be changed."))

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(self.env._("Audit entries cannot be deleted."))

    @api.model
    def _log(self, records, operation, changes=None, field_names=None):
        """Append one entry for ``operation`` on ``records``: one INSERT."""
        self.env.execute_query(
            SQL(
                """
            INSERT INTO crm_audit_log (date, user_id, user_name, model, operation,
                                       res_ids, record_count, field_names, changes,
                                       company_id, create_uid, create_date, write_uid,
                                       write_date)
            VALUES (NOW() AT TIME ZONE 'UTC', %(uid)s,
                    (SELECT partner.name || ' (' || users.login || ')'
                       FROM res_users users
                       JOIN res_partner partner ON partner.id = users.partner_id
                      WHERE users.id = %(uid)s),
                    %(model)s, %(operation)s, %(res_ids)s::jsonb, %(count)s,
                    %(field_names)s, %(changes)s::jsonb, %(company)s, %(uid)s,
                    NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC')
            """,
                uid=self.env.uid,
                model=records._name,
                operation=operation,
                res_ids=json.dumps(records.ids),
                count=len(records),
                field_names=", ".join(field_names) if field_names else None,
                changes=json.dumps(changes, default=str) if changes else None,
                company=self.env.company.id,
            )
        )
