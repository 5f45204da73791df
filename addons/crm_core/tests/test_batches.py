from odoo import Command, fields
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from .batch_common import BatchCronChecks, BatchQueueChecks
from .common import CrmCoreCommon


class CoreBatchRows:
    """Rows for crm_core's batches: leads to route, customers to score, policies
    with records due."""

    BATCHES = {
        "assign_backlog": "_backlog_rows",
        "churn_scoring": "_churn_rows",
        "retention": "_retention_rows",
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.assignment.rule"].search([]).active = False
        cls.officer = new_test_user(
            cls.env,
            "batch_officer",
            groups="crm_core.group_crm_compliance,crm_core.group_crm_manager",
            company_id=cls.company.id,
        )

    def _backlog_rows(self, count):
        source = self.env["utm.source"].create({"name": "Backlog source"})
        leads = self.env["crm.lead"].create(
            [
                {"name": f"Backlog {i}", "source_id": source.id, "user_id": False}
                for i in range(count)
            ]
        )
        self.env["crm.assignment.rule"].create(
            {
                "name": "Backlog catcher",
                "team_id": self.team_a.id,
                "source_ids": [Command.set(source.ids)],
            }
        )
        return leads

    def effect_assign_backlog(self, leads):
        return [lead.user_id.id for lead in leads]

    def _churn_rows(self, count):
        long_ago = fields.Date.subtract(fields.Date.today(), days=200)
        customers = self.env["res.partner"].create(
            [{"name": f"Silent customer {i}"} for i in range(count)]
        )
        for customer in customers:
            self._create_customer_invoice(
                customer, 500, invoice_date=long_ago, due_date=long_ago
            )
        return customers

    def effect_churn_scoring(self, customers):
        return [(c.churn_score, c.churn_at_risk, c.churn_reasons) for c in customers]

    def _retention_rows(self, count):
        Lead = self.env["crm.lead"].with_context(crm_skip_assignment=True)
        self.doomed = {}
        policies = self.env["crm.retention.policy"]
        for i in range(count):
            doomed = Lead.create(
                {"name": f"Doomed {i}", "active": False, "company_id": self.company.id}
            )
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    "UPDATE crm_lead SET write_date = NOW() - INTERVAL '400 days' "
                    "WHERE id = %s",
                    doomed.id,
                )
            )
            doomed.invalidate_recordset()
            policy = (
                self.env["crm.retention.policy"]
                .with_user(self.officer)
                .create(
                    {
                        "name": f"Doomed {i} after a year",
                        "model_id": self.env["ir.model"]._get_id("crm.lead"),
                        "inactive_days": 365,
                        "action": "delete",
                        "domain": repr([("name", "=", f"Doomed {i}")]),
                    }
                )
            )
            self.doomed[policy.id] = doomed
            policies |= policy
        return policies.with_env(self.env)

    def effect_retention(self, policies):
        return [bool(self.doomed[policy.id].exists()) for policy in policies]


@tagged("post_install", "-at_install")
class TestCoreBatches(CoreBatchRows, BatchCronChecks, CrmCoreCommon):
    def test_chunk_size_is_bounded(self):
        batch = self._batch("churn_scoring")
        for size in (0, -5, 100_001):
            with (
                self.subTest(size=size),
                self.assertRaisesRegex(Exception, "between 1 and"),
            ):
                batch.chunk_size = size
                batch.flush_recordset()

    def test_two_workers_claim_distinct_rows(self):
        """Committed leads: a job or cron of one worker holds rows, the other's claim
        of the same rows skips them and takes the rest."""
        with self.committed() as env:
            leads = env["crm.lead"].create(
                [{"name": f"Race {i}", "user_id": False} for i in range(4)]
            )
        try:
            with self.two_workers() as (env1, env2):
                batch1 = env1["crm.batch"].search([("code", "=", "assign_backlog")])
                batch2 = batch1.with_env(env2)
                first = batch1._todo_ids(ids=leads.ids[:2], lock=True)
                self.assertEqual(first, leads.ids[:2])
                second = batch2._todo_ids(ids=leads.ids, lock=True)
                self.assertEqual(second, leads.ids[2:])
        finally:
            with self.committed() as env:
                env["crm.lead"].browse(leads.ids).unlink()

    def test_batches_are_listed_for_administrators(self):
        batches = self.env["crm.batch"].search([])
        self.assertTrue(
            {"assign_backlog", "churn_scoring", "retention"}
            <= set(batches.mapped("code"))
        )
        self.assertFalse(
            self.env["crm.batch"].with_user(self.manager).has_access("read")
        )
        self.assertTrue(all(batches.mapped("cron_id")))
        Trigger = self.env["ir.cron.trigger"]
        domain = [("cron_id", "=", batches[0].cron_id.id)]
        before = Trigger.search_count(domain)
        batches[0].action_run_now()
        self.assertEqual(Trigger.search_count(domain), before + 1)

    def test_rows_changed_since_the_run_began_are_left_for_the_next(self):
        """Repeatable read: a row another transaction changed and committed since
        this one began cannot be locked in it; the others are, without an error."""
        with self.committed() as env:
            leads = env["crm.lead"].create(
                [{"name": f"Moving {i}", "user_id": False} for i in range(3)]
            )
        try:
            with self.two_workers() as (env1, env2):
                batch2 = env2["crm.batch"].search([("code", "=", "assign_backlog")])
                env1.cr.execute(
                    "UPDATE crm_lead SET name = 'Moved' WHERE id = %s", [leads[1].id]
                )
                env1.cr.commit()
                self.assertEqual(
                    batch2._lock("crm_lead", leads.ids), [leads[0].id, leads[2].id]
                )
        finally:
            with self.committed() as env:
                env["crm.lead"].browse(leads.ids).unlink()


@tagged("-standard", "crm_queue_job", "post_install", "-at_install")
class TestCoreBatchesQueued(CoreBatchRows, BatchQueueChecks, CrmCoreCommon):
    pass
