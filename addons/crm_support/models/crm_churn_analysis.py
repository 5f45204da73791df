from datetime import timedelta

from odoo import api, fields, models


class CrmChurnAnalysis(models.AbstractModel):
    _inherit = "crm.churn.analysis"

    @api.model
    def _churn_signals(self, partners):
        """Support feeds churn: SLA breaches and unhappy ratings over 90 days."""
        signals = super()._churn_signals(partners)
        since = fields.Datetime.now() - timedelta(days=90)
        breaches = (
            self.env["crm.ticket"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", partners.ids),
                    ("sla_status", "=", "failed"),
                    ("create_date", ">=", since),
                ],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        for partner, count in breaches:
            signals[partner.id].append(
                (
                    10 * min(count, 2),
                    self.env._(
                        "%(count)s support ticket(s) breached their SLA in 90 days.",
                        count=count,
                    ),
                )
            )
        satisfaction = self.env["res.partner"]._support_satisfaction(partners, since)
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
