import json
import logging
import re

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, email_normalize_all, escape_psql, split_every

try:
    import phonenumbers
except ImportError:  # phone_validation works without it: digits as typed only
    phonenumbers = None

_logger = logging.getLogger(__name__)

# Accounting records are fiscal records: erasure leaves them as issued, and the
# verification scan names them as kept.
FISCAL_TABLE_PREFIX = "account_"
ERASED = "[erased]"
# Shorter values would match unrelated text: an email needs its "@" and this
# many characters, a phone number this many digits.
MIN_EMAIL_LENGTH = 6
MIN_PHONE_DIGITS = 8
# What people put between the digits of a phone number, at most a few at a time.
PHONE_SEPARATOR = r"(?:[\s./()\-]|&nbsp;|&#160;){0,3}"
# A phone number is never the middle or the end of a longer run of digits.
PHONE_START = r"(?<![\d+])(?<!\d[./\-])"
PHONE_END = r"(?!\d)(?![./\-]\d)"
# An email address is a whole token, not the tail or head of a longer one.
EMAIL_START = r"(?<![\w.%+\-])"
EMAIL_END = r"(?![\w\-]|\.\w)"


def _long_enough(number):
    """Whether ``number`` has enough digits to name one phone line."""
    return len(re.sub(r"\D", "", number)) >= MIN_PHONE_DIGITS


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
    found are handled here for all of them. Other records' free text is only
    touched in the columns ``_privacy_text_fields`` lists, and only where it
    quotes the person's email address or phone number.
    """

    _name = "crm.privacy.engine"
    _description = "Personal Data Export and Erasure"

    @api.model
    def _privacy_specs(self):
        """Describe what each model holds about a person.

        A spec is a dict: ``model``; ``partner_field``, the field pointing to
        the person; ``email_field``, optional, a normalised email field that
        also makes a record theirs when it points to nobody; ``domain``,
        optional; ``export``, the fields exported;
        ``erase``: ``"anonymize"`` (with ``values`` to write), ``"delete"``,
        ``"keep"`` (with the ``reason`` given in the erasure report), or
        ``"derived"`` for report views computed from other records that leave
        erased people out by themselves.
        """
        _ = self.env._
        return [
            {
                "model": "crm.lead",
                "partner_field": "partner_id",
                "email_field": "email_normalized",
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

    @api.model
    def _privacy_text_fields(self):
        """The business text columns of other records where the person may be
        quoted: [(model, field)].

        Only whole email addresses and phone numbers are replaced there, never
        a name. Later addons append their own; only stored, untranslated
        char, text and html fields qualify.
        """
        return [
            ("crm.lead", "name"),
            ("crm.lead", "description"),
            ("crm.lead", "email_cc"),
            ("crm.interaction", "name"),
            ("crm.interaction", "description"),
            ("calendar.event", "name"),
            ("calendar.event", "description"),
        ]

    # ------------------------------------------------------------
    # Finding the data
    # ------------------------------------------------------------

    @api.model
    def _subject(self, partners):
        """The person and the addresses and contacts filed under them."""
        # sudo: every address filed under the person, archived ones included.
        return (
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            .search([("id", "child_of", partners.ids)])
        )

    @api.model
    def _erasure_subject(self, partners, with_contacts=True):
        """Who an erasure anonymises: with their contacts, or (retention) only
        ``partners``, whose owner passed the policy's access check."""
        if with_contacts:
            return self._subject(partners)
        # sudo: archived contacts too; the retention owner was checked already.
        return partners.sudo().with_context(active_test=False)

    @api.model
    def _check_subject(self, subject):
        """Refuse people who use this database and the database's companies."""
        _ = self.env._
        if employees := subject.user_ids.filtered(lambda user: not user.share):
            raise UserError(
                _(
                    "%(names)s use this database; archive their user accounts and "
                    "handle their data under your employee policy.",
                    names=", ".join(employees.mapped("name")),
                )
            )
        # sudo: the companies' names are only quoted back to the officer.
        companies = (
            self.env["res.company"].sudo().search([("partner_id", "in", subject.ids)])
        )
        if companies:
            raise UserError(
                _(
                    "%(companies)s are companies of this database; they cannot be "
                    "erased or exported.",
                    companies=", ".join(companies.mapped("name")),
                )
            )

    @api.model
    def _spec_records(self, spec, subject):
        # sudo: a person's records, whoever owns them; only officers reach here.
        Model = self.env[spec["model"]].sudo().with_context(active_test=False)
        domain = [(spec["partner_field"], "in", subject.ids)]
        emails = [email for email in subject.mapped("email_normalized") if email]
        if spec.get("email_field") and emails:
            domain = [
                "|",
                *domain,
                "&",
                (spec["partner_field"], "=", False),
                (spec["email_field"], "in", emails),
            ]
        return Model.search(domain + spec.get("domain", []))

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
    def _messages(self, subject, records_by_model, tokens=None):
        """Messages on their records, and those they wrote anywhere."""
        # sudo: messages on the person's records, whoever may read them; officers only.
        Message = self.env["mail.message"].sudo()
        messages = Message.search(
            [
                "|",
                ("author_id", "in", subject.ids),
                *self._thread_domain(records_by_model),
            ]
        )
        if tokens and tokens["emails"]:
            # Emails they sent from an address no contact matched.
            candidates = Message.search(
                ["|"] * (len(tokens["emails"]) - 1)
                + [("email_from", "ilike", email) for email in tokens["emails"]]
            )
            messages |= candidates.filtered(
                lambda message: tokens["email_re"].search(message.email_from or "")
            )
        return messages

    # ------------------------------------------------------------
    # Email addresses and phone numbers
    # ------------------------------------------------------------

    @api.model
    def _phone_forms(self, partner, number):
        """How ``number`` is commonly written, as digit strings.

        Returns a dict: ``e164`` (or False), ``international`` ({(country code,
        national significant number)}), ``national`` (national format, trunk 0
        + national number, national number alone), ``typed`` (the digits as
        typed), ``prefilter`` (digit strings one of which any written form
        contains) and ``texts`` (exact forms, lower case, for the verification
        scan).
        """
        number = number.strip()
        typed = re.sub(r"\D", "", number)
        forms = {
            "e164": False,
            "international": set(),
            "national": set(),
            "typed": {typed},
            "prefilter": {typed},
            "texts": {number.lower(), typed},
        }
        e164 = partner._phone_format(number=number, force_format="E164")
        if e164 and phonenumbers:
            parsed = phonenumbers.parse(e164)
            code = str(parsed.country_code)
            national = phonenumbers.national_significant_number(parsed)
            national_format = phonenumbers.format_number(
                parsed, phonenumbers.PhoneNumberFormat.NATIONAL
            )
            forms["e164"] = e164
            forms["international"].add((code, national))
            forms["national"] |= {
                re.sub(r"\D", "", national_format),
                f"0{national}",
                national,
            }
            forms["prefilter"].add(national)
            forms["texts"] |= {
                e164,
                f"00{code}{national}",
                national_format,
                phonenumbers.format_number(
                    parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
                ),
                re.sub(r"\D", "", national_format),
                f"0{national}",
            }
        elif e164:
            forms["e164"] = e164
            forms["texts"].add(e164)
        forms["international"] = {
            (code, national)
            for code, national in forms["international"]
            if _long_enough(code + national)
        }
        for key in ("national", "typed", "texts"):
            forms[key] = {value for value in forms[key] if _long_enough(value)}
        # The prefilter may be looser than the match, never stricter.
        forms["prefilter"] = {value for value in forms["prefilter"] if len(value) >= 4}
        return forms

    @api.model
    def _tokens(self, subject):
        """The person's email addresses and phone numbers, and how to find them.

        Names are never used: they are not unique and they are words of the
        language. Returns a dict: ``emails``, ``numbers`` (E.164), ``digits``
        (SQL prefilter), ``texts`` (exact lower-case needles for the
        verification scan), and the compiled ``email_re`` and ``phone_re``
        (None when there is nothing to look for).
        """
        emails, numbers, digits, texts = set(), set(), set(), set()
        international, national, typed = set(), set(), set()
        for partner in subject:
            for email in [*email_normalize_all(partner.email or "")] + [
                partner.email_normalized
            ]:
                if email and "@" in email.strip("@") and len(email) >= MIN_EMAIL_LENGTH:
                    emails.add(email.lower())
            for number in {partner.phone, partner.mobile} - {False, None, ""}:
                forms = self._phone_forms(partner, number)
                if forms["e164"]:
                    numbers.add(forms["e164"])
                international |= forms["international"]
                national |= forms["national"]
                typed |= forms["typed"]
                if forms["international"] or forms["national"] or forms["typed"]:
                    digits |= forms["prefilter"]
                texts |= forms["texts"]
        flex = PHONE_SEPARATOR.join
        alternatives = {
            rf"(?:\+|00){PHONE_SEPARATOR}{flex(code)}{PHONE_SEPARATOR}"
            rf"(?:\(0\){PHONE_SEPARATOR})?{flex(number)}"
            for code, number in international
        }
        alternatives |= {flex(number) for number in national}
        alternatives |= {rf"\+?{flex(number)}" for number in typed}
        phone_re = email_re = None
        if alternatives:
            pattern = "|".join(sorted(alternatives, key=len, reverse=True))
            phone_re = re.compile(f"{PHONE_START}(?:{pattern}){PHONE_END}")
        if emails:
            pattern = "|".join(
                re.escape(email) for email in sorted(emails, key=len, reverse=True)
            )
            email_re = re.compile(f"{EMAIL_START}(?:{pattern}){EMAIL_END}", re.I)
        return {
            "emails": sorted(emails),
            "numbers": sorted(numbers),
            "digits": sorted(digits),
            "texts": sorted(emails | {text.lower() for text in texts}),
            "email_re": email_re,
            "phone_re": phone_re,
        }

    @api.model
    def _redact(self, text, tokens):
        """``text`` with the person's whole email addresses and phone numbers
        replaced; everything else, their name included, stays."""
        if not text:
            return text
        for regex in (tokens["email_re"], tokens["phone_re"]):
            if regex:
                text = regex.sub(ERASED, text)
        return text

    @api.model
    def _text_candidates(self, column, tokens):
        """SQL condition: ``column`` may quote one of the tokens (prefilter)."""
        conditions = []
        if tokens["emails"]:
            conditions.append(
                SQL(
                    "%s ILIKE ANY(%s)",
                    column,
                    [f"%{escape_psql(email)}%" for email in tokens["emails"]],
                )
            )
        if tokens["digits"]:
            conditions.append(
                SQL(
                    "regexp_replace(%s, '[^0-9]+', '', 'g') LIKE ANY(%s)",
                    column,
                    [f"%{digits}%" for digits in tokens["digits"]],
                )
            )
        return SQL("(%s)", SQL(" OR ").join(conditions)) if conditions else None

    @api.model
    def _replace_in_business_text(self, tokens):
        """Replace the tokens in the business text columns of other records.

        Candidate rows come from a cheap SQL prefilter; the exact replacement is
        made in Python and written back in batched, parameterised UPDATEs, so no
        write override, tracking or audit copies the quoted values elsewhere.
        Returns {(model, field): rows changed}.
        """
        replaced = {}
        if not (tokens["email_re"] or tokens["phone_re"]):
            return replaced
        for model_name, fname in self._privacy_text_fields():
            if model_name not in self.env:
                continue
            # sudo: listed business columns of every record; whole tokens only.
            Model = self.env[model_name].sudo().with_context(active_test=False)
            field = Model._fields.get(fname)
            if not (
                field
                and field.store
                and field.column_type
                and field.type in ("char", "text", "html")
                and not field.translate
                and not Model._abstract
                and Model._auto
            ):
                _logger.warning(
                    "%s.%s is not a stored, untranslated text field: skipped by "
                    "erasure.",
                    model_name,
                    fname,
                )
                continue
            column = SQL.identifier(fname)
            condition = self._text_candidates(column, tokens)
            Model.flush_model([fname])
            rows = self.env.execute_query(
                SQL(
                    "SELECT id, %s FROM %s WHERE %s",
                    column,
                    SQL.identifier(Model._table),
                    condition,
                )
            )
            changes = [
                (record_id, new)
                for record_id, old in rows
                if (new := self._redact(old, tokens)) != old
            ]
            for batch in split_every(500, changes):
                self.env.cr.execute(
                    SQL(
                        "UPDATE %s AS t SET %s = v.value FROM (VALUES %s) "
                        "AS v(id, value) WHERE t.id = v.id",
                        SQL.identifier(Model._table),
                        column,
                        SQL(", ").join(
                            SQL("(%s, %s)", record_id, value)
                            for record_id, value in batch
                        ),
                    )
                )
            if changes:
                records = Model.browse([record_id for record_id, _new in changes])
                records.invalidate_recordset([fname])
                records.modified([fname])
                replaced[(model_name, fname)] = len(changes)
        return replaced

    @api.model
    def _verify(self, tokens):
        """Read-only scan: {(table, column): rows} still holding the person's
        email addresses or phone numbers (in their exact written forms).

        It reads every text column and rewrites nothing; what it finds is for
        the officer to review, fiscal records being kept by law.
        """
        self.env.flush_all()
        found = {}
        needles = tokens["texts"]
        if not needles:
            return found
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
        columns_by_table = {}
        for table, column in rows:
            columns_by_table.setdefault(table, []).append(column)
        for table, columns in columns_by_table.items():
            counts = self.env.execute_query(
                SQL(
                    "SELECT %s FROM %s",
                    SQL(", ").join(
                        SQL(
                            "COUNT(*) FILTER (WHERE %s)",
                            SQL(" OR ").join(
                                SQL(
                                    "strpos(lower(%s::text), %s) > 0",
                                    SQL.identifier(column),
                                    needle,
                                )
                                for needle in needles
                            ),
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

    # ------------------------------------------------------------
    # Access and portability
    # ------------------------------------------------------------

    @api.model
    def _check_exportable(self, partner, company=None):
        """Refuse what is not one person's own data to hand over."""
        _ = self.env._
        partner.ensure_one()
        # sudo: what is read here is only quoted back to the officer.
        partner = partner.sudo()
        self._check_subject(self._subject(partner))
        if partner.is_company and partner.child_ids.filtered(
            lambda child: child.type == "contact"
        ):
            raise UserError(
                _(
                    "%(name)s is an organisation with contacts, who are other "
                    "people; open the request on the person's own contact.",
                    name=partner.name,
                )
            )
        if company and partner.company_id and partner.company_id != company:
            raise UserError(
                _(
                    "%(name)s belongs to %(company)s; open the request in that "
                    "company.",
                    name=partner.name,
                    company=partner.company_id.name,
                )
            )

    @api.model
    def _export_messages(self, subject, records_by_model):
        """Messages on their own records, and what they wrote elsewhere that
        was not an internal note; never a Discuss conversation."""
        # sudo: messages on the person's records, whoever may read them; officers only.
        Message = self.env["mail.message"].sudo()
        own = Message.search(self._thread_domain(records_by_model))
        written = Message.search(
            [
                ("author_id", "in", subject.ids),
                ("model", "!=", "discuss.channel"),
                ("message_type", "in", ("email", "comment", "email_outgoing")),
                ("is_internal", "=", False),
                "|",
                ("subtype_id", "=", False),
                ("subtype_id.internal", "=", False),
            ]
        )
        return (own | written).sorted("id")

    @api.model
    def _export(self, partner, company=None):
        """Everything we hold about ``partner`` as a JSON-ready dict.

        ``company``, the company answering the request: the person must belong
        to it or to none.
        """
        self._check_exportable(partner, company)
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
        messages = self._export_messages(subject, records_by_model)
        data["mail.message"] = messages.read(
            ["date", "model", "res_id", "message_type", "subject", "body", "email_from"]
        )
        # sudo: activities and files of the person's own records, for the officer.
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
    def _export_json(self, partner, company=None):
        def default(value):
            # read() gives binary fields base64-encoded already.
            if isinstance(value, bytes):
                return value.decode()
            return str(value)

        data = self._export(partner, company)
        return json.dumps(data, default=default, indent=2, ensure_ascii=False)

    # ------------------------------------------------------------
    # Erasure
    # ------------------------------------------------------------

    @api.model
    def _erase(self, partners, sweep=True, with_contacts=True):
        """Anonymise ``partners`` and their contacts: what belongs to them.

        Their contact records, the records registered for them, messages and
        tracking on those and the emails they sent, notifications, followers,
        activities, attachments and queued mail or SMS. Fiscal records are
        kept. Their blacklist entries become salted hashes that still block
        their addresses. With ``sweep``, their whole email addresses and phone
        numbers are also replaced where other records quote them (in the
        columns of ``_privacy_text_fields`` only), then a read-only scan
        reports where they remain. Without ``with_contacts`` (retention), only
        ``partners`` themselves, not the contacts filed under them. Returns the
        report lines (what was done, what was kept and why, what remains), which
        name nobody.
        """
        _ = self.env._
        subject = self._erasure_subject(partners, with_contacts)
        self._check_subject(subject)
        # Read before the contacts are anonymised.
        tokens = self._tokens(subject)
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
            if spec["erase"] == "derived":
                report.append(
                    _(
                        "%(count)s %(model)s no longer computed for them.",
                        count=len(records),
                        model=label,
                    )
                )
                continue
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
        report += self._erase_mail(subject, records_by_model, kept_by_model, tokens)
        for records in to_delete:
            records.unlink()
        if users := subject.user_ids.with_context(**quiet):
            records_by_model["res.users"] = set(users.ids)
            users.write({"active": False, "signature": False})
            for user in users:
                user.login = f"erased-{user.id}"
            report.append(_("%(count)s portal user(s) archived.", count=len(users)))
        report += self._erase_opt_outs(tokens)
        subject = subject.with_context(**quiet)
        for partner in subject:
            partner.write(
                {
                    **PARTNER_ERASED_VALUES,
                    "name": _("Erased person %(id)s", id=partner.id),
                }
            )
        report.append(_("%(count)s contact(s) anonymised.", count=len(subject)))
        if sweep:
            replaced = self._replace_in_business_text(tokens)
            if replaced:
                report.append(
                    _(
                        "Their email address or phone number replaced where other "
                        "records quoted them: %(columns)s.",
                        columns=self._format_columns(
                            {
                                f"{model}.{fname}": count
                                for (model, fname), count in replaced.items()
                            }
                        ),
                    )
                )
        self._erase_audit_values(records_by_model)
        if sweep:
            report += self._verification_report(tokens)
        return report

    @api.model
    def _format_columns(self, counts):
        return ", ".join(f"{name} ({count})" for name, count in sorted(counts.items()))

    @api.model
    def _verification_report(self, tokens):
        _ = self.env._
        found = self._verify(tokens)
        kept = {
            f"{table}.{column}": count
            for (table, column), count in found.items()
            if table.startswith(FISCAL_TABLE_PREFIX)
        }
        remaining = {
            f"{table}.{column}": count
            for (table, column), count in found.items()
            if not table.startswith(FISCAL_TABLE_PREFIX)
        }
        report = []
        if kept:
            report.append(
                _(
                    "Verification: kept fiscal records still hold their email "
                    "address or phone number: %(columns)s.",
                    columns=self._format_columns(kept),
                )
            )
        if remaining:
            report.append(
                _(
                    "Verification: their email address or phone number still "
                    "appears in %(columns)s; nothing was changed there, review "
                    "these by hand.",
                    columns=self._format_columns(remaining),
                )
            )
        if not found:
            report.append(
                _(
                    "Verification: their email address and phone numbers appear "
                    "nowhere else in the database."
                )
            )
        return report

    @api.model
    def _erase_opt_outs(self, tokens):
        """Replace their blacklist entries with hashes that still block them."""
        _ = self.env._
        # sudo: blacklists are managed by the system; only their rows are read.
        emails = (
            self.env["mail.blacklist"]
            .sudo()
            .with_context(active_test=False)
            .search([("email", "in", tokens["emails"])])
        )
        numbers = (
            self.env["phone.blacklist"]
            .sudo()
            .with_context(active_test=False)
            .search([("number", "in", tokens["numbers"])])
        )
        Suppression = self.env["crm.privacy.suppression"]
        Suppression._suppress("email", emails.filtered("active").mapped("email"))
        Suppression._suppress("phone", numbers.filtered("active").mapped("number"))
        count = len(emails.filtered("active")) + len(numbers.filtered("active"))
        emails.unlink()
        numbers.unlink()
        if not count:
            return []
        return [
            _(
                "%(count)s opt-out(s) kept as a hash that no longer identifies "
                "them but still blocks the address.",
                count=count,
            )
        ]

    @api.model
    def _erase_audit_values(self, records_by_model):
        """Drop the values the audit log copied from their records.

        Entries keep who did what and when, on which records and fields; the
        old and new values of the person's records go. Plain SQL: the log is
        closed to the ORM by design.
        """
        if "crm.audit.log" not in self.env:
            return
        Log = self.env["crm.audit.log"]
        field = Log._fields.get("changes")
        if not field or field.type != "json":
            return
        Log.flush_model()
        for model, ids in records_by_model.items():
            for batch in split_every(1000, [str(record_id) for record_id in ids]):
                keys = list(batch)
                self.env.cr.execute(
                    SQL(
                        "UPDATE %s SET changes = NULLIF(changes - %s::text[], "
                        "'{}'::jsonb) WHERE model = %s AND changes ?| %s::text[]",
                        SQL.identifier(Log._table),
                        keys,
                        model,
                        keys,
                    )
                )
        Log.invalidate_model(["changes"])

    @api.model
    def _erase_mail(self, subject, records_by_model, kept_by_model, tokens=None):
        """Messages, tracking values, notifications, followers, activities,
        files, and mail or SMS queued for them."""
        _ = self.env._
        threads = {model: set(ids) for model, ids in records_by_model.items()}
        for model, ids in kept_by_model.items():
            threads.setdefault(model, set()).update(ids)
        messages = self._messages(subject, threads, tokens)
        # What tracking remembers of the person on other records, by their id.
        # sudo: field metadata and tracking of any record, to find the person's id.
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
        # sudo: queued mail and SMS addressed to the person, whoever queued them.
        Mail = self.env["mail.mail"].sudo()
        mails = Mail.search(
            [
                "|",
                ("mail_message_id", "in", messages.ids),
                ("recipient_ids", "in", subject.ids),
            ]
        )
        if tokens and tokens["emails"]:
            addressed = Mail.search(
                ["|"] * (2 * len(tokens["emails"]) - 1)
                + [
                    (fname, "ilike", email)
                    for email in tokens["emails"]
                    for fname in ("email_to", "email_cc")
                ]
            )
            mails |= addressed.filtered(
                lambda mail: tokens["email_re"].search(
                    f"{mail.email_to or ''} {mail.email_cc or ''}"
                )
            )
        mails.unlink()
        if "sms.sms" in self.env:
            sms_domain = [("partner_id", "in", subject.ids)]
            if tokens and tokens["numbers"]:
                sms_domain = ["|", *sms_domain, ("number", "in", tokens["numbers"])]
            # sudo: the person's queued SMS, whoever queued them.
            self.env["sms.sms"].sudo().search(sms_domain).unlink()
        # sudo: their notifications and followings on any record.
        self.env["mail.notification"].sudo().search(
            [("res_partner_id", "in", subject.ids)]
        ).unlink()
        self.env["mail.followers"].sudo().search(
            [("partner_id", "in", subject.ids)]
        ).unlink()
        # Files they sent along their emails, not the kept records' documents.
        kept = {
            (model, record_id)
            for model, ids in kept_by_model.items()
            for record_id in ids
        }
        email_re = tokens and tokens["email_re"]
        sent = messages.filtered(
            lambda message: (
                message.author_id in subject
                or (email_re and email_re.search(message.email_from or ""))
            )
        )
        sent_files = sent.attachment_ids.filtered(
            lambda attachment: (attachment.res_model, attachment.res_id) not in kept
        )
        messages.write(
            {
                "body": False,
                "subject": False,
                "email_from": False,
                "reply_to": False,
                "record_name": False,
            }
        )
        # sudo: activities and files of the person's records, whoever created them.
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
        ) | sent_files
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
