import base64
import hashlib
import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from .common import CrmCoreCommon

PHONE = "+32 471 99 88 77"


@tagged("post_install", "-at_install")
class TestErasure(CrmCoreCommon):
    """Erasure touches the person only; export hands over their data only.

    Every request is answered by the compliance officer, as in the product.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.belgium = cls.env.ref("base.be")
        cls.purpose = cls.env.ref("crm_core.consent_purpose_marketing_email")
        # The officer answers requests of both companies, from the first one.
        cls.compliance.company_ids |= cls.other_company

    def _person(self, name, email, phone=False, **vals):
        return self.env["res.partner"].create(
            {
                "name": name,
                "email": email,
                "phone": phone,
                "country_id": self.belgium.id,
                **vals,
            }
        )

    def _request(self, partner, request_type="erasure"):
        return (
            self.env["crm.privacy.request"]
            .with_user(self.compliance)
            .create({"partner_id": partner.id, "request_type": request_type})
        )

    def _erase(self, partner):
        request = self._request(partner)
        request.action_erase()
        self.env.invalidate_all()
        self.assertTrue(partner.privacy_erased)
        self.assertFalse(partner.email)
        self.assertFalse(partner.phone)
        return request

    def _raw_name(self, record):
        """The stored English name, read past the ORM's caches and fallbacks."""
        return self.env.execute_query(
            SQL(
                "SELECT name->>'en_US' FROM %s WHERE id = %s",
                SQL.identifier(record._table),
                record.id,
            )
        )[0][0]

    # ------------------------------------------------------------
    # Names are never searched for
    # ------------------------------------------------------------

    def test_a_person_called_jordan_leaves_the_country_and_namesakes_alone(self):
        jordan = self.env.ref("base.jo")
        namesake = self._person(
            "Jordan Smith", "j.smith@example.org", "+32 470 12 34 56"
        )
        person = self._person("Jordan", "jordan@example.net", PHONE)
        request = self._erase(person)
        self.assertEqual(self._raw_name(jordan), "Jordan")
        self.assertEqual(jordan.name, "Jordan")
        self.assertEqual(
            (namesake.name, namesake.email, namesake.phone),
            ("Jordan Smith", "j.smith@example.org", "+32 470 12 34 56"),
        )
        self.assertTrue(namesake.active)
        self.assertNotIn("Jordan", request.resolution)
        self.assertNotIn("jordan@example.net", request.resolution)

    def test_a_person_called_settings_leaves_the_settings_menu_alone(self):
        menu = self.env.ref("base.menu_administration")
        self._erase(self._person("Settings", "settings.person@example.net"))
        self.assertEqual(self._raw_name(menu), "Settings")
        self.assertEqual(
            self.env["ir.model"]._get("res.config.settings").model,
            "res.config.settings",
        )

    def test_a_person_called_en_us_leaves_the_language_and_translations_alone(self):
        self._erase(self._person("en_US", "en.us.person@example.net"))
        english = self.env.ref("base.lang_en")
        self.assertEqual(english.code, "en_US")
        self.assertTrue(english.active)
        self.assertEqual(self.env["res.lang"]._lang_get("en_US"), english)
        # Translated columns are keyed by language code.
        self.assertEqual(
            self._raw_name(self.env.ref("base.menu_administration")), "Settings"
        )
        self.assertEqual(self._raw_name(self.env.ref("base.be")), "Belgium")

    def test_a_person_called_like_a_module_leaves_modules_and_menus_alone(self):
        self._erase(self._person("Invoicing", "invoicing.person@example.net"))
        module = self.env.ref("base.module_account")
        self.assertEqual(module.shortdesc, "Invoicing")
        self.assertEqual(module.name, "account")
        self.assertEqual(
            self._raw_name(self.env.ref("account.menu_finance")), "Invoicing"
        )

    # ------------------------------------------------------------
    # Other records' free text
    # ------------------------------------------------------------

    def test_another_customer_s_lead_loses_only_the_quoted_email_and_phone(self):
        person = self._person("Jordan Peterson", "Jordan.P@Example.com", PHONE)
        namesake = self._person("Jordan Peterson (Montreal)", "jp@example.ca")
        lead = self.env["crm.lead"].create(
            {
                "name": "Globex renewal, ask jordan.p@example.com",
                "partner_id": self.other_customer.id,
                "description": "<p>Jordan Peterson (JORDAN.P@example.com) said: "
                "call 0471/99.88.77 or +32 (0)471 99 88 77 or 0032471998877. "
                "Not xjordan.p@example.com, jordan.p@example.com.au, order "
                "904719988770 nor 0471 99 88 78.</p>",
            }
        )
        self._erase(person)
        self.assertEqual(
            lead.description,
            "<p>Jordan Peterson ([erased]) said: call [erased] or [erased] or "
            "[erased]. Not xjordan.p@example.com, jordan.p@example.com.au, order "
            "904719988770 nor 0471 99 88 78.</p>",
        )
        self.assertEqual(lead.name, "Globex renewal, ask [erased]")
        self.assertEqual(lead.partner_id, self.other_customer)
        self.assertEqual(
            (namesake.name, namesake.email),
            ("Jordan Peterson (Montreal)", "jp@example.ca"),
        )

    def test_phone_forms_are_matched_as_whole_numbers(self):
        Engine = self.env["crm.privacy.engine"]
        person = self._person("Someone", "someone@example.net", PHONE)
        tokens = Engine._tokens(person)
        for text, expected in (
            ("0471 99 88 77", "[erased]"),
            ("(0471) 99-88-77", "([erased]"),
            ("+32471998877", "[erased]"),
            ("471 99 88 77", "[erased]"),
            ("tel:+32.471.99.88.77.", "tel:[erased]."),
            ("10471998877", "10471998877"),
            ("04719988771", "04719988771"),
            ("12-0471998877", "12-0471998877"),
        ):
            self.assertEqual(Engine._redact(text, tokens), expected, text)
        # Too short to name anyone: never used.
        short = self._person("Short", "a@b.c", "1234")
        tokens = Engine._tokens(short)
        self.assertEqual((tokens["emails"], tokens["digits"]), ([], []))
        self.assertIsNone(tokens["phone_re"])

    # ------------------------------------------------------------
    # Opt-outs outlive the person
    # ------------------------------------------------------------

    def test_two_blacklisted_people_are_erased_and_stay_unreachable(self):
        people = self._person(
            "Ann Example", "ann@example.net", "+32 471 11 22 33"
        ) | self._person("Bob Example", "bob@example.net", "+32 471 44 55 66")
        for email in ("ann@example.net", "bob@example.net"):
            self.env["mail.blacklist"]._add(email)
        self.env["phone.blacklist"]._add(["+32471112233", "+32471445566"])
        for person in people:
            self._erase(person)
        self.assertFalse(
            self.env["mail.blacklist"]
            .with_context(active_test=False)
            .search([("email", "in", ["ann@example.net", "bob@example.net"])])
        )
        self.assertFalse(
            self.env["phone.blacklist"]
            .with_context(active_test=False)
            .search([("number", "in", ["+32471112233", "+32471445566"])])
        )
        # Salted hashes: not even the plain hash of the address is kept.
        digests = self.env["crm.privacy.suppression"].search([]).mapped("digest")
        self.assertEqual(len(digests), 4)
        for value in ("ann@example.net", "bob@example.net", "+32471112233"):
            self.assertNotIn(hashlib.sha256(value.encode()).hexdigest(), digests)

        Partner = self.env["res.partner"]
        back = Partner.create(
            [
                {"name": "Ann again", "email": "ANN@example.net"},
                {"name": "Bob again", "email": "bob@example.net"},
            ]
        )
        stranger = self._person("Carl Example", "carl@example.net", "+32 471 77 88 99")
        by_phone = self._person(
            "Ann's number", False, mobile="0471 11 22 33"
        ) | self._person("Bob's number", False, "+32 471 44 55 66")
        # Everyone agreed to the newsletter: only the opt-outs refuse them.
        self.env["crm.consent"].create(
            [
                {"partner_id": partner.id, "purpose_id": self.purpose.id}
                for partner in back | stranger | by_phone
            ]
        )
        self.assertEqual(back.mapped("is_blacklisted"), [True, True])
        self.assertFalse(stranger.is_blacklisted)
        everyone = back | stranger
        self.assertEqual(
            Partner.search([("id", "in", everyone.ids), ("is_blacklisted", "=", True)]),
            back,
        )
        self.assertEqual(
            Partner.search(
                [("id", "in", everyone.ids), ("is_blacklisted", "!=", True)]
            ),
            stranger,
        )
        self.assertEqual(everyone._crm_may_contact(self.purpose.code), stranger)

        self.assertEqual(
            (by_phone | stranger)._crm_may_contact(self.purpose.code, "sms"), stranger
        )
        lead = self.env["crm.lead"].create(
            {
                "name": "Call back",
                "phone": "0471 44 55 66",
                "country_id": self.belgium.id,
            }
        )
        self.assertTrue(lead.phone_sanitized_blacklisted)
        self.assertTrue(lead.phone_blacklisted)
        self.assertEqual(
            self.env["crm.lead"].search(
                [("id", "=", lead.id), ("phone_sanitized_blacklisted", "=", True)]
            ),
            lead,
        )

    # ------------------------------------------------------------
    # Export
    # ------------------------------------------------------------

    def test_export_is_refused_for_users_companies_and_other_companies(self):
        cases = (
            (self.salesman_a.partner_id, "use this database"),
            (self.company.partner_id, "companies of this database"),
            (self.customer, "organisation with contacts"),
            (
                self._person(
                    "Other Company Person",
                    "other.company@example.net",
                    company_id=self.other_company.id,
                ),
                "belongs to",
            ),
        )
        for partner, message in cases:
            request = self._request(partner, "access")
            with self.subTest(message), self.assertRaisesRegex(UserError, message):
                request.action_export()
            self.assertEqual(request.state, "new")
            self.assertFalse(request.sudo().export_file)
        # A portal customer is a person like any other.
        portal = new_test_user(
            self.env, "portal_person", groups="base.group_portal", email="p@example.net"
        )
        request = self._request(portal.partner_id, "access")
        request.action_export()
        self.assertEqual(request.state, "done")

    def test_export_holds_their_records_and_never_others_notes_or_chats(self):
        person = self._person("Petra Export", "petra@example.net", PHONE)
        own_lead = self.env["crm.lead"].create(
            {"name": "Petra's deal", "partner_id": person.id}
        )
        own_lead.message_post(
            body="Staff note on the own lead",
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        globex_lead = self.env["crm.lead"].create(
            {"name": "Globex deal", "partner_id": self.other_customer.id}
        )
        globex_lead.message_post(
            body="Email from Petra about Globex",
            author_id=person.id,
            message_type="email",
            subtype_xmlid="mail.mt_comment",
        )
        globex_lead.message_post(
            body="Internal note on Globex",
            author_id=person.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        channel = self.env["discuss.channel"].create({"name": "Chat"})
        self.env["mail.message"].create(
            {
                "model": "discuss.channel",
                "res_id": channel.id,
                "author_id": person.id,
                "body": "Petra chatting",
                "message_type": "comment",
                "subtype_id": self.env.ref("mail.mt_comment").id,
            }
        )
        Engine = self.env["crm.privacy.engine"].with_user(self.compliance)
        data = Engine._export(person)
        self.assertEqual([lead["id"] for lead in data["crm.lead"]], own_lead.ids)
        bodies = " ".join(message["body"] or "" for message in data["mail.message"])
        self.assertIn("Staff note on the own lead", bodies)
        self.assertIn("Email from Petra about Globex", bodies)
        self.assertNotIn("Internal note on Globex", bodies)
        self.assertNotIn("Petra chatting", bodies)
        self.assertNotIn(
            "discuss.channel", {message["model"] for message in data["mail.message"]}
        )

    def test_only_officers_read_the_export(self):
        person = self._person("Oscar Export", "oscar@example.net")
        request = self._request(person, "access")
        action = request.action_export()
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "crm.privacy.request"),
                    ("res_id", "=", request.id),
                    ("res_field", "=", "export_file"),
                ]
            )
        )
        self.assertEqual(len(attachment), 1)
        self.assertIn("/export_file/", action["url"])

        # The salesperson reads the request, not its archive.
        as_sales = request.with_user(self.salesman_a)
        self.assertEqual(as_sales.state, "done")
        with self.assertRaises(AccessError):
            as_sales.read(["export_file"])
        with self.assertRaises(AccessError):
            attachment.with_user(self.salesman_a).read(["datas"])
        self.assertFalse(
            self.env["ir.attachment"]
            .with_user(self.salesman_a)
            .search(
                [
                    ("res_model", "=", "crm.privacy.request"),
                    ("res_id", "=", request.id),
                    ("res_field", "in", ["export_file", False]),
                ]
            )
        )
        # What /web/content does, by attachment and by record field.
        Binary = self.env["ir.binary"].with_user(self.salesman_a)
        with self.assertRaises(AccessError):
            record = Binary._find_record(
                res_model="ir.attachment", res_id=attachment.id
            )
            Binary._get_stream_from(record, "raw")
        with self.assertRaises(AccessError):
            Binary._get_stream_from(as_sales, "export_file")
        # The officer reads it, by the record and by its attachment.
        data = json.loads(base64.b64decode(request.export_file))
        self.assertEqual(data["person"][0]["name"], person.name)
        self.assertEqual(
            attachment.with_user(self.compliance).raw,
            base64.b64decode(request.export_file),
        )
