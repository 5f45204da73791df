from odoo import models
from odoo.tools import SQL

# Context key: the normalised addresses of the batch a journey step is mailing.
JOURNEY_BATCH_EMAILS = "crm_journey_batch_emails"


class MailingMailing(models.Model):
    """The mailing of a journey's email step is sent one batch of participants
    at a time. Odoo skips addresses the mailing already reached by loading all
    of them at every batch, which grows with the journey; the step only needs
    those among the batch's own addresses, which one indexed query finds."""

    _inherit = "mailing.mailing"

    def _get_seen_list(self):
        emails = self.env.context.get(JOURNEY_BATCH_EMAILS)
        if emails is None or self.ab_testing_enabled:
            return super()._get_seen_list()
        self.ensure_one()
        if not emails:
            return set()
        self.env["mailing.trace"].flush_model(["email", "mass_mailing_id", "model"])
        target = self.env[self.mailing_model_real]
        # Traces keep normalised addresses, which Odoo compares with the
        # recipients' normalised ones: the same rows as Odoo's query, restricted
        # to the addresses that can match.
        rows = self.env.execute_query(
            SQL(
                """
            SELECT trace.email
              FROM mailing_trace trace
              JOIN %(target)s target ON target.id = trace.res_id
             WHERE trace.mass_mailing_id = %(mailing)s
               AND trace.model = %(model)s
               AND trace.email = ANY(%(emails)s)
            """,
                target=SQL.identifier(target._table),
                mailing=self.id,
                model=self.mailing_model_real,
                emails=list(emails),
            )
        )
        return {email for (email,) in rows}
