import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

CHANNELS = [("email", "Email"), ("sms", "SMS")]
# Appointments still to be reminded.
REMINDED_STATES = ("booked", "confirmed")
CONSENT_PURPOSE = "health_reminders"
BATCH_SIZE = 1000


class CrmHealthcareReminderLog(models.Model):
    """The send log of appointment reminders: one row per appointment,
    reminder rule and channel, whatever happened (sent, failed, or skipped and
    why).

    The row is written *before* anything is sent, under a unique key: a second
    cron run, or a second worker running at the same moment, finds the row (or
    the appointment locked) and never sends the reminder again. Only the
    system writes it; it keeps no message body, only what was sent, when, on
    which channel and the outcome: nothing clinical.
    """

    _name = "crm.healthcare.reminder.log"
    _description = "Reminder Send Log"
    _order = "date desc, id desc"
    _rec_name = "rule_id"
    _check_company_auto = True

    appointment_id = fields.Many2one(
        "crm.healthcare.appointment",
        string="Appointment",
        required=True,
        readonly=True,
        # Indexed by the unique key, which starts with it.
        ondelete="cascade",
    )
    patient_id = fields.Many2one(
        "crm.healthcare.patient",
        string="Patient",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    rule_id = fields.Many2one(
        "crm.healthcare.reminder.rule",
        string="Reminder",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    channel = fields.Selection(CHANNELS, required=True, readonly=True)
    state = fields.Selection(
        [
            ("pending", "Sending"),
            ("sent", "Sent"),
            ("failed", "Failed"),
            ("skipped", "Skipped"),
        ],
        required=True,
        readonly=True,
        default="pending",
        index=True,
    )
    reason = fields.Char(readonly=True, help="Why the reminder was skipped or failed.")
    date = fields.Datetime(
        required=True,
        readonly=True,
        default=fields.Datetime.now,
        help="When the reminder was processed; set by the system.",
    )
    mail_id = fields.Many2one(
        "mail.mail",
        string="Email",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
        help="The queued email, until the mail queue sends and deletes it.",
    )
    sms_id = fields.Many2one(
        "sms.sms",
        string="SMS",
        readonly=True,
        ondelete="set null",
        index="btree_not_null",
        help="The queued SMS, until the SMS queue sends and deletes it.",
    )
    delivery_state = fields.Selection(
        [
            ("queued", "Queued"),
            ("delivered", "Handed to the Carrier"),
            ("failed", "Delivery Failed"),
        ],
        compute="_compute_delivery_state",
        help="What the mail or SMS queue did with a sent reminder.",
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)

    _sql_constraints = [
        (
            "once_per_channel",
            "UNIQUE(appointment_id, rule_id, channel)",
            "An appointment gets each reminder once per channel.",
        ),
    ]

    @api.depends("state", "mail_id.state", "sms_id.state")
    def _compute_delivery_state(self):
        for log in self:
            if log.state != "sent":
                log.delivery_state = False
            elif log.mail_id:
                log.delivery_state = {
                    "exception": "failed",
                    "cancel": "failed",
                    "sent": "delivered",
                    "received": "delivered",
                }.get(log.mail_id.state, "queued")
            elif log.sms_id:
                log.delivery_state = {
                    "error": "failed",
                    "canceled": "failed",
                    "pending": "delivered",
                    "sent": "delivered",
                }.get(log.sms_id.state, "queued")
            else:
                # The queues delete what they sent; failures stay.
                log.delivery_state = "delivered"

    # ------------------------------------------------------------
    # The reminder cron
    # ------------------------------------------------------------

    @api.model
    def _cron_send_reminders(self):
        """Send the due reminders of a chunk of appointments; the cron commits and
        comes back for the rest (crm.batch "reminders")."""
        return self.env["crm.batch"]._run("reminders")

    @api.model
    def _send_due_reminders(self, limit=BATCH_SIZE, appointment_ids=None):
        """Claim up to ``limit`` due reminders (of ``appointment_ids`` when given),
        send them, log each outcome; return how many were claimed."""
        # sudo: the cron reminds the patients of every company; nothing it reads
        # leaves this method except into the log and the messages themselves.
        logs = self.sudo()._claim_due(limit, appointment_ids)
        if logs:
            logs._process()
        return len(logs)

    @api.model
    def _due_query(self, now, limit=None, lock=False, appointment_ids=None):
        """The due (appointment, rule, channel) triples, earliest first:
        appointments booked or confirmed, not started, inside the rule's
        window, not yet logged for that rule and channel. ``superseded`` marks
        a reminder that a closer one of the same channel, also due, replaces
        (an appointment booked 1 hour ahead gets the 2 h reminder only)."""
        horizon = self.env.execute_query(
            SQL(
                "SELECT MAX(hours_before) FROM crm_healthcare_reminder_rule "
                "WHERE active"
            )
        )[0][0]
        if horizon is None:
            return None
        return SQL(
            """
            SELECT a.id, a.patient_id, a.company_id, r.id, ch.channel,
                   EXISTS (
                       SELECT 1 FROM crm_healthcare_reminder_rule closer
                        WHERE closer.appointment_type_id = r.appointment_type_id
                          AND closer.active
                          AND CASE ch.channel WHEN 'email' THEN closer.send_email
                                              ELSE closer.send_sms END
                          AND a.start - closer.hours_before * INTERVAL '1 hour'
                              <= %(now)s
                          AND (closer.hours_before, closer.id)
                              < (r.hours_before, r.id)
                   ) AS superseded
              FROM crm_healthcare_appointment a
              JOIN crm_healthcare_reminder_rule r
                ON r.appointment_type_id = a.appointment_type_id AND r.active
             CROSS JOIN LATERAL (
                    VALUES ('email', r.send_email), ('sms', r.send_sms)
                   ) AS ch(channel, enabled)
             WHERE ch.enabled
               AND a.state IN %(states)s
               AND a.start > %(now)s
               AND a.start <= %(horizon)s
               AND a.start - r.hours_before * INTERVAL '1 hour' <= %(now)s
               %(appointments)s
               AND NOT EXISTS (
                       SELECT 1 FROM crm_healthcare_reminder_log l
                        WHERE l.appointment_id = a.id AND l.rule_id = r.id
                          AND l.channel = ch.channel
                   )
             ORDER BY a.start, a.id, r.id, ch.channel
             %(limit)s
             %(lock)s
            """,
            now=now,
            states=REMINDED_STATES,
            horizon=now + timedelta(hours=horizon),
            appointments=SQL("AND a.id = ANY(%s)", list(appointment_ids))
            if appointment_ids is not None
            else SQL(),
            limit=SQL("LIMIT %s", limit) if limit else SQL(),
            # Another worker's appointments are skipped, never waited for.
            lock=SQL("FOR NO KEY UPDATE OF a SKIP LOCKED") if lock else SQL(),
        )

    def _flush_for_due(self):
        self.env["crm.healthcare.appointment"].flush_model(
            ["state", "start", "appointment_type_id", "patient_id", "company_id"]
        )
        self.env["crm.healthcare.reminder.rule"].flush_model()
        self.flush_model()

    @api.model
    def _claim_due(self, limit, appointment_ids=None):
        """Lock the due appointments and insert their log rows first: the
        unique key makes each (appointment, rule, channel) claimed once, by
        one transaction. Superseded reminders are logged as skipped at once."""
        now = fields.Datetime.now()
        self._flush_for_due()
        query = self._due_query(
            now, limit=limit, lock=True, appointment_ids=appointment_ids
        )
        if query is None:
            return self.browse()
        rows = self.env.execute_query(query)
        if not rows:
            return self.browse()
        superseded_reason = self.env._(
            "A closer reminder of this appointment replaces it."
        )
        values = SQL(", ").join(
            SQL(
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                appointment_id,
                patient_id,
                company_id,
                rule_id,
                channel,
                "skipped" if superseded else "pending",
                superseded_reason if superseded else None,
                now,
                self.env.uid,
                now,
                self.env.uid,
                now,
            )
            for (
                appointment_id,
                patient_id,
                company_id,
                rule_id,
                channel,
                superseded,
            ) in rows
        )
        inserted = self.env.execute_query(
            SQL(
                """
            INSERT INTO crm_healthcare_reminder_log
                   (appointment_id, patient_id, company_id, rule_id, channel,
                    state, reason, date, create_uid, create_date, write_uid,
                    write_date)
            VALUES %s
            ON CONFLICT (appointment_id, rule_id, channel) DO NOTHING
         RETURNING id
            """,
                values,
            )
        )
        return self.browse(sorted(row[0] for row in inserted))

    def _process(self):
        """Decide each pending reminder (channel chosen by the patient, consent,
        address), then send the others in batches per template."""
        pending = self.filtered(lambda log: log.state == "pending")
        skipped = pending._skip_reasons()
        for reason, logs in (
            self.browse().union(*skipped).grouped(lambda log: skipped[log]).items()
        ):
            logs.write({"state": "skipped", "reason": reason})
        to_send = pending.filtered(lambda log: log not in skipped)
        to_send.filtered(lambda log: log.channel == "email")._send_email()
        to_send.filtered(lambda log: log.channel == "sms")._send_sms()
        if to_send:
            for xmlid in (
                "mail.ir_cron_mail_scheduler_action",
                "sms.ir_cron_sms_scheduler_action",
            ):
                cron = self.env.ref(xmlid, raise_if_not_found=False)
                if cron:
                    cron._trigger()

    def _skip_reasons(self):
        """{log: reason} for the reminders not to send: not the patient's
        channel, no address, or no consent. One consent check per channel for
        the whole batch."""
        reasons = {}
        channel_labels = dict(self._fields["channel"]._description_selection(self.env))
        by_channel = {}
        for log in self:
            patient = log.patient_id
            if patient.reminder_channel == "none":
                reasons[log] = self.env._("The patient asked for no reminders.")
            elif patient.reminder_channel != log.channel:
                reasons[log] = self.env._(
                    "The patient asked for reminders by %(channel)s.",
                    channel=channel_labels[patient.reminder_channel],
                )
            elif log.channel == "email" and not patient.partner_id.email_normalized:
                reasons[log] = self.env._("The patient has no email address.")
            elif log.channel == "sms" and not patient.partner_id._crm_contact_number(
                "sms"
            ):
                reasons[log] = self.env._("The patient has no mobile number.")
            else:
                by_channel.setdefault(log.channel, self.browse())
                by_channel[log.channel] |= log
        for channel, logs in by_channel.items():
            partners = logs.patient_id.partner_id
            allowed = partners._crm_may_contact(CONSENT_PURPOSE, channel)
            for log in logs:
                if log.patient_id.partner_id not in allowed:
                    reasons[log] = self.env._(
                        "The patient's consent for health reminders does not allow "
                        "%(channel)s (not given, withdrawn, blacklisted or "
                        "restricted).",
                        channel=channel_labels[channel],
                    )
        return reasons

    def _send_email(self):
        """Queue the emails, per template: no link to the appointment or the
        patient, so that nothing lands in their chatter, and deleted from the
        queue once sent."""
        default = self.env["crm.healthcare.reminder.rule"]._default_mail_template()
        for template, logs in self.grouped(
            lambda log: log.rule_id.mail_template_id or default
        ).items():
            try:
                with self.env.cr.savepoint():
                    mails = template.send_mail_batch(
                        logs.appointment_id.ids,
                        email_values={
                            "model": False,
                            "res_id": False,
                            "auto_delete": True,
                            "message_type": "email_outgoing",
                        },
                    )
            except Exception as error:  # one broken template never blocks the others
                logs._fail(error)
                continue
            mail_by_appointment = dict(zip(logs.appointment_id.ids, mails, strict=True))
            for log in logs:
                log.state = "sent"
                log.mail_id = mail_by_appointment[log.appointment_id.id]

    def _send_sms(self):
        """Queue the SMS, per template, as Odoo's SMS queue sends them: deleted
        once handed to the carrier."""
        default = self.env["crm.healthcare.reminder.rule"]._default_sms_template()
        # sudo: the cron queues the reminders' SMS, which no user owns.
        SmsSudo = self.env["sms.sms"].sudo()
        for template, logs in self.grouped(
            lambda log: log.rule_id.sms_template_id or default
        ).items():
            try:
                with self.env.cr.savepoint():
                    bodies = template._render_field(
                        "body", logs.appointment_id.ids, compute_lang=True
                    )
                    sms_list = SmsSudo.create(
                        [
                            {
                                "body": bodies[log.appointment_id.id],
                                "partner_id": log.patient_id.partner_id.id,
                                "number": log.patient_id.partner_id._crm_contact_number(
                                    "sms"
                                ),
                                "state": "outgoing",
                            }
                            for log in logs
                        ]
                    )
            except Exception as error:  # one broken template never blocks the others
                logs._fail(error)
                continue
            for log, sms in zip(logs, sms_list, strict=True):
                log.state = "sent"
                log.sms_id = sms

    def _fail(self, error):
        _logger.warning(
            "Appointment reminders %s could not be queued: %s", self.ids, error
        )
        self.write(
            {
                "state": "failed",
                "reason": self.env._(
                    "Could not be queued: %(error)s", error=str(error)[:200]
                ),
            }
        )
