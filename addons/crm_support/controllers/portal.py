from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request
from odoo.tools import email_normalize, plaintext2html

from odoo.addons.portal.controllers.portal import (
    CustomerPortal,
    pager as portal_pager,
)

TICKETS_PER_PAGE = 20
# A field hidden from people: whoever fills it in is a robot.
HONEYPOT_FIELD = "fax_number"


class SupportPortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "ticket_count" in counters:
            Ticket = request.env["crm.ticket"]
            values["ticket_count"] = (
                Ticket.search_count(self._ticket_domain())
                if Ticket.has_access("read")
                else 0
            )
        return values

    def _ticket_domain(self):
        # The customer's company's tickets; record rules say the same for portal users.
        partner = request.env.user.partner_id.commercial_partner_id
        return [("commercial_partner_id", "=", partner.id)]

    def _ticket_from_form(self, post, errors, **values):
        """The ticket a form asks for, or None with ``errors`` filled in."""
        name = (post.get("name") or "").strip()
        if not name:
            errors["name"] = request.env._("Tell us what it is about.")
            return None
        return (
            request.env["crm.ticket"]
            .sudo()
            .create(
                {
                    "name": name,
                    "description": plaintext2html(post.get("description") or ""),
                    **values,
                }
            )
        )

    @http.route(
        ["/my/tickets", "/my/tickets/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_tickets(self, page=1, filterby="open", **kw):
        Ticket = request.env["crm.ticket"]
        filters = {
            "open": (request.env._("Open"), [("is_closed", "=", False)]),
            "closed": (request.env._("Closed"), [("is_closed", "=", True)]),
            "all": (request.env._("All"), []),
        }
        filterby = filterby if filterby in filters else "open"
        domain = self._ticket_domain() + filters[filterby][1]
        pager = portal_pager(
            url="/my/tickets",
            url_args={"filterby": filterby},
            total=Ticket.search_count(domain),
            page=page,
            step=TICKETS_PER_PAGE,
        )
        tickets = Ticket.search(
            domain, limit=TICKETS_PER_PAGE, offset=pager["offset"], order="id desc"
        )
        request.session["my_tickets_history"] = tickets.ids[:100]
        return request.render(
            "crm_support.portal_my_tickets",
            {
                "tickets": tickets,
                "page_name": "ticket",
                "pager": pager,
                "default_url": "/my/tickets",
                "searchbar_filters": {
                    key: {"label": label} for key, (label, _d) in filters.items()
                },
                "filterby": filterby,
            },
        )

    @http.route("/my/tickets/<int:ticket_id>", type="http", auth="public", website=True)
    def portal_my_ticket(self, ticket_id, access_token=None, **kw):
        try:
            ticket = self._document_check_access("crm.ticket", ticket_id, access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")
        values = self._get_page_view_values(
            ticket,
            access_token,
            {"ticket": ticket, "page_name": "ticket", "object": ticket},
            "my_tickets_history",
            False,
        )
        return request.render("crm_support.portal_my_ticket", values)

    @http.route(
        "/my/tickets/new",
        type="http",
        auth="user",
        methods=["GET", "POST"],
        website=True,
    )
    def portal_new_ticket(self, **post):
        values = {"page_name": "ticket", "error": {}, "post": post}
        if request.httprequest.method == "POST":
            user = request.env.user
            ticket = self._ticket_from_form(
                post,
                values["error"],
                partner_id=user.partner_id.id,
                channel="portal",
                company_id=user.company_id.id,
            )
            if ticket:
                return request.redirect(f"/my/tickets/{ticket.id}")
        return request.render("crm_support.portal_new_ticket", values)

    @http.route(
        "/support/new",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
    )
    def web_form_ticket(self, **post):
        """The public web form: anyone, with an email address, opens a ticket."""
        values = {"error": {}, "post": post}
        if request.httprequest.method == "POST":
            if post.get(HONEYPOT_FIELD):
                # Only robots fill the hidden field: thank them, keep nothing.
                return request.render("crm_support.web_form_ticket_done", {})
            email = email_normalize(post.get("email") or "")
            name = (post.get("name") or "").strip()
            if not email:
                values["error"]["email"] = request.env._(
                    "Give an email address we can answer to."
                )
            if not name:
                values["error"]["name"] = request.env._("Tell us what it is about.")
            if values["error"]:
                return request.render("crm_support.web_form_ticket", values)
            ip = request.httprequest.remote_addr
            try:
                ticket = request.env["crm.ticket"]._web_form_create(
                    name,
                    plaintext2html(post.get("description") or ""),
                    email,
                    (post.get("contact_name") or "").strip(),
                    ip,
                )
            except UserError as error:
                values["error"]["form"] = str(error)
                return request.render("crm_support.web_form_ticket", values)
            if post.get("newsletter"):
                # Asked on a public form: pending until confirmed by email.
                # sudo: the public user records a pending consent, nothing more.
                partner = ticket.partner_id or request.env["res.partner"].sudo().search(
                    [("email_normalized", "=", email)], limit=1
                )
                request.env["crm.consent"].sudo()._request_double_opt_in(
                    partner, "marketing_email", source="web_form", ip=ip
                )
            return request.render(
                "crm_support.web_form_ticket_done",
                {"ticket": ticket, "unconfirmed": ticket.web_unconfirmed},
            )
        return request.render("crm_support.web_form_ticket", values)

    @http.route(
        "/support/confirm/<int:ticket_id>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
    )
    def web_form_confirm(self, ticket_id, token=None, **post):
        """The link of the confirmation mail: a button, so that mail scanners
        opening links confirm nothing."""
        # sudo: the token, checked in constant time, is the visitor's right.
        ticket = request.env["crm.ticket"].sudo().browse(ticket_id).exists()
        if not ticket or not ticket.web_unconfirmed or not token:
            return request.render("crm_support.web_form_confirm", {"state": "invalid"})
        if request.httprequest.method == "POST":
            done = ticket._web_confirm(token)
            return request.render(
                "crm_support.web_form_confirm",
                {"state": "done" if done else "invalid", "ticket": ticket},
            )
        return request.render(
            "crm_support.web_form_confirm",
            {"state": "ask", "ticket_id": ticket.id, "token": token},
        )

    @http.route(
        ["/my/support/articles", "/my/support/articles/<int:article_id>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_articles(self, article_id=None, search=None, **kw):
        Article = request.env["crm.ticket.article"]
        if article_id:
            article = Article.browse(article_id).exists()
            if not article or not article.has_access("read"):
                return request.redirect("/my/support/articles")
            return request.render(
                "crm_support.portal_article",
                {"article": article, "page_name": "article"},
            )
        domain = [("is_published", "=", True)]
        if search:
            domain.append(("content_search", "ilike", search))
        return request.render(
            "crm_support.portal_articles",
            {
                "articles": Article.search(domain),
                "search": search,
                "page_name": "article",
            },
        )
