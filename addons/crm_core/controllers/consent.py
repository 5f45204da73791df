from odoo import http
from odoo.http import request


class ConsentController(http.Controller):
    def _pending(self, consent_id, token):
        pending = request.env["crm.consent"].sudo().browse(consent_id).exists()
        return pending if pending and pending._is_confirmable(token) else None

    @http.route(
        "/crm/consent/confirm/<int:consent_id>/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
    )
    def confirm(self, consent_id, token, **kwargs):
        """Double opt-in. The emailed link shows a button (mail scanners that open
        links do not consent for anyone); pressing it appends a granted entry."""
        pending = self._pending(consent_id, token)
        values = {"pending": pending, "token": token, "confirmed": False}
        if pending and request.httprequest.method == "POST":
            values["confirmed"] = bool(
                pending._confirm_double_opt_in(
                    token, ip=request.httprequest.remote_addr
                )
            )
        return request.render("crm_core.consent_confirmation_page", values)
