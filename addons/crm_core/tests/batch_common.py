"""Checks every chunked batch (crm.batch) of an addon must pass.

A test class lists its addon's batches in ``BATCHES``: code -> name of a method
``make(count)`` returning ``count`` rows the batch has to process. The batch's effect
on them is read by ``effect_<code>(rows)`` (any comparable value), which must change
once they are processed and never again.
"""

from odoo import sql_db
from odoo.tools import mute_logger

# The other models a batch may add to: a second run must add nothing more.
SIDE_EFFECT_MODELS = ("mail.message", "mail.activity", "mail.mail")


class BatchChecks:
    BATCHES = {}
    # Odoo's loader runs only a class's own test methods unless told otherwise.
    allow_inherited_tests_method = True

    def _batch(self, code):
        return self.env["crm.batch"].search([("code", "=", code)])

    def _side_effects(self):
        return {model: self.env[model].search_count([]) for model in SIDE_EFFECT_MODELS}

    def _effect(self, code, rows):
        rows.invalidate_model()
        return getattr(self, f"effect_{code}")(rows)

    def _run_with_progress(self, code):
        """Run the batch as its cron would; returns the progress it reported."""
        batch = self._batch(code)
        progress = self.env["ir.cron.progress"].create(
            {"cron_id": batch.cron_id.id or self.env["ir.cron"].search([], limit=1).id}
        )
        batch.with_context(ir_cron_progress_id=progress.id)._run(code)
        return progress

    def _rows(self, code, count):
        return getattr(self, self.BATCHES[code])(count)


class BatchCronChecks(BatchChecks):
    """Without queue_job: the cron works a chunk per call, its rows claimed."""

    def test_batches_work_in_chunks(self):
        for code in self.BATCHES:
            with self.subTest(batch=code):
                batch = self._batch(code)
                self.assertTrue(batch, f"batch {code} is not declared")
                rows = self._rows(code, 3)
                before = self._effect(code, rows)
                self.assertTrue(set(rows.ids) <= set(batch._todo_ids()))
                batch.chunk_size = 2
                total = batch._todo_count()
                calls, done = 0, 0
                while True:
                    progress = self._run_with_progress(code)
                    calls += 1
                    self.assertLessEqual(progress.done, 2)
                    done += progress.done
                    if not progress.remaining:
                        break
                    self.assertLess(calls, total, "the batch does not move on")
                # A row left partly done (a policy with more records) comes back.
                self.assertGreaterEqual(done, total)
                self.assertGreaterEqual(calls, -(-total // 2))
                self.assertEqual(batch.cursor, 0, "the run is not closed")
                self.assertEqual(batch.last_run_count, done)
                self.assertNotEqual(self._effect(code, rows), before)

    def test_batches_are_idempotent(self):
        for code in self.BATCHES:
            with self.subTest(batch=code):
                batch = self._batch(code)
                rows = self._rows(code, 2)
                batch._run_job_chunk(rows.ids)
                after_once = self._effect(code, rows)
                side_effects = self._side_effects()
                batch._run_job_chunk(rows.ids)
                self.assertEqual(self._effect(code, rows), after_once)
                self.assertEqual(self._side_effects(), side_effects)

    def test_second_worker_leaves_a_batch_another_runs(self):
        db = self.env.cr.dbname
        for code in self.BATCHES:
            with self.subTest(batch=code):
                batch = self._batch(code)
                rows = self._rows(code, 2)
                before = self._effect(code, rows)
                # The first worker holds the batch in its own transaction.
                with sql_db.db_connect(db).cursor() as worker1_cr:
                    worker1_cr.execute("SET LOCAL lock_timeout = '10s'")
                    worker1_cr.execute(
                        "SELECT id FROM crm_batch WHERE id = %s FOR NO KEY UPDATE",
                        [batch.id],
                    )
                    with mute_logger("odoo.addons.crm_core.models.crm_batch"):
                        progress = self._run_with_progress(code)
                    self.assertEqual((progress.done, progress.remaining), (0, 0))
                    self.assertEqual(self._effect(code, rows), before)
                    worker1_cr.rollback()
                # Once it is done, the next run does the work.
                self._run_with_progress(code)
                self.assertNotEqual(self._effect(code, rows), before)


class BatchQueueChecks(BatchChecks):
    """With queue_job: the cron enqueues each chunk once, jobs do the work."""

    def _queued(self, code):
        return (
            self.env["queue.job"]
            # sudo: the queue is the system's, the test only counts its jobs.
            .sudo()
            .search(
                [
                    ("identity_key", "=like", f"crm.batch:{code}:%"),
                    ("state", "=", "pending"),
                ]
            )
        )

    def _perform(self, jobs):
        from odoo.addons.queue_job.job import Job

        for job in jobs:
            Job.load(self.env, job.uuid).perform()

    def test_batches_enqueue_each_chunk_once(self):
        for code in self.BATCHES:
            with self.subTest(batch=code):
                batch = self._batch(code)
                self.assertTrue(batch._queue_job_ready())
                rows = self._rows(code, 3)
                before = self._effect(code, rows)
                batch.chunk_size = 2
                total = batch._todo_count()
                progress = self._run_with_progress(code)
                self.assertEqual((progress.done, progress.remaining), (total, 0))
                jobs = self._queued(code)
                self.assertEqual(len(jobs), -(-total // 2))
                self.assertTrue(all(jobs.mapped("identity_key")))
                # A re-run before the jobs ran enqueues nothing more.
                self._run_with_progress(code)
                self.assertEqual(self._queued(code), jobs)
                self.assertEqual(self._effect(code, rows), before)
                self._perform(jobs)
                done = self._effect(code, rows)
                self.assertNotEqual(done, before)
                # A job run twice (a retry) changes nothing more.
                side_effects = self._side_effects()
                self._perform(jobs)
                self.assertEqual(self._effect(code, rows), done)
                self.assertEqual(self._side_effects(), side_effects)

    def test_second_worker_enqueues_nothing_while_another_runs(self):
        db = self.env.cr.dbname
        for code in self.BATCHES:
            with self.subTest(batch=code):
                batch = self._batch(code)
                self._rows(code, 2)
                with sql_db.db_connect(db).cursor() as worker1_cr:
                    worker1_cr.execute("SET LOCAL lock_timeout = '10s'")
                    worker1_cr.execute(
                        "SELECT id FROM crm_batch WHERE id = %s FOR NO KEY UPDATE",
                        [batch.id],
                    )
                    with mute_logger("odoo.addons.crm_core.models.crm_batch"):
                        self._run_with_progress(code)
                    self.assertFalse(self._queued(code))
                    worker1_cr.rollback()
                self._run_with_progress(code)
                self.assertTrue(self._queued(code))
