"""Heavy background batches, chunked so that several workers can share them."""

import hashlib
import logging
from datetime import timedelta

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, split_every

_logger = logging.getLogger(__name__)

MAX_CHUNK_SIZE = 100_000


class CrmBatch(models.Model):
    """One heavy background batch of an addon (lead backlog, churn scoring, ...).

    The model holding the batch's rows provides two methods named after ``code``:

    - ``_batch_<code>_domain()``: the rows still to process;
    - ``_batch_<code>_process()``, on those rows: processes them. It must be
      idempotent, a row processed twice changes nothing more. It may return a row it
      left partly done (one policy of many records, say) for the next chunk.

    The cron processes one chunk per call, rows claimed ``SKIP LOCKED`` past the
    run's cursor, and reports its progress so that Odoo commits and comes back for
    the rest. A second worker running the same batch finds the batch claimed and
    leaves. With OCA's ``queue_job`` installed the cron enqueues the chunks as jobs
    instead, each with an identity key so that a re-run enqueues nothing twice;
    jobs claim their rows ``SKIP LOCKED`` too, so any number of workers share them.
    """

    _name = "crm.batch"
    _description = "Background batch"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, readonly=True)
    model_id = fields.Many2one(
        "ir.model", string="Rows of", required=True, ondelete="cascade", readonly=True
    )
    model = fields.Char(related="model_id.model")
    cron_id = fields.Many2one("ir.cron", string="Scheduled action", readonly=True)
    chunk_size = fields.Integer(
        default=1000,
        required=True,
        help="Rows per chunk: the cron commits each chunk on its own, and with "
        "queue_job each chunk is one job.",
    )
    use_queue_job = fields.Boolean(
        string="Spread with queue_job",
        default=True,
        help="When OCA's queue_job is installed, the cron enqueues the chunks as jobs "
        "that every worker can run. Without it, the cron does the work itself.",
    )
    cursor = fields.Integer(
        readonly=True,
        help="Last row the cron's current run processed; 0 when no run is under way.",
    )
    run_start = fields.Datetime("Current run started", readonly=True)
    run_count = fields.Integer("Rows done in this run", readonly=True)
    last_run_end = fields.Datetime("Last run ended", readonly=True)
    last_run_count = fields.Integer("Rows done in the last run", readonly=True)

    _sql_constraints = [
        ("code_unique", "UNIQUE(code)", "Each batch code is used once."),
    ]

    @api.constrains("chunk_size")
    def _check_chunk_size(self):
        for batch in self:
            if not 1 <= batch.chunk_size <= MAX_CHUNK_SIZE:
                raise ValidationError(
                    self.env._(
                        "The chunk size of “%(batch)s” must be between 1 and "
                        "%(max)s rows.",
                        batch=batch.name,
                        max=MAX_CHUNK_SIZE,
                    )
                )

    # Entry point of the crons

    @api.model
    def _run(self, code):
        """Run batch ``code`` for its cron: its next chunk, or every chunk enqueued
        as jobs. Returns the rows done, or the jobs enqueued."""
        batch = self.search([("code", "=", code)], limit=1)
        if not batch:
            _logger.info("Batch %s is not configured: nothing to run", code)
            return 0
        ir_cron = self.env["ir.cron"]
        if not batch._claim():
            _logger.info("Batch %s is being run by another worker", code)
            ir_cron._notify_progress(done=0, remaining=0)
            return 0
        if batch._queue_job_ready():
            return batch._enqueue_chunks()
        done, remaining = batch._run_chunk()
        ir_cron._notify_progress(done=done, remaining=remaining)
        return done

    def _claim(self):
        """Hold this batch for the transaction; False when another worker does,
        or ran a chunk since this transaction began."""
        self.flush_recordset()
        claimed = self._lock(self._table, [self.id])
        self.invalidate_recordset()
        return bool(claimed)

    def _queue_job_ready(self):
        self.ensure_one()
        return (
            self.use_queue_job
            and "queue.job" in self.env
            and not self.env.context.get("crm_batch_no_queue")
        )

    def _run_chunk(self):
        """Process the next chunk of the current run; returns the rows done and
        the rows left after them."""
        self.ensure_one()
        if not self.cursor:
            self.write({"run_start": fields.Datetime.now(), "run_count": 0})
        ids = self._todo_ids(after=self.cursor, limit=self.chunk_size, lock=True)
        if not ids:
            # Nothing left, or all of it held by other transactions: next run.
            self._end_run()
            return 0, 0
        try:
            with self.env.cr.savepoint():
                revisit = self._process(ids)
        except psycopg2.errors.SerializationFailure:
            # A row it writes changed in another transaction since this one
            # began: the chunk is undone whole, and tried again in a minute,
            # after the cursor, as nothing of it was done.
            self.env.invalidate_all()
            _logger.info("Batch %s: rows changed meanwhile, chunk retried", self.code)
            if self.cron_id:
                self.cron_id._trigger(fields.Datetime.now() + timedelta(minutes=1))
            return 0, 0
        cursor = ids[-1]
        if revisit:
            cursor = min(revisit.id - 1, cursor)
        remaining = self._todo_count(after=cursor)
        self.run_count += len(ids)
        if remaining:
            self.cursor = cursor
        else:
            self._end_run()
        return len(ids), remaining

    def _end_run(self):
        self.write(
            {
                "cursor": 0,
                "last_run_end": fields.Datetime.now(),
                "last_run_count": self.run_count,
            }
        )

    def _enqueue_chunks(self):
        """Enqueue one job per chunk of the rows to process; returns the jobs added.

        A chunk's identity key is its batch and rows: running the cron again before
        the jobs ran finds them queued and adds nothing.
        """
        self.ensure_one()
        ids = self._todo_ids()
        chunks = {
            self._chunk_identity_key(chunk): chunk
            for chunk in split_every(self.chunk_size, ids, list)
        }
        # queue_job looks for a queued job with the same key too, but one job at a
        # time and only once it is built: one query here keeps a re-run cheap.
        queued = set(
            self.env["queue.job"]
            # sudo: the queue is the system's; only identity keys are read.
            .sudo()
            .search(
                [
                    ("identity_key", "in", list(chunks)),
                    ("state", "in", ("wait_dependencies", "pending", "enqueued")),
                ]
            )
            .mapped("identity_key")
        )
        added = 0
        for key, chunk in chunks.items():
            if key in queued:
                continue
            self.with_delay(
                identity_key=key,
                description=self.env._(
                    "%(batch)s: %(count)s row(s)", batch=self.name, count=len(chunk)
                ),
            )._run_job_chunk(chunk)
            added += 1
        self.write({"last_run_end": fields.Datetime.now(), "last_run_count": len(ids)})
        self.env["ir.cron"]._notify_progress(done=len(ids), remaining=0)
        return added

    def _chunk_identity_key(self, ids):
        digest = hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()
        return f"crm.batch:{self.code}:{digest}"

    def _run_job_chunk(self, ids):
        """A queue_job job: process the rows of ``ids`` still to do that no other
        worker holds; returns how many."""
        self.ensure_one()
        self.env.flush_all()
        claimed = self._todo_ids(ids=ids, lock=True)
        if claimed:
            revisit = self._process(claimed)
            if revisit:
                # The rest of a partly done row: its own job, queued once.
                self.with_delay(
                    identity_key=self._chunk_identity_key(revisit.ids)
                )._run_job_chunk(revisit.ids)
        return len(claimed)

    # Rows

    def _rows(self):
        # sudo: a batch processes the rows of every company and user; each
        # batch's process method keeps to the rules of what it does.
        return self.env[self.model].sudo().with_context(active_test=False)

    def _todo_domain(self, after=0, ids=None):
        domain = list(getattr(self._rows(), f"_batch_{self.code}_domain")())
        if after:
            domain.append(("id", ">", after))
        if ids is not None:
            domain.append(("id", "in", list(ids)))
        return domain

    def _todo_ids(self, after=0, ids=None, limit=None, lock=False):
        """Ids of the rows still to process, in id order; with ``lock``, claimed
        for this transaction, rows another transaction holds left out."""
        self.ensure_one()
        Rows = self._rows()
        domain = self._todo_domain(after, ids)
        found = Rows.search(domain, limit=limit, order="id").ids
        if not lock or not found:
            return found
        Rows.flush_model()
        locked = self._lock(Rows._table, found)
        if not locked:
            return []
        # A row another worker finished while this one was locking is done.
        Rows.invalidate_model()
        return Rows.search(self._todo_domain(ids=locked), order="id").ids

    def _lock(self, table, ids):
        """Lock rows ``ids`` of ``table`` for this transaction, skipping those
        another transaction holds; returns the ids locked."""
        cr = self.env.cr

        def lock(row_ids):
            cr.execute(
                SQL(
                    "SELECT id FROM %s WHERE id = ANY(%s) ORDER BY id "
                    "FOR NO KEY UPDATE SKIP LOCKED",
                    SQL.identifier(table),
                    row_ids,
                ),
                log_exceptions=False,
            )
            return [row[0] for row in cr.fetchall()]

        try:
            with cr.savepoint(flush=False):
                return lock(ids)
        except psycopg2.errors.SerializationFailure:
            # A row changed since this transaction began cannot be locked in it
            # (repeatable read): lock the others one by one, leave it to the next
            # run.
            _logger.info("Batch %s: rows changed meanwhile are left", self.code)
        locked = []
        for row_id in ids:
            try:
                with cr.savepoint(flush=False):
                    locked += lock([row_id])
            except psycopg2.errors.SerializationFailure:
                continue
        return locked

    def _todo_count(self, after=0):
        self.ensure_one()
        return self._rows().search_count(self._todo_domain(after))

    def _process(self, ids):
        """Process rows ``ids``; returns the row to come back to, if any, for a
        row its process left partly done (the cursor stops before it)."""
        rows = self._rows().with_context(crm_batch_size=self.chunk_size).browse(ids)
        return getattr(rows, f"_batch_{self.code}_process")()

    def action_run_now(self):
        """Ask the batch's cron to run as soon as a worker is free."""
        for batch in self:
            if batch.cron_id:
                batch.cron_id._trigger()
        return True
