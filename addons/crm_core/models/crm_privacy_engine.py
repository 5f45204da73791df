import json
import re

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

# Accounting records are fiscal records: erasure and its final sweep leave them
# as issued, and the report says so.
FISCAL_TABLE_PREFIX = "account_"
ERASED = "[erased]"
# Shorter values (initials, short numbers) would match unrelated text.
MIN_NEEDLE_LENGTH = 5

PARTNER_EXPORT_FIELDS = [
    "name",
    "type",
    "parent_id",
    "function",
    "email",
    "phone",
    "mobile",
    "street",
    "street2",
    "zip",
    "city",
    "state_id",
    "country_id",
    "vat",
    "website",
    "lang",
    "comment",
    "create_date",
]
PARTNER_ERASED_VALUES = {
    "email": False,
    "phone": False,
    "mobile": False,
    "street": False,
    "street2": False,
    "zip": False,
    "city": False,
    "state_id": False,
    "vat": False,
    "website": False,
    "function": False,
    "comment": False,
    "ref": False,
    "title": False,
    "company_registry": False,
    "image_1920": False,
    "privacy_erased": True,
    "active": False,
}


class CrmPrivacyEngine(models.AbstractModel):
    """Everything we hold about a person: export it, or erase it.

    Each model holding personal data is described by a spec in
    ``_privacy_specs``; later addons append theirs, so export and erasure
    follow every installed module. Mail (messages, tracking values,
    followers, notifications), activities and attachments of the records
    found are handled here for all of them.
    """

    _name = "crm.privacy.engine"
    _description = "Personal Data Export and Erasure"

    @api.model
    def _privacy_specs(self):
        """Describe what each model holds about a person.

        A spec is a dict: ``model``; ``partner_field``, the field pointing to
        the person; ``domain``, optional; ``export``, the fields exported;
        ``erase``: ``"anonymize"`` (with ``values`` to write), ``"delete"``, or
        ``"keep"`` (with the ``reason`` given in the erasure report).
        """
        _ = self.env._
        return [
            {
                "model": "crm.lead",
                "partner_field": "partner_id",
                "export": [
                    "name",
                    "type",
                    "contact_name",
                    "partner_name",
                    "email_from",
                    "phone",
                    "mobile",
                    "street",
                    "city",
                    "zip",
                    "country_id",
                    "description",
                    "expected_revenue",
                    "stage_id",
                    "user_id",
                    "create_date",
                ],
                "erase": "anonymize",
                "values": {
                    "name": _("Erased lead"),
                    "contact_name": False,
                    "partner_name": False,
                    "email_from": False,
                    "email_cc": False,
                    "phone": False,
                    "mobile": False,
                    "street": False,
                    "street2": False,
                    "city": False,
                    "zip": False,
                    "website": False,
                    "description": False,
                    "function": False,
                },
            },
            {
                "model": "crm.interaction",
                "partner_field": "partner_id",
                "export": [
                    "date",
                    "channel",
                    "direction",
                    "name",
                    "description",
                    "outcome",
                    "user_id",
                ],
                "erase": "anonymize",
                "values": {"name": _("Erased interaction"), "description": False},
            },
            {
                "model": "crm.consent",
                "partner_field": "partner_id",
                "export": [
                    "date",
                    "purpose_id",
                    "channel",
                    "state",
                    "legal_basis",
                    "source",
                    "proof",
                    "ip_address",
                ],
                "erase": "anonymize",
                "values": {
                    "proof": False,
                    "ip_address": False,
                    "document": False,
                    "document_name": False,
                },
            },
            {
                "model": "crm.privacy.request",
                "partner_field": "partner_id",
                "export": ["name", "request_type", "state", "date_received"],
                "erase": "anonymize",
                "values": {"description": False},
            },
            {
                "model": "calendar.event",
                "partner_field": "partner_ids",
                "export": ["name", "start", "stop", "location", "description"],
                "erase": "anonymize",
                "values": {
                    "name": _("Erased meeting"),
                    "description": False,
                    "location": False,
                },
            },
            {
                "model": "account.move",
                "partner_field": "partner_id",
                "domain": [("state", "=", "draft"), ("posted_before", "=", False)],
                "export": ["name", "move_type", "invoice_date", "amount_total"],
                "erase": "delete",
            },
            {
                "model": "account.move",
                "partner_field": "partner_id",
                "domain": ["|", ("state", "!=", "draft"), ("posted_before", "=", True)],
                "export": [
                    "name",
                    "move_type",
                    "invoice_date",
                    "invoice_date_due",
                    "amount_total",
                    "amount_residual",
                    "payment_state",
                    "state",
                ],
                "erase": "keep",
                "reason": _(
                    "posted invoices and journal entries are fiscal records the law "
                    "requires us to keep: numbers, dates, lines, amounts and the "
                    "issued documents stay; the name shown in the database is "
                    "replaced"
                ),
            },
        ]

    # ------------------------------------------------------------
    # Finding the data
    # ------------------------------------------------------------

    @api.model
    def _subject(self, partners):
        """The person and the addresses and contacts filed under them."""
        return (
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            .search([("id", "child_of", partners.ids)])
        )

    @api.model
    def _spec_records(self, spec, subject):
        Model = self.env[spec["model"]].sudo().with_context(active_test=False)
        return Model.search(
            [(spec["partner_field"], "in", subject.ids)] + spec.get("domain", [])
        )

    @api.model
    def _collect(self, subject):
        """Return [(spec, records)] for every installed model holding data."""
        found = []
        for spec in self._privacy_specs():
            if spec["model"] in self.env:
                found.append((spec, self._spec_records(spec, subject)))
        return found

    @api.model
    def _thread_domain(self, records_by_model, res_model="model"):
        """Domain on (model, res_id) matching any of the records."""
        domain = []
        for model, ids in records_by_model.items():
            if not ids:
                continue
            term = ["&", (res_model, "=", model), ("res_id", "in", list(ids))]
            domain = ["|", *domain, *term] if domain else term
        return domain or [("id", "=", 0)]

    @api.model
    def _messages(self, subject, records_by_model):
        domain = self._thread_domain(records_by_model)
        return (
            self.env["mail.message"]
            .sudo()
            .search(["|", ("author_id", "in", subject.ids), *domain])
        )

    # ------------------------------------------------------------
    # Access and portability
    # ------------------------------------------------------------

    @api.model
    def _export(self, partner):
        """Everything we hold about ``partner`` as a JSON-ready dict."""
        subject = self._subject(partner)
        data = {
            "exported_on": fields.Datetime.now(),
            "person": subject.read(PARTNER_EXPORT_FIELDS),
        }
        records_by_model = {"res.partner": set(subject.ids)}
        for spec, records in self._collect(subject):
            names = [name for name in spec["export"] if name in records._fields]
            data.setdefault(spec["model"], []).extend(records.read(names))
            records_by_model.setdefault(spec["model"], set()).update(records.ids)
        messages = self._messages(subject, records_by_model)
        data["mail.message"] = messages.read(
            ["date", "model", "res_id", "message_type", "subject", "body", "email_from"]
        )
        data["mail.activity"] = (
            self.env["mail.activity"]
            .sudo()
            .search(self._thread_domain(records_by_model, "res_model"))
            .read(["res_model", "res_id", "summary", "note", "date_deadline"])
        )
        data["ir.attachment"] = (
            self.env["ir.attachment"]
            .sudo()
            .search(self._thread_domain(records_by_model, "res_model"))
            .read(["name", "res_model", "res_id", "mimetype", "datas", "create_date"])
        )
        return data

    @api.model
    def _export_json(self, partner):
        def default(value):
            # read() gives binary fields base64-encoded already.
            if isinstance(value, bytes):
                return value.decode()
            return str(value)

        data = self._export(partner)
        return json.dumps(data, default=default, indent=2, ensure_ascii=False)

    # ------------------------------------------------------------
    # Erasure
    # ------------------------------------------------------------

    @api.model
    def _needles(self, subject):
        """The identifying values to look for: names, emails, phone numbers."""
        values = set()
        for partner in subject:
            values.update(
                {partner.name, partner.email, partner.email_normalized}
                | {partner.phone, partner.mobile}
            )
            for number in (partner.phone, partner.mobile):
                if number:
                    values.add(partner._phone_format(number=number) or number)
                    values.add(re.sub(r"[^\d+]", "", number))
        return sorted(
            {v.strip().lower() for v in values if v and len(v.strip()) >= 5},
            key=len,
            reverse=True,
        )

    @api.model
    def _erase(self, partners, sweep=True):
        """Anonymise ``partners`` and their contacts across every model.

        Fiscal records are kept. With ``sweep``, a final pass replaces any
        remaining occurrence of their names, emails and phone numbers in every
        other text column of the database. Returns the report lines (what was done,
        what was kept and why), which name nobody.
        """
        _ = self.env._
        subject = self._subject(partners)
        if employees := subject.user_ids.filtered(lambda user: not user.share):
            raise UserError(
                _(
                    "%(names)s use this database; archive their user accounts and "
                    "handle their data under your employee policy.",
                    names=", ".join(employees.mapped("name")),
                )
            )
        if (
            companies := self.env["res.company"]
            .sudo()
            .search([("partner_id", "in", subject.ids)])
        ):
            raise UserError(
                _(
                    "%(companies)s are companies of this database; they cannot be "
                    "erased.",
                    companies=", ".join(companies.mapped("name")),
                )
            )
        needles = self._needles(subject)
        quiet = {
            "crm_privacy_erasure": True,
            "tracking_disable": True,
            "mail_notrack": True,
            "mail_create_nolog": True,
            "active_test": False,
        }
        report = []
        records_by_model = {"res.partner": set(subject.ids)}
        kept_by_model = {}
        to_delete = []
        for spec, records in self._collect(subject):
            if not records:
                continue
            records = records.with_context(**quiet)
            label = self.env["ir.model"]._get(spec["model"]).name
            if spec["erase"] == "keep":
                kept_by_model.setdefault(spec["model"], set()).update(records.ids)
                report.append(
                    _(
                        "%(count)s %(model)s kept: %(reason)s.",
                        count=len(records),
                        model=label,
                        reason=spec["reason"],
                    )
                )
                continue
            records_by_model.setdefault(spec["model"], set()).update(records.ids)
            if spec["erase"] == "anonymize":
                records.write(spec["values"])
                report.append(
                    _(
                        "%(count)s %(model)s anonymised.",
                        count=len(records),
                        model=label,
                    )
                )
            else:
                to_delete.append(records)
                report.append(
                    _("%(count)s %(model)s deleted.", count=len(records), model=label)
                )
        report += self._erase_mail(subject, records_by_model, kept_by_model)
        for records in to_delete:
            records.unlink()
        if users := subject.user_ids.with_context(**quiet):
            users.write({"active": False})
            for user in users:
                user.login = f"erased-{user.id}"
            report.append(_("%(count)s portal user(s) archived.", count=len(users)))
        subject = subject.with_context(**quiet)
        for partner in subject:
            partner.write(
                {
                    **PARTNER_ERASED_VALUES,
                    "name": _("Erased person %(id)s", id=partner.id),
                }
            )
        report.append(_("%(count)s contact(s) anonymised.", count=len(subject)))
        swept = self._sweep(needles) if sweep else {}
        if swept:
            report.append(
                _(
                    "Also replaced in: %(columns)s.",
                    columns=", ".join(
                        f"{table}.{column} ({count})"
                        for (table, column), count in sorted(swept.items())
                    ),
                )
            )
        return report

    @api.model
    def _erase_mail(self, subject, records_by_model, kept_by_model):
        """Messages, tracking values, notifications, followers, activities, files."""
        _ = self.env._
        threads = {model: set(ids) for model, ids in records_by_model.items()}
        for model, ids in kept_by_model.items():
            threads.setdefault(model, set()).update(ids)
        messages = self._messages(subject, threads)
        # What tracking remembers of the person on other records, by their id.
        partner_fields = (
            self.env["ir.model.fields"]
            .sudo()
            .search([("ttype", "=", "many2one"), ("relation", "=", "res.partner")])
        )
        trackings = (
            self.env["mail.tracking.value"]
            .sudo()
            .search(
                [
                    "|",
                    ("mail_message_id", "in", messages.ids),
                    "&",
                    ("field_id", "in", partner_fields.ids),
                    "|",
                    ("old_value_integer", "in", subject.ids),
                    ("new_value_integer", "in", subject.ids),
                ]
            )
        )
        trackings.unlink()
        mails = (
            self.env["mail.mail"]
            .sudo()
            .search(
                [
                    "|",
                    ("mail_message_id", "in", messages.ids),
                    ("recipient_ids", "in", subject.ids),
                ]
            )
        )
        mails.unlink()
        self.env["mail.notification"].sudo().search(
            [("res_partner_id", "in", subject.ids)]
        ).unlink()
        self.env["mail.followers"].sudo().search(
            [("partner_id", "in", subject.ids)]
        ).unlink()
        messages.write(
            {
                "body": False,
                "subject": False,
                "email_from": False,
                "reply_to": False,
                "record_name": False,
            }
        )
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search(self._thread_domain(records_by_model, "res_model"))
        )
        activities.unlink()
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .search(self._thread_domain(records_by_model, "res_model"))
        )
        attachments.unlink()
        return [
            _(
                "%(messages)s message(s) emptied, %(activities)s activity(ies) and "
                "%(files)s attachment(s) deleted.",
                messages=len(messages),
                activities=len(activities),
                files=len(attachments),
            )
        ]

    @api.model
    def _text_columns(self):
        """{table: [columns]} of every text column of the database."""
        rows = self.env.execute_query(
            SQL(
                """
            SELECT col.table_name, col.column_name
              FROM information_schema.columns col
              JOIN information_schema.tables tab
                ON tab.table_schema = col.table_schema
               AND tab.table_name = col.table_name
             WHERE col.table_schema = current_schema()
               AND tab.table_type = 'BASE TABLE'
               AND col.data_type IN ('character varying', 'text', 'jsonb', 'character')
             ORDER BY col.table_name, col.ordinal_position
            """
            )
        )
        columns = {}
        for table, column in rows:
            columns.setdefault(table, []).append(column)
        return columns

    @api.model
    def _scan(self, needles):
        """Return {(table, column): rows} of text columns containing any needle."""
        self.env.flush_all()
        found = {}
        if not needles:
            return found
        for table, columns in self._text_columns().items():
            counts = self.env.execute_query(
                SQL(
                    "SELECT %s FROM %s",
                    SQL(", ").join(
                        SQL(
                            "COUNT(*) FILTER (WHERE %s)",
                            self._contains(SQL.identifier(column), needles),
                        )
                        for column in columns
                    ),
                    SQL.identifier(table),
                )
            )[0]
            for column, count in zip(columns, counts, strict=True):
                if count:
                    found[(table, column)] = count
        return found

    @api.model
    def _contains(self, column, needles):
        return SQL(
            "(%s)",
            SQL(" OR ").join(
                SQL("strpos(lower(%s::text), %s) > 0", column, needle)
                for needle in needles
            ),
        )

    @api.model
    def _sweep(self, needles):
        """Replace the needles wherever they remain, fiscal records excepted."""
        found = {
            key: count
            for key, count in self._scan(needles).items()
            if not key[0].startswith(FISCAL_TABLE_PREFIX)
        }
        pattern = "|".join(re.escape(needle) for needle in needles)
        types = dict(
            self.env.execute_query(
                SQL(
                    """
            SELECT table_name || '.' || column_name, data_type
              FROM information_schema.columns
             WHERE table_schema = current_schema() AND data_type = 'jsonb'
            """
                )
            )
        )
        for table, column in found:
            target = SQL.identifier(column)
            replaced = SQL(
                "regexp_replace(%s::text, %s, %s, 'gi')", target, pattern, ERASED
            )
            if f"{table}.{column}" in types:
                replaced = SQL("(%s)::jsonb", replaced)
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET %s = %s WHERE %s",
                    SQL.identifier(table),
                    target,
                    replaced,
                    self._contains(target, needles),
                )
            )
        self.env.invalidate_all()
        return found
