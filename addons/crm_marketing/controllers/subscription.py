from datetime import timedelta

from odoo import fields, http
from odoo.http import request
from odoo.tools import email_normalize

# A field hidden from people: whoever fills it in is a robot.
HONEYPOT_FIELD = "company_fax"
# Pending sign-ups accepted within an hour, per address and per IP address.
LIMIT_EMAIL_PARAM, LIMIT_EMAIL_DEFAULT = "crm_marketing.subscribe_limit_email", 3
LIMIT_IP_PARAM, LIMIT_IP_DEFAULT = "crm_marketing.subscribe_limit_ip", 10


class SubscriptionController(http.Controller):
    """A public sign-up page: consent by double opt-in, never on trust.

    The form records pending consents only; the link crm_core emails to the
    address is the proof that its owner asked. An existing contact is matched by
    the address but never changed, and no entry is granted until confirmed.
    """

    def _purposes(self):
        # sudo: the public user lists the purposes offered on the page.
        return (
            request.env["crm.consent.purpose"]
            .sudo()
            .search([("policy", "=", "opt_in"), ("double_opt_in", "=", True)])
        )

    def _over_limit(self, email, ip):
        """True when the address or the IP asked too often within the hour."""
        # sudo: system parameters; the limits are read, never shown.
        param = request.env["ir.config_parameter"].sudo().get_param
        since = fields.Datetime.now() - timedelta(hours=1)
        # sudo: counts only, over a ledger the public user cannot read.
        Consent = request.env["crm.consent"].sudo()
        recent = [
            ("state", "=", "pending"),
            ("source", "=", "web_form"),
            ("date", ">=", since),
        ]
        limits = (
            (
                [("partner_id.email_normalized", "=", email)],
                int(param(LIMIT_EMAIL_PARAM, LIMIT_EMAIL_DEFAULT)),
            ),
            ([("ip_address", "=", ip)], int(param(LIMIT_IP_PARAM, LIMIT_IP_DEFAULT))),
        )
        return any(
            Consent.search_count(recent + domain, limit=limit) >= limit
            for domain, limit in limits
            if domain[0][2]
        )

    def _person(self, name, email):
        """The contact owning the address, or a new one; an existing contact is
        never renamed from a public form."""
        # sudo: the public user finds or creates the contact of the address.
        Partner = request.env["res.partner"].sudo()
        return Partner.search(
            [("email_normalized", "=", email)], order="id", limit=1
        ) or Partner.create({"name": name, "email": email})

    @http.route(
        "/marketing/subscribe",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
        sitemap=False,
    )
    def subscribe(self, **post):
        purposes = self._purposes()
        values = {"purposes": purposes, "post": post, "error": {}, "chosen": []}
        if request.httprequest.method != "POST":
            return request.render("crm_marketing.subscription_page", values)
        if post.get(HONEYPOT_FIELD):
            # Only robots fill the hidden field: thank them, keep nothing.
            return request.render("crm_marketing.subscription_done", {})
        name = (post.get("name") or "").strip()
        email = email_normalize(post.get("email") or "")
        chosen_ids = {
            int(purpose_id)
            for purpose_id in request.httprequest.form.getlist("purpose_ids")
            if purpose_id.isdigit()
        }
        chosen = purposes.filtered(lambda purpose: purpose.id in chosen_ids)
        values["chosen"] = chosen.ids
        _ = request.env._
        if not name:
            values["error"]["name"] = _("Tell us your name.")
        if not email:
            values["error"]["email"] = _("Give an email address we can write to.")
        if not chosen:
            values["error"]["purpose_ids"] = _("Tick what you would like to receive.")
        ip = request.httprequest.remote_addr
        if not values["error"] and self._over_limit(email, ip):
            values["error"]["form"] = _(
                "We received several sign-ups from you within the hour; please "
                "wait a little before trying again."
            )
        if values["error"]:
            return request.render("crm_marketing.subscription_page", values)
        blocked = request.env["mailing.mailing"]._crm_consent_blocked_addresses(
            {email}, "email"
        )
        # An opted-out address gets no mail from a form anyone can fill in;
        # the page says the same either way.
        if not blocked:
            person = self._person(name, email)
            # sudo: only the website records pending consents (crm_core).
            Consent = request.env["crm.consent"].sudo()
            for purpose in chosen:
                Consent._request_double_opt_in(
                    person, purpose.code, source="web_form", ip=ip
                )
        return request.render("crm_marketing.subscription_done", {"email": email})
