from odoo import models


class SmsComposer(models.TransientModel):
    _inherit = "sms.composer"

    def _get_blacklist_record_ids(self, records, recipients_info):
        """A mailing always honours the phone blacklist and the hashed opt-outs of
        erased people.

        Odoo checks the blacklist only when the composer's "mass_use_blacklist"
        is set, a plain default that any caller's context turns off
        (``default_mass_use_blacklist=False``): mailing.mailing.action_send_sms
        creates its composer without setting it, so such a context sent a whole
        SMS mailing to blacklisted numbers.
        """
        blacklisted = super()._get_blacklist_record_ids(records, recipients_info)
        if not self.mailing_id:
            return blacklisted
        blocked = self.env["mailing.mailing"]._crm_consent_blocked_addresses(
            {info["sanitized"] for info in recipients_info.values()}, "sms"
        )
        if not blocked:
            return blacklisted
        known = set(blacklisted)
        return blacklisted + [
            record.id
            for record in records
            if record.id not in known
            and recipients_info[record.id]["sanitized"] in blocked
        ]

    def _prepare_mass_sms_values(self, records):
        """Cancel the SMS of the targets the mailing's consent gate refuses."""
        result = super()._prepare_mass_sms_values(records)
        if self.composition_mode != "mass" or not self.mailing_id:
            return result
        refused = self.mailing_id._crm_consent_refused(
            [
                res_id
                for res_id, sms_values in result.items()
                if sms_values["state"] == "outgoing"
            ]
        )
        for res_id, reason in refused.items():
            sms_values = result[res_id]
            sms_values.update(state="canceled", failure_type="sms_crm_consent")
            for command in sms_values.get("mailing_trace_ids") or []:
                command[2].update(
                    trace_status="cancel",
                    failure_type="sms_crm_consent",
                    failure_reason=reason,
                )
        return result
