from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from .common import CrmCoreCommon

LOGGER = "odoo.addons.crm_core.models.crm_retention_policy"


@tagged("post_install", "-at_install")
class TestRetentionPolicies(CrmCoreCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Deletes leads and erases contacts: a compliance officer who also
        # manages the CRM and contacts, working for both companies.
        cls.officer = new_test_user(
            cls.env,
            "retention_officer",
            groups="crm_core.group_crm_compliance,crm_core.group_crm_manager,"
            "base.group_partner_manager",
            company_id=cls.company.id,
            company_ids=[Command.set((cls.company | cls.other_company).ids)],
        )
        Lead = cls.env["crm.lead"].with_context(crm_skip_assignment=True)
        here = {"company_id": cls.company.id}
        cls.old_lost = Lead.create(
            [{"name": f"Old lost {i}", "active": False, **here} for i in range(3)]
        )
        cls.old_open = Lead.create({"name": "Old but open", **here})
        cls.recent_lost = Lead.create({"name": "Recent lost", "active": False, **here})
        cls.elsewhere_lost = Lead.create(
            {
                "name": "Old lost elsewhere",
                "active": False,
                "company_id": cls.other_company.id,
            }
        )
        Partner = cls.env["res.partner"]
        cls.old_person = Partner.create(
            {"name": "Dormant Dora", "email": "dora@dormant.example", **here}
        )
        cls.shared_person = Partner.create(
            {"name": "Shared Sam", "email": "sam@shared.example"}
        )
        cls.elsewhere_person = Partner.create(
            {
                "name": "Elsewhere Eve",
                "email": "eve@elsewhere.example",
                "company_id": cls.other_company.id,
            }
        )
        cls._age(cls.old_lost | cls.old_open | cls.elsewhere_lost)
        cls._age(cls.old_person | cls.shared_person | cls.elsewhere_person)

    @classmethod
    def _age(cls, records):
        cls.env.flush_all()
        cls.env.cr.execute(
            SQL(
                "UPDATE %s SET write_date = NOW() - INTERVAL '400 days' WHERE id IN %s",
                SQL.identifier(records._table),
                tuple(records.ids),
            )
        )
        cls.env.invalidate_all()

    def _policy(self, model, user=None, **vals):
        model_id = self.env["ir.model"]._get(model)
        return (
            self.env["crm.retention.policy"]
            .with_user(user or self.officer)
            .create(
                {
                    "name": f"{model} after a year",
                    "model_id": model_id.id,
                    "inactive_days": 365,
                    **vals,
                }
            )
        )

    def test_dry_run_counts_without_changing_anything(self):
        policy = self._policy(
            "crm.lead", action="delete", domain="[('active', '=', False)]"
        )
        self.assertEqual(policy.user_id, self.officer)
        self.assertEqual(policy.company_id, self.company)
        action = policy.action_preview()
        self.assertEqual(policy.preview_count, 3)
        # The other company's lead is not this policy's, though its owner sees it.
        self.assertEqual(set(action["domain"][0][2]), set(self.old_lost.ids))
        self.assertEqual(len(self.old_lost.exists()), 3)

    def test_daily_cron_deletes_and_anonymises_in_batches(self):
        self._policy("crm.lead", action="delete", domain="[('active', '=', False)]")
        self._policy("res.partner", action="anonymize")
        Policy = self.env["crm.retention.policy"]
        self.env.ref("crm_core.batch_retention").chunk_size = 2
        Policy._cron_apply_retention()
        self.assertEqual(len(self.old_lost.exists()), 1)
        Policy._cron_apply_retention()
        self.assertFalse(self.old_lost.exists())
        self.assertTrue(self.old_open.exists())
        self.assertTrue(self.recent_lost.exists())
        self.assertTrue(self.old_person.privacy_erased)
        self.assertFalse(self.old_person.email)
        self.assertNotIn("Dora", self.old_person.name)
        # Nothing left to do: running again changes nothing.
        Policy._cron_apply_retention()
        self.assertTrue(self.old_open.exists())
        # Another company's records, and those shared by all companies, stay.
        self.assertTrue(self.elsewhere_lost.exists())
        self.assertEqual(self.shared_person.email, "sam@shared.example")
        self.assertEqual(self.elsewhere_person.email, "eve@elsewhere.example")

    def test_bad_policies_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "at least one day"):
            self._policy("crm.lead", action="delete", inactive_days=0)
        with self.assertRaisesRegex(ValidationError, "fiscal records"):
            self._policy("account.move", action="delete")
        with self.assertRaisesRegex(ValidationError, "not a stored date field"):
            self._policy("crm.lead", action="delete", date_field="name")
        with self.assertRaisesRegex(ValidationError, "filter is not valid"):
            self._policy("crm.lead", action="delete", domain="[('nope', '=', 1)]")

    def test_only_models_registered_for_privacy_can_be_chosen(self):
        for model in (
            "ir.attachment",
            "ir.ui.view",
            "ir.config_parameter",
            "res.users",
            "mail.message",
            "crm.team",
        ):
            with (
                self.subTest(model=model),
                self.assertRaisesRegex(ValidationError, "not registered for privacy"),
            ):
                self._policy(model, action="delete")
        policy = self._policy("crm.lead", action="delete")
        with self.assertRaisesRegex(ValidationError, "not registered for privacy"):
            policy.model_id = self.env["ir.model"]._get("ir.attachment")
        # The form offers the allowed models only.
        offered = set(policy.allowed_model_ids.mapped("model"))
        self.assertTrue({"crm.lead", "res.partner", "crm.consent"} <= offered)
        self.assertFalse(
            {"ir.attachment", "res.users", "ir.ui.view", "account.move"} & offered
        )

    def test_owner_without_the_rights_is_refused_with_a_clear_error(self):
        # This compliance officer is a salesperson: they may not delete leads.
        policy = self._policy("crm.lead", user=self.compliance, action="delete")
        with self.assertRaisesRegex(AccessError, "may not delete Lead"):
            policy.action_preview()
        with self.assertRaisesRegex(AccessError, "may not delete Lead"):
            policy._apply()
        self.assertEqual(len(self.old_lost.exists()), 3)
        # Erasing contacts takes a compliance officer who may change them.
        policy = self._policy("res.partner")
        policy.sudo().user_id = self.employee
        with self.assertRaisesRegex(
            AccessError, r"may not change or erase \(Compliance Officer\) Contact"
        ):
            policy._apply()
        contacts_manager = new_test_user(
            self.env,
            "contacts_manager",
            groups="crm_core.group_crm_manager,base.group_partner_manager",
            company_id=self.company.id,
        )
        policy.sudo().user_id = contacts_manager
        with self.assertRaisesRegex(
            AccessError, r"may not erase \(Compliance Officer\)"
        ):
            policy._apply()
        self.assertEqual(self.old_person.email, "dora@dormant.example")
        # An owner who left (archived) runs nothing.
        policy = self._policy("crm.lead", action="delete")
        self.officer.active = False
        with self.assertRaisesRegex(UserError, "active internal user"):
            policy.action_preview()

    def test_preview_and_run_see_only_what_the_owner_may(self):
        Lead = self.env["crm.lead"].with_context(crm_skip_assignment=True)
        here = {"company_id": self.company.id, "partner_name": "Acme"}
        unassigned = Lead.create({"name": "Nobody's", "user_id": False, **here})
        colleagues = Lead.create(
            {"name": "Salesman B's", "user_id": self.salesman_b.id, **here}
        )
        self._age(unassigned | colleagues)
        # A salesperson-level officer sees their own and unassigned leads only.
        policy = self._policy(
            "crm.lead",
            user=self.compliance,
            action="anonymize",
            domain=f"[('id', 'in', {(unassigned | colleagues).ids})]",
        )
        action = policy.action_preview()
        self.assertEqual(action["domain"][0][2], unassigned.ids)
        self.assertEqual(policy.preview_count, 1)
        self.assertEqual(policy._apply(), 1)
        self.assertEqual(unassigned.name, "Erased lead")
        self.assertFalse(unassigned.partner_name)
        self.assertEqual(colleagues.name, "Salesman B's")
        self.assertEqual(colleagues.partner_name, "Acme")

    def test_records_of_another_company_or_shared_ones(self):
        elsewhere = self._policy(
            "crm.lead",
            action="delete",
            domain="[('active', '=', False)]",
            company_id=self.other_company.id,
        )
        self.assertEqual(
            elsewhere.action_preview()["domain"][0][2], self.elsewhere_lost.ids
        )
        contacts = self._policy("res.partner")
        due = contacts.action_preview()["domain"][0][2]
        self.assertIn(self.old_person.id, due)
        self.assertNotIn(self.shared_person.id, due)
        self.assertNotIn(self.elsewhere_person.id, due)
        # With one company in the database, shared records are its own.
        Policy = type(self.env["crm.retention.policy"])
        with patch.object(Policy, "_single_company", return_value=True):
            due = contacts.action_preview()["domain"][0][2]
        self.assertIn(self.shared_person.id, due)
        self.assertNotIn(self.elsewhere_person.id, due)
        # A company's policies are out of sight of the other company's officers.
        other_officer = new_test_user(
            self.env,
            "other_officer",
            groups="crm_core.group_crm_compliance",
            company_id=self.other_company.id,
            company_ids=[Command.set(self.other_company.ids)],
        )
        visible = self.env["crm.retention.policy"].with_user(other_officer).search([])
        self.assertEqual(visible, elsewhere)

    def test_only_an_administrator_lends_someone_else_their_rights(self):
        with self.assertRaisesRegex(AccessError, "its owner's rights"):
            self._policy("crm.lead", user=self.compliance, user_id=self.officer.id)
        # Nor through a default passed in the context.
        Policy = self.env["crm.retention.policy"].with_user(self.compliance)
        with self.assertRaisesRegex(AccessError, "its owner's rights"):
            Policy.with_context(default_user_id=self.officer.id).create(
                {"name": "Lent", "model_id": self.env["ir.model"]._get_id("crm.lead")}
            )
        policy = self._policy("crm.lead", action="delete")
        as_compliance = policy.with_user(self.compliance)
        with self.assertRaisesRegex(AccessError, "its owner's rights"):
            as_compliance.write({"user_id": self.salesman_a.id})
        # Whoever changes what the policy does becomes its owner.
        as_compliance.write({"domain": "[('active', '=', False)]"})
        self.assertEqual(policy.user_id, self.compliance)
        admin = new_test_user(
            self.env,
            "retention_admin",
            groups="base.group_system,crm_core.group_crm_compliance",
            company_id=self.company.id,
        )
        policy.with_user(admin).user_id = self.officer
        self.assertEqual(policy.user_id, self.officer)

    def test_daily_cron_runs_each_policy_as_its_owner(self):
        refused = self._policy(
            "crm.lead",
            user=self.compliance,
            action="delete",
            domain="[('active', '=', False)]",
        )
        self._policy("res.partner")
        with self.assertLogs(LOGGER, "ERROR") as logs:
            self.env["crm.retention.policy"]._cron_apply_retention()
        self.assertEqual(len(logs.records), 1)
        self.assertIn(refused.name, logs.output[0])
        self.assertEqual(len(self.old_lost.exists()), 3)
        self.assertTrue(self.old_person.privacy_erased)
        self.assertFalse(self.shared_person.privacy_erased)
