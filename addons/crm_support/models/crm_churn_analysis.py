from datetime import timedelta

from odoo import api, fields, models


class CrmChurnAnalysis(models.AbstractModel):
    _inherit = "crm.churn.analysis"

    @api.model
    def _churn_signals(self, partners):
        """Support feeds churn: SLA breaches and unhappy ratings over 90 days, on
        the tickets of the company being scored."""
        signals = super()._churn_signals(partners)
        since = fields.Datetime.now() - timedelta(days=90)
        Partner = self.env["res.partner"]
        breaches = Partner._support_breaches(partners, since, self.env.company)
        for partner_id, count in breaches.items():
            signals[partner_id].append(
                (
                    10 * min(count, 2),
                    self.env._(
                        "%(count)s support ticket(s) breached their SLA in 90 days.",
                        count=count,
                    ),
                )
            )
        satisfaction = Partner._support_satisfaction(partners, since, self.env.company)
        for partner_id, percent in satisfaction.items():
            if percent < 50:
                signals[partner_id].append(
                    (
                        20,
                        self.env._(
                            "Only %(percent)s%% of their support ratings in 90 days "
                            "are satisfied.",
                            percent=round(percent),
                        ),
                    )
                )
        return signals
