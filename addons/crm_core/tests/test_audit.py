import json
from types import SimpleNamespace

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import SQL

from ..models.base import CHANGED, is_secret_field
from .common import CrmCoreCommon


@tagged("post_install", "-at_install")
class TestAuditTrail(CrmCoreCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule = cls.env["crm.audit.rule"].create(
            {"model_id": cls.env["ir.model"]._get_id("crm.lead"), "log_read": True}
        )
        cls.Lead = cls.env["crm.lead"].with_context(crm_skip_assignment=True)
        cls.Log = cls.env["crm.audit.log"]

    def _entries(self, operation):
        return self.Log.search(
            [("model", "=", "crm.lead"), ("operation", "=", operation)]
        )

    def test_create_write_unlink_one_entry_per_operation(self):
        leads = self.Lead.with_user(self.salesman_a).create(
            [{"name": f"Lead {i}", "expected_revenue": 100} for i in range(3)]
        )
        created = self._entries("create")
        self.assertEqual(len(created), 1)
        self.assertEqual(created.user_id, self.salesman_a)
        self.assertEqual(created.res_ids, leads.ids)
        self.assertEqual(created.changes[str(leads[0].id)]["name"], [False, "Lead 0"])

        leads.with_user(self.salesman_a).write(
            {"expected_revenue": 250, "user_id": self.salesman_a2.id}
        )
        written = self._entries("write")
        self.assertEqual(len(written), 1)
        self.assertEqual(written.record_count, 3)
        # Odoo's own write adds the assignment date: it is audited too.
        self.assertEqual(written.field_names, "date_open, expected_revenue, user_id")
        change = written.changes[str(leads[1].id)]
        self.assertEqual(change["expected_revenue"], [100, 250])
        self.assertEqual(change["user_id"], [self.salesman_a.id, self.salesman_a2.id])

        leads.with_user(self.manager).unlink()
        deleted = self._entries("unlink")
        self.assertEqual(len(deleted), 1)
        self.assertEqual(deleted.user_id, self.manager)
        self.assertEqual(deleted.changes[str(leads[2].id)], {"display_name": "Lead 2"})

    def test_reads_of_sensitive_models_are_logged_with_fields(self):
        leads = self.Lead.create(
            [
                {"name": "A", "user_id": self.salesman_a.id},
                {"name": "B", "user_id": self.salesman_a.id},
            ]
        )
        leads.sudo().read(["name"])  # internal sudo reads are not user access
        self.salesman_a.groups_id += self.env.ref("base.group_allow_export")
        as_user = leads.with_user(self.salesman_a)
        as_user.read(["name", "email_from"])
        as_user.search_read([("id", "in", leads.ids)], ["name"])
        as_user.export_data(["name", "phone"])
        reads = self._entries("read").filtered(lambda e: e.user_id == self.salesman_a)
        self.assertEqual(len(reads), 3)
        self.assertEqual(
            sorted(reads.mapped("field_names")),
            ["name", "name, email_from", "name, phone"],
        )
        self.assertEqual(set(reads[0].res_ids), set(leads.ids))
        # Internal sudo reads are not user access.
        self.assertFalse(self._entries("read").filtered(lambda e: e.user_id.id == 1))

    def test_nobody_alters_the_log(self):
        self.Lead.create({"name": "Audited"})
        entry = self._entries("create")
        for env_user in (self.manager, self.compliance):
            with self.subTest(user=env_user.login):
                # AccessError is a UserError.
                with self.assertRaises(UserError):
                    entry.with_user(env_user).write({"model": "res.partner"})
                with self.assertRaises(UserError):
                    entry.with_user(env_user).unlink()
        with self.assertRaises(UserError):
            entry.sudo().write({"operation": "read"})
        with self.assertRaises(UserError):
            entry.sudo().unlink()
        with self.assertRaises(UserError):
            self.Log.sudo().create({"model": "x", "operation": "read"})
        # Compliance reads it; a CRM manager does not.
        self.assertTrue(entry.with_user(self.compliance).operation)
        with self.assertRaises(AccessError):
            self.Log.with_user(self.manager).search([])

    def test_unaudited_operations_and_models_log_nothing(self):
        self.rule.log_unlink = False
        self.Lead.create({"name": "Gone"}).unlink()
        self.env["crm.team"].create({"name": "Not audited"})
        self.assertFalse(self._entries("unlink"))
        self.assertFalse(self.Log.search([("model", "=", "crm.team")]))
        self.rule.active = False
        self.Lead.create({"name": "Silent"})
        self.assertEqual(len(self._entries("create")), 1)

    def test_one_insert_per_batch_whatever_its_size(self):
        queries = []
        for size in (2, 5, 50):  # the first batch warms the caches
            leads = self.Lead.create([{"name": f"L{i}"} for i in range(size)])
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.cr.sql_log_count
            leads.write({"priority": "2"})
            self.env.flush_all()
            queries.append(self.cr.sql_log_count - start)
        self.assertEqual(queries[1], queries[2], queries)

    def _audit(self, model, **vals):
        Rule = self.env["crm.audit.rule"].with_context(active_test=False)
        rule = Rule.search([("model", "=", model)]) or Rule.create(
            {"model_id": self.env["ir.model"]._get_id(model)}
        )
        rule.write({"active": True, "log_create": True, "log_write": True, **vals})

    def test_secrets_and_restricted_values_are_logged_as_changed_only(self):
        self._audit("res.users")
        self._audit("res.partner")
        self._audit("crm.consent")
        user = new_test_user(
            self.env, "audited", groups="base.group_user", password="Sup3r-S3cret!"
        )
        user.write({"password": "An0ther-S3cret!"})
        # churn_reasons is for CRM users only (groups=): its value stays out.
        self.customer.write({"churn_reasons": "Late payer 4711", "ref": "ACME-7"})
        pending = self.env["crm.consent"]._request_double_opt_in(
            self.contact_1, "marketing_email"
        )
        entries = self.Log.search(
            [("model", "in", ("res.users", "res.partner", "crm.consent"))]
        )
        logged = json.dumps(entries.mapped("changes"))
        for secret in ("Sup3r-S3cret!", "An0ther-S3cret!", "4711"):
            self.assertNotIn(secret, logged)
        self.assertNotIn(pending.access_token, logged)

        def changes(model, operation, record, name):
            """The logged values of ``name`` on ``record``, in its one entry."""
            (values,) = [
                entry.changes[str(record.id)][name]
                for entry in entries
                if entry.model == model
                and entry.operation == operation
                and name in (entry.changes or {}).get(str(record.id), {})
            ]
            return values

        self.assertEqual(
            changes("res.users", "create", user, "password"), [False, CHANGED]
        )
        self.assertEqual(
            changes("res.users", "write", user, "password"), [CHANGED, CHANGED]
        )
        self.assertEqual(
            changes("res.partner", "write", self.customer, "churn_reasons"),
            [CHANGED, CHANGED],
        )
        self.assertEqual(
            changes("res.partner", "write", self.customer, "ref"), [False, "ACME-7"]
        )
        self.assertEqual(
            changes("crm.consent", "create", pending, "access_token"),
            [False, CHANGED],
        )

    def test_secret_fields_are_told_by_the_words_of_their_name(self):
        def field(name, groups=None):
            return SimpleNamespace(name=name, groups=groups)

        for name in (
            "password",
            "new_password",
            "api_key",
            "access_token",
            "signup_token",
            "totp_secret",
            "client_secret",
            "KEY",
        ):
            with self.subTest(name=name):
                self.assertTrue(is_secret_field(field(name)))
        for name in ("monkey_count", "keyboard_layout", "turkey", "passport_no"):
            with self.subTest(name=name):
                self.assertFalse(is_secret_field(field(name)))
        self.assertTrue(is_secret_field(field("notes", "base.group_system")))

    def test_technical_models_cannot_be_audited(self):
        Rule = self.env["crm.audit.rule"].with_user(self.compliance)
        for model in (
            "ir.attachment",
            "ir.config_parameter",
            "ir.ui.view",
            "ir.cron",
            "res.users.apikeys",
        ):
            model_id = self.env["ir.model"]._get_id(model)
            with self.subTest(model=model), self.assertRaises(ValidationError) as cm:
                Rule.create({"model_id": model_id})
            self.assertIn("cannot be audited", str(cm.exception))
        with self.assertRaises(ValidationError):
            self.rule.model_id = self.env["ir.model"]._get("ir.config_parameter")
        self.assertFalse(Rule.search([("model", "=like", "ir.%")]))
        # A rule made before they were refused logs nothing.
        self.env.cr.execute(
            SQL(
                "INSERT INTO crm_audit_rule (model_id, model, active, log_create, "
                "log_write) VALUES (%s, 'ir.config_parameter', TRUE, TRUE, TRUE)",
                self.env["ir.model"]._get_id("ir.config_parameter"),
            )
        )
        self.env.registry.clear_cache()
        self.env["ir.config_parameter"].set_param("crm_core.test_secret", "s3cr3t")
        self.assertFalse(self.Log.search([("model", "=", "ir.config_parameter")]))

    def test_an_entry_keeps_who_acted_after_the_user_is_deleted(self):
        leaver = new_test_user(
            self.env, "leaver", groups="crm_core.group_crm_user", name="Lee Leaver"
        )
        self.Lead.with_user(leaver).create({"name": "Left behind"})
        entry = self._entries("create")
        self.assertEqual(entry.user_id, leaver)
        self.assertEqual(entry.user_name, "Lee Leaver (leaver)")
        leaver.unlink()
        entry.invalidate_recordset()
        self.assertFalse(entry.user_id)
        self.assertEqual(entry.user_name, "Lee Leaver (leaver)")


@tagged("post_install", "-at_install")
class TestAuditedReadOverRpc(HttpCase):
    def test_web_read_of_an_audited_model_is_logged(self):
        # The web client reads on a read-only cursor; audited reads must not.
        self.env["crm.audit.rule"].create(
            {"model_id": self.env["ir.model"]._get_id("crm.lead"), "log_read": True}
        )
        user = new_test_user(self.env, "auditee", groups="crm_core.group_crm_manager")
        lead = self.env["crm.lead"].create({"name": "Watched", "user_id": user.id})
        self.authenticate("auditee", "auditee")
        result = self.make_jsonrpc_request(
            "/web/dataset/call_kw/crm.lead/web_read",
            {
                "model": "crm.lead",
                "method": "web_read",
                "args": [lead.ids],
                "kwargs": {"specification": {"name": {}}},
            },
        )
        self.assertEqual(result[0]["name"], "Watched")
        entry = self.env["crm.audit.log"].search(
            [("operation", "=", "read"), ("user_id", "=", user.id)]
        )
        self.assertEqual(entry.res_ids, lead.ids)
        self.assertEqual(entry.field_names, "name")
