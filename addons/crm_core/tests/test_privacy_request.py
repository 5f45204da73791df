import base64
import json
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import CrmCoreCommon

NAME = "Zebulon Quixotic-Pemberton"
EMAIL = "zebulon.qp@privacy-test.example"
PHONE = "+32 471 99 88 77"


@tagged("post_install", "-at_install")
class TestPrivacyRequests(CrmCoreCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tracked = cls.env(
            context={
                **cls.env.context,
                "tracking_disable": False,
                "mail_notrack": False,
            }
        )
        cls.person = cls.env["res.partner"].create(
            {
                "name": NAME,
                "email": EMAIL,
                "phone": PHONE,
                "street": "9 Hidden Lane",
                "comment": f"Met {NAME} at the fair",
            }
        )
        cls.address = cls.env["res.partner"].create(
            {"name": f"{NAME} (home)", "type": "delivery", "parent_id": cls.person.id}
        )
        cls.lead = (
            tracked["crm.lead"]
            .with_context(crm_skip_assignment=True)
            .create(
                {
                    "name": f"Deal with {NAME}",
                    "partner_id": cls.person.id,
                    "contact_name": NAME,
                    "description": f"Call {NAME} on {PHONE}",
                }
            )
        )
        # A tracked change: old and new values kept in mail tracking.
        # Tracked changes, each committed (the flush runs the tracking).
        cls.lead.email_from = f"other.{EMAIL}"
        cls.env.cr.flush()
        cls.lead.email_from = EMAIL
        cls.env.cr.flush()
        cls.lead.message_post(
            body=f"Email from {NAME} <{EMAIL}>",
            author_id=cls.person.id,
            email_from=f"{NAME} <{EMAIL}>",
            message_type="email",
        )
        cls.person.message_post(body=f"Note about {NAME}", message_type="comment")
        cls.lead.activity_schedule(
            "mail.mail_activity_data_call", summary=f"Call back {NAME}"
        )
        cls.env["ir.attachment"].create(
            {
                "name": f"{NAME} - signed quote.txt",
                "res_model": "crm.lead",
                "res_id": cls.lead.id,
                "raw": b"quote",
            }
        )
        # Someone else's lead mentioning the person by email.
        cls.referral = cls.env["crm.lead"].create(
            {"name": "Referral", "description": f"Referred by {EMAIL}"}
        )
        cls.interaction = cls.env["crm.interaction"].create(
            {"name": f"Visit of {NAME}", "partner_id": cls.person.id}
        )
        cls.env["calendar.event"].create(
            {
                "name": f"Lunch with {NAME}",
                "start": fields.Datetime.now(),
                "stop": fields.Datetime.now() + timedelta(hours=1),
                "partner_ids": [Command.link(cls.person.id)],
            }
        )
        cls.env["crm.consent"].create(
            {
                "partner_id": cls.person.id,
                "purpose_id": cls.env.ref(
                    "crm_core.consent_purpose_marketing_email"
                ).id,
                "proof": f"Signed by {NAME}, {EMAIL}",
                "ip_address": "198.51.100.4",
            }
        )
        Rule = cls.env["crm.audit.rule"].with_context(active_test=False)
        rule = Rule.search([("model", "=", "res.partner")]) or Rule.create(
            {"model_id": cls.env["ir.model"]._get_id("res.partner")}
        )
        rule.write({"active": True, "log_write": True})
        cls.person.phone = "+32 471 99 88 78"
        cls.person.phone = PHONE
        cls.invoice = cls._create_customer_invoice(cls.person, 500)
        cls.issued_pdf = cls.env["ir.attachment"].create(
            {
                "name": f"{cls.invoice.name.replace('/', '_')}.pdf",
                "res_model": "account.move",
                "res_id": cls.invoice.id,
                "raw": f"Invoice to {NAME}".encode(),
            }
        )
        cls.draft = cls._create_customer_invoice(cls.person, 80, post=False)
        cls.other_invoice = cls._create_customer_invoice(cls.customer, 70)

    def _request(self, request_type, **vals):
        return (
            self.env["crm.privacy.request"]
            .with_user(self.compliance)
            .create(
                {
                    "partner_id": self.person.id,
                    "request_type": request_type,
                    "description": f"{NAME} asked by email from {EMAIL}",
                    **vals,
                }
            )
        )

    def test_deadline_overdue_and_assignee_activity(self):
        request = self._request(
            "access", date_received=fields.Date.today() - timedelta(days=40)
        )
        self.assertRegex(request.name, r"^DSR/\d{4}/\d{4}$")
        self.assertEqual(
            request.date_deadline, fields.Date.today() - timedelta(days=10)
        )
        self.assertTrue(request.is_overdue)
        Request = self.env["crm.privacy.request"]
        self.assertIn(request, Request.search([("is_overdue", "=", True)]))
        self.assertEqual(request.activity_ids.user_id, self.compliance)
        self.assertEqual(request.activity_ids.date_deadline, request.date_deadline)
        self.env["ir.config_parameter"].set_param("crm_core.privacy_request_days", 45)
        fresh = self._request("access")
        self.assertEqual(fresh.date_deadline, fields.Date.today() + timedelta(days=45))
        self.assertNotIn(fresh, Request.search([("is_overdue", "=", True)]))

    def test_export_holds_everything_about_the_person_and_nothing_else(self):
        request = self._request("portability")
        action = request.action_export()
        self.assertEqual(request.state, "done")
        self.assertEqual(
            action["url"],
            f"/web/content/crm.privacy.request/{request.id}/export_file/"
            f"{request.name.replace('/', '-')}.json?download=true",
        )
        data = json.loads(base64.b64decode(request.export_file))
        self.assertEqual({p["name"] for p in data["person"]}, {NAME, f"{NAME} (home)"})
        self.assertEqual([lead["id"] for lead in data["crm.lead"]], self.lead.ids)
        self.assertEqual(data["crm.lead"][0]["email_from"], EMAIL)
        # The meeting is logged as an interaction too.
        self.assertEqual(
            {i["name"] for i in data["crm.interaction"]},
            {f"Visit of {NAME}", f"Lunch with {NAME}"},
        )
        self.assertEqual(len(data["crm.consent"]), 1)
        self.assertEqual(
            {m["id"] for m in data["account.move"]},
            {self.invoice.id, self.draft.id},
        )
        bodies = " ".join(m["body"] or "" for m in data["mail.message"])
        self.assertIn(f"Email from {NAME}", bodies)
        self.assertIn(f"Note about {NAME}", bodies)
        self.assertEqual(data["mail.activity"][0]["summary"], f"Call back {NAME}")
        self.assertEqual(
            {base64.b64decode(a["datas"]) for a in data["ir.attachment"]},
            {b"quote", f"Invoice to {NAME}".encode()},
        )
        # Nothing of anyone else.
        text = json.dumps(data)
        self.assertNotIn("Referral", text)
        self.assertNotIn(self.other_invoice.name, text)

    def test_erasure_leaves_the_person_nowhere_but_in_kept_invoices(self):
        Engine = self.env["crm.privacy.engine"]
        tokens = Engine._tokens(self.person | self.address)
        self.assertEqual(tokens["emails"], [EMAIL])
        self.assertEqual(tokens["numbers"], ["+32471998877"])
        self.assertNotIn(NAME.lower(), tokens["texts"])
        before = {table for table, _column in Engine._verify(tokens)}
        for table in (
            "res_partner",
            "crm_lead",
            "mail_message",
            "mail_tracking_value",
            "crm_consent",
            "crm_audit_log",
        ):
            self.assertIn(table, before, f"{table} should hold data")

        request = self._request("erasure")
        request.action_erase()
        log = self.env["privacy.log"].search(
            [("records_description", "=", request.name)]
        )
        self.assertEqual(log.anonymized_name, "Z" + "*" * 6 + " Q" + "*" * 17)
        self.assertIn("Journal Entry kept", log.execution_details)

        # Their email and phone are nowhere, fiscal records aside.
        found = Engine._verify(tokens)
        self.assertFalse(
            [table for table, _c in found if not table.startswith("account_")], found
        )
        # Their name is left where only the kept invoice and its issued
        # document hold it.
        by_name = Engine._verify({"texts": [NAME.lower()]})
        self.assertFalse(
            [
                (table, column)
                for table, column in by_name
                if not table.startswith("account_")
                and (table, column) != ("ir_attachment", "index_content")
            ],
            by_name,
        )
        self.assertEqual(self.issued_pdf.raw, f"Invoice to {NAME}".encode())
        # What happened to the records, beyond the scan.
        self.assertTrue(self.invoice.exists())
        self.assertEqual(self.invoice.state, "posted")
        self.assertFalse(self.draft.exists())
        self.assertTrue(self.person.privacy_erased)
        self.assertFalse(self.person.active)
        self.assertEqual(self.lead.name, "Erased lead")
        self.assertFalse(self.lead.activity_ids)
        self.assertEqual(self.referral.description, "<p>Referred by [erased]</p>")
        self.assertEqual(request.state, "done")
        self.assertIn("1 Journal Entry kept: posted invoices", request.resolution)
        self.assertIn("crm.lead.description (1)", request.resolution)
        self.assertIn("appear nowhere else", request.resolution)
        for secret in (NAME, EMAIL, "471 99 88 77"):
            self.assertNotIn(secret, request.resolution)
            self.assertNotIn(secret, request.message_ids.mapped("body")[0])

    def test_erasure_is_for_compliance_officers_and_erasure_requests(self):
        request = self._request("erasure")
        with self.assertRaises(AccessError):
            request.with_user(self.manager).action_erase()
        access = self._request("access")
        with self.assertRaisesRegex(UserError, "Only an erasure request"):
            access.action_erase()
        employee_partner = self.salesman_a.partner_id
        with self.assertRaisesRegex(UserError, "use this database"):
            self._request("erasure", partner_id=employee_partner.id).action_erase()
        self.assertEqual(self.person.name, NAME)
        request.action_erase()
        with self.assertRaisesRegex(UserError, "already closed"):
            request.action_erase()

    def test_salespeople_log_and_follow_but_only_compliance_decides(self):
        Request = self.env["crm.privacy.request"].with_user(self.salesman_a)
        request = Request.create(
            {"partner_id": self.person.id, "request_type": "access"}
        )
        # Following it up: notes, the assignee, the date it came in.
        request.write(
            {
                "description": "Asked again on the phone",
                "user_id": self.compliance.id,
                "date_received": fields.Date.today() - timedelta(days=1),
            }
        )
        self.assertEqual(request.description, "Asked again on the phone")
        for name, value in {
            "state": "done",
            "partner_id": self.contact_1.id,
            "request_type": "erasure",
            "resolution": "Nothing found",
            "date_done": fields.Date.today(),
            "company_id": self.other_company.id,
        }.items():
            with (
                self.subTest(field=name),
                self.assertRaisesRegex(AccessError, "Only a Compliance Officer"),
            ):
                request.write({name: value})
        request.invalidate_recordset()
        self.assertEqual(
            (request.state, request.partner_id, request.request_type),
            ("new", self.person, "access"),
        )
        self.assertFalse(request.resolution or request.date_done)
        self.assertEqual(request.company_id, self.company)
        # The compliance officer corrects it and answers it.
        as_officer = request.with_user(self.compliance)
        as_officer.request_type = "erasure"
        as_officer.action_refuse()
        self.assertEqual(request.state, "refused")
        # Nor can a salesperson log a request that is answered already.
        for vals in (
            {"state": "done"},
            {"resolution": "Handled"},
            {"date_done": fields.Date.today()},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                Request.create(
                    {"partner_id": self.person.id, "request_type": "access", **vals}
                )

    def test_restriction_keeps_the_person_out_until_lifted(self):
        purpose = self.env.ref("crm_core.consent_purpose_marketing_email")
        self.assertEqual(self.person._crm_may_contact(purpose.code), self.person)
        request = self._request("restriction")
        request.action_restrict()
        self.assertTrue(self.person.privacy_restricted)
        self.assertFalse(self.person._crm_may_contact(purpose.code))
        # Not scored for churn, not routed to a salesperson.
        self.env["crm.churn.analysis"]._score(self.person)
        self.assertFalse(self.person.churn_date)
        self.env["crm.assignment.rule"].create(
            {"name": "All", "team_id": self.team_a.id}
        )
        lead = self.env["crm.lead"].create(
            {"name": "New enquiry", "partner_id": self.person.id}
        )
        self.assertFalse(lead.user_id)
        request.action_lift_restriction()
        self.assertFalse(self.person.privacy_restricted)
        self.assertEqual(self.person._crm_may_contact(purpose.code), self.person)

    def test_objection_withdraws_every_purpose(self):
        self._request("objection").action_object()
        purposes = self.env["crm.consent.purpose"].search([])
        withdrawn = self.person.consent_ids.filtered(lambda c: c.state == "withdrawn")
        self.assertEqual(withdrawn.purpose_id, purposes)
        for purpose in purposes:
            self.assertFalse(self.person._crm_may_contact(purpose.code, "phone"))
