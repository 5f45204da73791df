import logging
import time

from odoo import api, models
from odoo.exceptions import MissingError
from odoo.http import request

_logger = logging.getLogger(__name__)

IDLE_TIMEOUT_PARAMETER = "crm_healthcare.idle_timeout_minutes"
DEFAULT_IDLE_TIMEOUT = 15
# Session key holding the time (epoch seconds) of the last request.
LAST_ACTIVITY_KEY = "crm_healthcare_last_activity"
# The activity time is rewritten at most once a minute, so that the session is
# not saved again on every request.
ACTIVITY_RESOLUTION = 60


class IrHttp(models.AbstractModel):
    """Idle session timeout of the clinical staff.

    Each authenticated request of a healthcare user records its time in the
    session; a request coming after more than the configured idle period logs
    the session out before the route is served, so the user signs in again
    (with two-factor authentication). Other users are never timed out.
    """

    _inherit = "ir.http"

    @classmethod
    def _authenticate(cls, endpoint):
        cls._crm_healthcare_check_idle()
        return super()._authenticate(endpoint)

    @classmethod
    def _crm_healthcare_idle_timeout(cls):
        """The idle period in seconds: the system parameter, else 15 minutes
        (also when the parameter is not a positive number)."""
        # sudo: a system parameter, read on behalf of any signed-in user.
        ICP = request.env["ir.config_parameter"].sudo()
        value = ICP.get_param(IDLE_TIMEOUT_PARAMETER)
        try:
            minutes = int(value)
        except (TypeError, ValueError):
            minutes = DEFAULT_IDLE_TIMEOUT
        if minutes <= 0:
            minutes = DEFAULT_IDLE_TIMEOUT
        return minutes * 60

    @classmethod
    def _crm_healthcare_check_idle(cls):
        """Log out a clinical user's session that stayed idle too long, else
        record this request as its last activity."""
        session = request.session
        if not session.uid:
            return
        # sudo: reads only the session user's own groups, before authentication.
        user = request.env["res.users"].sudo().browse(session.uid)
        try:
            if not user._crm_healthcare_is_clinical():
                return
        except MissingError:
            return  # a deleted user: Odoo's session check logs the session out
        now = time.time()
        last_activity = session.get(LAST_ACTIVITY_KEY)
        if last_activity and now - last_activity > cls._crm_healthcare_idle_timeout():
            _logger.info(
                "Session of user %s logged out after %d idle minutes.",
                session.uid,
                (now - last_activity) // 60,
            )
            session.logout(keep_db=True)
            # What the session holds no more: the route sees a visitor, and
            # routes for signed-in users answer "session expired".
            request.env = api.Environment(request.env.cr, None, session.context)
            return
        # Recorded at most a minute late: a session may end up to a minute
        # before the exact idle period, never after it.
        if not last_activity or now - last_activity >= ACTIVITY_RESOLUTION:
            session[LAST_ACTIVITY_KEY] = now
