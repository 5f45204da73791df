from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import email_normalize

# The purpose a mailing asks consent for unless the marketer picks another one.
DEFAULT_PURPOSE_CODES = {"mail": "marketing_email", "sms": "sms"}
# The failure type of the traces the consent gate cancels, by mailing type.
GATE_FAILURE_TYPES = {"mail": "crm_consent", "sms": "sms_crm_consent"}
# Refusals that one record of a person is enough to impose on all their records.
FIRM_REFUSALS = ("erased", "restricted", "withdrawn", "blacklisted")


class MailingMailing(models.Model):
    """The consent gate: a mailing reaches only the people crm_core's consent
    API allows for its purpose on its channel; the others get a cancelled trace
    saying why (see the mail and SMS composers, mail.mail and sms.sms)."""

    _inherit = "mailing.mailing"

    crm_consent_purpose_id = fields.Many2one(
        "crm.consent.purpose",
        string="Consent Purpose",
        compute="_compute_crm_consent_purpose_id",
        store=True,
        readonly=False,
        precompute=True,
        ondelete="restrict",
        help="Only recipients we may contact for this purpose on this mailing's "
        "channel receive it: a granted consent for opt-in purposes, no withdrawal "
        "for opt-out ones, never restricted, erased or blacklisted people. The "
        "others get a cancelled trace saying why.",
    )
    crm_consent_refused_count = fields.Integer(
        string="Recipients Without Consent",
        compute="_compute_crm_consent_refused_count",
        groups="crm_marketing.group_marketing_user",
        help="Recipients of the current filter the consent gate will refuse.",
    )
    crm_consent_cancelled_count = fields.Integer(
        string="Refused for Consent",
        compute="_compute_crm_consent_cancelled_count",
        groups="crm_marketing.group_marketing_user",
        help="Traces the consent gate cancelled.",
    )

    @api.depends("mailing_type")
    def _compute_crm_consent_purpose_id(self):
        defaults = self._crm_consent_default_purposes()
        for mailing in self:
            purpose = mailing.crm_consent_purpose_id
            # Follow the mailing type unless the marketer chose another purpose.
            if not purpose or purpose in defaults.values():
                mailing.crm_consent_purpose_id = defaults.get(mailing.mailing_type)

    @api.depends(
        "mailing_model_real",
        "mailing_domain",
        "mailing_type",
        "crm_consent_purpose_id",
        "state",
    )
    def _compute_crm_consent_refused_count(self):
        for mailing in self:
            count = 0
            if mailing.state in ("draft", "in_queue") and mailing.mailing_model_real:
                recipients = self.env[mailing.mailing_model_real].search(
                    mailing._get_recipients_domain()
                )
                count = len(mailing._crm_consent_refused(recipients.ids))
            mailing.crm_consent_refused_count = count

    def _compute_crm_consent_cancelled_count(self):
        # sudo: counts of the mailings' own traces, whoever reads the mailing.
        counts = dict(
            self.env["mailing.trace"]
            .sudo()
            ._read_group(
                [
                    ("mass_mailing_id", "in", self.ids),
                    ("failure_type", "in", list(GATE_FAILURE_TYPES.values())),
                ],
                ["mass_mailing_id"],
                ["__count"],
            )
        )
        for mailing in self:
            mailing.crm_consent_cancelled_count = counts.get(mailing, 0)

    def action_view_traces_crm_consent(self):
        self.ensure_one()
        return self._action_view_traces_filtered("crm_consent")

    # ------------------------------------------------------------
    # The gate
    # ------------------------------------------------------------

    @api.model
    def _crm_consent_default_purposes(self):
        """{mailing type: purpose} of the default purposes that exist."""
        purposes = self.env["crm.consent.purpose"].search(
            [("code", "in", list(DEFAULT_PURPOSE_CODES.values()))]
        )
        by_code = {purpose.code: purpose for purpose in purposes}
        return {
            mailing_type: by_code[code]
            for mailing_type, code in DEFAULT_PURPOSE_CODES.items()
            if code in by_code
        }

    def _crm_consent_channel(self):
        self.ensure_one()
        return "sms" if self.mailing_type == "sms" else "email"

    def _crm_consent_purpose(self):
        """The mailing's purpose; a mailing without one still asks the default."""
        self.ensure_one()
        if self.crm_consent_purpose_id:
            return self.crm_consent_purpose_id
        code = DEFAULT_PURPOSE_CODES.get(self.mailing_type, "marketing_email")
        return self.env["crm.consent"]._get_purpose(code)

    def _crm_consent_refused(self, res_ids):
        """Return {res_id: reason} of the target records the consent gate refuses.

        The person behind each target is the contact itself, the partner of a
        lead or another record, else the contacts having the same address
        (normalised email, or E.164 number for SMS). crm_core's consent API
        decides for them, in one call for the whole batch. A target nobody
        answers for is refused for opt-in purposes and allowed for opt-out
        ones unless its address is blacklisted.
        """
        self.ensure_one()
        res_ids = list(dict.fromkeys(res_ids or []))
        if not res_ids:
            return {}
        channel = self._crm_consent_channel()
        purpose = self._crm_consent_purpose()
        reasons = self._crm_consent_reason_labels(purpose, channel)
        # sudo: the gate reads every target's address and the consent ledger,
        # whoever sends; only refusal reasons leave this method.
        targets = self.env[self.mailing_model_real].sudo().browse(res_ids).exists()
        refused = dict.fromkeys(set(res_ids) - set(targets.ids), reasons["missing"])
        persons, addresses = self._crm_consent_persons(targets, channel)

        # sudo: as the targets above; crm_core's API reads the ledger itself.
        partners = self.env["res.partner"].sudo().union(*persons.values())
        allowed = partners._crm_may_contact(purpose.code, channel)
        partner_refusals = self._crm_consent_partner_refusals(
            partners - allowed, purpose, channel
        )
        nobody = [target.id for target in targets if not persons[target.id]]
        blocked = set()
        if nobody and purpose.policy == "opt_out":
            blocked = self._crm_consent_blocked_addresses(
                {addresses[res_id] for res_id in nobody}, channel
            )
        for target in targets:
            refusal = self._crm_consent_target_refusal(
                persons[target.id],
                allowed,
                partner_refusals,
                purpose,
                addresses[target.id] in blocked,
            )
            if refusal:
                refused[target.id] = reasons[refusal]
        return refused

    @api.model
    def _crm_consent_target_refusal(
        self, partners, allowed, partner_refusals, purpose, address_blocked
    ):
        """The refusal code of one target, or None when it may be contacted."""
        if not partners:
            if purpose.policy == "opt_in":
                return "no_consent"
            return "blacklisted" if address_blocked else None
        refusals = [partner_refusals[partner.id] for partner in partners - allowed]
        firm = [refusal for refusal in refusals if refusal in FIRM_REFUSALS]
        if firm:
            return firm[0]
        return None if partners & allowed else refusals[0]

    @api.model
    def _crm_consent_address(self, record, channel):
        """The normalised email or E.164 number a mailing would write to."""
        if channel == "email":
            if "email_normalized" in record._fields:
                return record.email_normalized
            fname = record._mail_get_primary_email_field()
            return (fname and email_normalize(record[fname])) or False
        if "phone_sanitized" in record._fields:
            return record.phone_sanitized
        return next(
            (
                number
                for fname in record._phone_get_number_fields()
                if (number := record._phone_format(fname=fname))
            ),
            False,
        )

    def _crm_consent_persons(self, targets, channel):
        """({target id: partners}, {target id: address}) for the whole batch."""
        # sudo: any contact with the address answers, archived ones included,
        # whoever sends; only the gate's verdict leaves _crm_consent_refused.
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        addresses = {
            target.id: self._crm_consent_address(target, channel) for target in targets
        }
        if targets._name == "res.partner":
            return {target.id: target for target in targets}, addresses
        linked = targets._mail_get_partners()
        unlinked = {addresses[res_id] for res_id, found in linked.items() if not found}
        unlinked.discard(False)
        by_address = defaultdict(Partner.browse)
        if unlinked:
            fname = "email_normalized" if channel == "email" else "phone_sanitized"
            for partner in Partner.search([(fname, "in", list(unlinked))]):
                by_address[partner[fname]] |= partner
        persons = {
            target.id: linked[target.id]
            or by_address.get(addresses[target.id], Partner.browse())
            for target in targets
        }
        return persons, addresses

    @api.model
    def _crm_consent_partner_refusals(self, partners, purpose, channel):
        """{partner id: refusal code} of partners crm_core refused."""
        # sudo: the consent ledger is for CRM users; only a refusal code leaves.
        states = (
            self.env["crm.consent"].sudo()._current_states(partners, purpose, channel)
        )
        refusals = {}
        for partner in partners:
            state = states.get(partner.id)
            if partner.privacy_erased:
                refusal = "erased"
            elif partner.privacy_restricted:
                refusal = "restricted"
            elif not self._crm_consent_partner_address(partner, channel):
                refusal = "no_address"
            elif state == "withdrawn":
                refusal = "withdrawn"
            elif purpose.policy == "opt_in" and state == "pending":
                refusal = "pending"
            elif purpose.policy == "opt_in" and state != "granted":
                refusal = "no_consent"
            else:
                refusal = "blacklisted"
            refusals[partner.id] = refusal
        return refusals

    @api.model
    def _crm_consent_partner_address(self, partner, channel):
        if channel == "email":
            return partner.email_normalized
        return partner._crm_contact_number(channel)

    @api.model
    def _crm_consent_blocked_addresses(self, addresses, channel):
        """Those of ``addresses`` on Odoo's blacklists or an erased person's."""
        addresses = [address for address in addresses if address]
        if not addresses:
            return set()
        if channel == "email":
            model, fname, kind = "mail.blacklist", "email", "email"
        else:
            model, fname, kind = "phone.blacklist", "number", "phone"
        # sudo: blacklists are the system's; only a yes or no per address is kept.
        listed = self.env[model].sudo().search([(fname, "in", addresses)])
        return set(listed.mapped(fname)) | self.env[
            "crm.privacy.suppression"
        ]._suppressed(kind, addresses)

    @api.model
    def _crm_consent_reason_labels(self, purpose, channel):
        _ = self.env._
        return {
            "missing": _("The recipient no longer exists."),
            "no_consent": _(
                "No consent recorded for “%(purpose)s”.", purpose=purpose.name
            ),
            "pending": _(
                "Consent to “%(purpose)s” not confirmed yet.", purpose=purpose.name
            ),
            "withdrawn": _("Consent to “%(purpose)s” withdrawn.", purpose=purpose.name),
            "restricted": _("Processing restricted at the person's request."),
            "erased": _("The person's data was erased."),
            "no_address": (
                _("The contact has no email address.")
                if channel == "email"
                else _("The contact has no mobile number.")
            ),
            "blacklisted": (
                _("The email address is blacklisted.")
                if channel == "email"
                else _("The phone number is blacklisted.")
            ),
        }
