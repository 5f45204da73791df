from odoo import models


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _action_send_mail_mass_mail(self, res_ids, auto_commit=False):
        if self.mass_mailing_id and not self.use_exclusion_list:
            # A mailing always honours the blacklist: "use_exclusion_list" is a
            # default any caller's context can switch off.
            self.use_exclusion_list = True
        return super()._action_send_mail_mass_mail(res_ids, auto_commit=auto_commit)

    def _get_blacklist_record_ids(self, mail_values_dict, recipients_info=None):
        """Also the addresses erased people had opted out, kept as hashes."""
        blacklisted = super()._get_blacklist_record_ids(
            mail_values_dict, recipients_info=recipients_info
        )
        if not (self._crm_consent_gated() and recipients_info):
            return blacklisted
        suppressed = self.env["crm.privacy.suppression"]._suppressed(
            "email",
            {
                email
                for info in recipients_info.values()
                for email in info["mail_to_normalized"]
            },
        )
        if suppressed:
            blacklisted.update(
                res_id
                for res_id, info in recipients_info.items()
                if suppressed.intersection(info["mail_to_normalized"])
            )
        return blacklisted

    def _process_mail_values_state(self, mail_values_dict):
        """Cancel the emails of the targets the mailing's consent gate refuses."""
        mail_values_dict = super()._process_mail_values_state(mail_values_dict)
        if not self._crm_consent_gated():
            return mail_values_dict
        refused = self.mass_mailing_id._crm_consent_refused(
            [
                res_id
                for res_id, mail_values in mail_values_dict.items()
                if mail_values.get("state") != "cancel"
            ]
        )
        for res_id, reason in refused.items():
            mail_values_dict[res_id].update(
                state="cancel",
                failure_type="crm_consent",
                failure_reason=reason,
                # Nothing was sent: keep it out of the recipient's chatter.
                is_notification=False,
            )
        return mail_values_dict

    def _prepare_mail_values_mailing_traces(self, mail_values_all):
        """Cancelled traces say why the gate refused their target."""
        trace_values_all = super()._prepare_mail_values_mailing_traces(mail_values_all)
        for res_id, trace_values in trace_values_all.items():
            mail_values = mail_values_all[res_id]
            if trace_values and mail_values.get("failure_type") == "crm_consent":
                trace_values["failure_reason"] = mail_values.get("failure_reason")
        return trace_values_all

    def _crm_consent_gated(self):
        self.ensure_one()
        return self.composition_mode == "mass_mail" and bool(self.mass_mailing_id)
