from odoo import fields, models


class MailMail(models.Model):
    _inherit = "mail.mail"

    failure_type = fields.Selection(
        selection_add=[("crm_consent", "No Consent")],
        ondelete={"crm_consent": "set null"},
    )

    def _send(
        self,
        auto_commit=False,
        raise_exception=False,
        smtp_session=None,
        alias_domain_id=False,
        mail_server=False,
        post_send_callback=None,
    ):
        # Consent may have been withdrawn since the mailing was queued.
        self._crm_consent_cancel_refused()
        return super()._send(
            auto_commit=auto_commit,
            raise_exception=raise_exception,
            smtp_session=smtp_session,
            alias_domain_id=alias_domain_id,
            mail_server=mail_server,
            post_send_callback=post_send_callback,
        )

    def _crm_consent_cancel_refused(self):
        """Cancel the queued mailing emails the consent gate now refuses, and
        their traces; one gate call per mailing of the batch."""
        # Test emails have no trace: they go to the marketer, not to a target.
        mails = self.filtered(
            lambda mail: (
                mail.state == "outgoing"
                and mail.mailing_id
                and mail.mailing_trace_ids
                and mail.res_id
            )
        )
        for mailing, mailing_mails in mails.grouped("mailing_id").items():
            refused = mailing._crm_consent_refused(mailing_mails.mapped("res_id"))
            by_reason = {}
            for mail in mailing_mails:
                if mail.res_id in refused:
                    by_reason.setdefault(refused[mail.res_id], []).append(mail.id)
            for reason, mail_ids in by_reason.items():
                cancelled = self.browse(mail_ids)
                cancelled.write(
                    {
                        "state": "cancel",
                        "failure_type": "crm_consent",
                        "failure_reason": reason,
                    }
                )
                cancelled.mailing_trace_ids.write(
                    {
                        "trace_status": "cancel",
                        "failure_type": "crm_consent",
                        "failure_reason": reason,
                    }
                )
