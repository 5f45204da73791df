from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import CrmCoreCommon


@tagged("post_install", "-at_install")
class TestRetentionPolicies(CrmCoreCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Lead = cls.env["crm.lead"].with_context(crm_skip_assignment=True)
        cls.old_lost = Lead.create(
            [{"name": f"Old lost {i}", "active": False} for i in range(3)]
        )
        cls.old_open = Lead.create({"name": "Old but open"})
        cls.recent_lost = Lead.create({"name": "Recent lost", "active": False})
        cls.old_person = cls.env["res.partner"].create(
            {"name": "Dormant Dora", "email": "dora@dormant.example"}
        )
        cls.env.flush_all()
        cls.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET write_date = NOW() - INTERVAL '400 days' "
                "WHERE id IN %s",
                tuple((cls.old_lost | cls.old_open).ids),
            )
        )
        cls.env.cr.execute(
            SQL(
                "UPDATE res_partner SET write_date = NOW() - INTERVAL '400 days' "
                "WHERE id = %s",
                cls.old_person.id,
            )
        )
        cls.env.invalidate_all()

    def _policy(self, model, **vals):
        model_id = self.env["ir.model"]._get(model)
        return (
            self.env["crm.retention.policy"]
            .with_user(self.compliance)
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
        action = policy.action_preview()
        self.assertEqual(policy.preview_count, 3)
        self.assertEqual(set(action["domain"][0][2]), set(self.old_lost.ids))
        self.assertEqual(len(self.old_lost.exists()), 3)

    def test_daily_cron_deletes_and_anonymises_in_batches(self):
        self._policy("crm.lead", action="delete", domain="[('active', '=', False)]")
        self._policy("res.partner", action="anonymize")
        Policy = self.env["crm.retention.policy"]
        Policy._cron_apply_retention(batch_size=2)
        self.assertEqual(len(self.old_lost.exists()), 1)
        Policy._cron_apply_retention(batch_size=2)
        self.assertFalse(self.old_lost.exists())
        self.assertTrue(self.old_open.exists())
        self.assertTrue(self.recent_lost.exists())
        self.assertTrue(self.old_person.privacy_erased)
        self.assertFalse(self.old_person.email)
        self.assertNotIn("Dora", self.old_person.name)
        # Nothing left to do: running again changes nothing.
        Policy._cron_apply_retention(batch_size=2)
        self.assertTrue(self.old_open.exists())

    def test_bad_policies_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "at least one day"):
            self._policy("crm.lead", action="delete", inactive_days=0)
        with self.assertRaisesRegex(ValidationError, "fiscal records"):
            self._policy("account.move", action="delete")
        with self.assertRaisesRegex(ValidationError, "no anonymisation rule"):
            self._policy("crm.team", action="anonymize")
        with self.assertRaisesRegex(ValidationError, "not a stored date field"):
            self._policy("crm.lead", action="delete", date_field="name")
        with self.assertRaisesRegex(ValidationError, "filter is not valid"):
            self._policy("crm.lead", action="delete", domain="[('nope', '=', 1)]")
