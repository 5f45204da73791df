from odoo import fields, models


class SmsSms(models.Model):
    _inherit = "sms.sms"

    failure_type = fields.Selection(
        selection_add=[("sms_crm_consent", "No SMS Consent")],
        ondelete={"sms_crm_consent": "set null"},
    )

    def send(
        self,
        unlink_failed=False,
        unlink_sent=True,
        auto_commit=False,
        raise_exception=False,
    ):
        # The number may have been blacklisted, or consent withdrawn, since the
        # mailing was queued: Odoo's queue sends without looking again.
        self._crm_consent_cancel_refused()
        return super().send(
            unlink_failed=unlink_failed,
            unlink_sent=unlink_sent,
            auto_commit=auto_commit,
            raise_exception=raise_exception,
        )

    def _crm_consent_cancel_refused(self):
        """Cancel the queued mailing SMS whose number is blacklisted or whose
        person the consent gate now refuses; one gate call per mailing."""
        # sudo: the send updates its own SMS, trackers and traces.
        queued = self.sudo().filtered(
            lambda sms: (
                sms.state == "outgoing"
                and not sms.to_delete
                and sms.mailing_id
                and sms.mailing_trace_ids
            )
        )
        if not queued:
            return
        blocked = self.env["mailing.mailing"]._crm_consent_blocked_addresses(
            set(queued.mapped("number")), "sms"
        )
        blacklisted = queued.filtered(lambda sms: sms.number in blocked)
        blacklisted._crm_consent_cancel("sms_blacklist")
        for mailing, mailing_sms in (
            (queued - blacklisted).grouped("mailing_id").items()
        ):
            res_id_of = {sms: sms.mailing_trace_ids[:1].res_id for sms in mailing_sms}
            refused = mailing._crm_consent_refused(list(res_id_of.values()))
            by_reason = {}
            for sms, res_id in res_id_of.items():
                if res_id in refused:
                    by_reason.setdefault(refused[res_id], []).append(sms.id)
            for reason, sms_ids in by_reason.items():
                queued.browse(sms_ids)._crm_consent_cancel("sms_crm_consent", reason)

    def _crm_consent_cancel(self, failure_type, reason=False):
        if not self:
            return
        self.write({"state": "canceled", "failure_type": failure_type})
        self.sms_tracker_id._action_update_from_sms_state(
            "canceled", failure_type=failure_type, failure_reason=reason
        )
