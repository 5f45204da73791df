from odoo import http
from odoo.http import request


class HealthcareReminderLink(http.Controller):
    """The confirm and cancel links of appointment reminders.

    Opening a link (GET) only shows the appointment's date, time and place and
    a button: mail scanners that follow links never confirm nor cancel
    anything. The button posts the form (CSRF-protected) and the change is
    made. The token in the URL is the appointment's own random token, compared
    in constant time; a wrong one gets a 404 page, as for an unknown
    appointment, so that it tells nothing.
    """

    @http.route(
        "/clinic/appointment/<int:appointment_id>/<string:token>"
        "/<any(confirm,cancel):action>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        sitemap=False,
    )
    def reminder_reply(self, appointment_id, token, action, **post):
        appointment = request.env["crm.healthcare.appointment"]._get_by_reminder_token(
            appointment_id, token
        )
        if not appointment:
            raise request.not_found()
        values = {
            "action": action,
            "date": appointment.reminder_date,
            "time": appointment.reminder_time,
            "place": appointment.reminder_place,
            "done": None,
            "message": None,
        }
        if request.httprequest.method == "POST":
            values["done"], values["message"] = appointment._reminder_reply(action)
        # Plain values only: no record reaches the page, so nothing clinical can.
        return request.render("crm_healthcare.reminder_reply_page", values)
