from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, formatLang

INACTIVE_DAYS = 120
EXPIRING_DAYS = 30
NO_PURCHASE_DAYS = 60


class CrmChurnAnalysis(models.AbstractModel):
    _inherit = "crm.churn.analysis"

    @api.model
    def _churn_signals(self, partners):
        """The loyalty ledger feeds churn, in the company being scored:

        - loyalty inactivity (15): a card that earned points before has earned
          none for 120 days;
        - unused expiring points (10): points expire within 30 days and the
          customer has not bought for 60 days.
        """
        signals = super()._churn_signals(partners)
        if not partners:
            return signals
        company = self.env.company
        # sudo: the scoring reads the ledgers of the customers it scores, in the
        # company it scores; only signals about ``partners`` leave this method.
        programs = self.env["loyalty.program"].sudo()._crm_invoice_programs(company)
        if not programs:
            return signals
        today = fields.Date.context_today(self)
        now = fields.Datetime.now()
        for model in (
            "loyalty.history",
            "loyalty.card",
            "crm.retail.loyalty.lot",
            "account.move",
        ):
            self.env[model].flush_model()
        _ = self.env._

        inactive = self.env.execute_query(
            SQL(
                """
            SELECT card.partner_id, MAX(history.create_date)
              FROM loyalty_history history
              JOIN loyalty_card card ON card.id = history.card_id
             WHERE card.partner_id IN %(partners)s
               AND card.program_id IN %(programs)s
               AND history.crm_kind = 'earn'
             GROUP BY card.partner_id
            HAVING MAX(history.create_date) < %(since)s
            """,
                partners=tuple(partners.ids),
                programs=tuple(programs.ids),
                since=now - timedelta(days=INACTIVE_DAYS),
            )
        )
        for partner_id, last_earned in inactive:
            signals.setdefault(partner_id, []).append(
                (
                    15,
                    _(
                        "No loyalty points earned for %(days)s days (last on "
                        "%(date)s).",
                        days=(now - last_earned).days,
                        date=last_earned.date(),
                    ),
                )
            )

        expiring = self.env.execute_query(
            SQL(
                """
            SELECT lot.partner_id, SUM(lot.points_remaining), MIN(lot.expiry_date)
              FROM crm_retail_loyalty_lot lot
             WHERE lot.partner_id IN %(partners)s
               AND lot.program_id IN %(programs)s
               AND lot.state = 'active'
               AND lot.points_remaining > 0
               AND lot.expiry_date >= %(today)s
               AND lot.expiry_date <= %(horizon)s
               AND NOT EXISTS (
                   SELECT 1
                     FROM account_move move
                    WHERE move.commercial_partner_id = lot.partner_id
                      AND move.company_id = %(company)s
                      AND move.move_type = 'out_invoice'
                      AND move.state = 'posted'
                      AND move.invoice_date > %(recent)s
               )
             GROUP BY lot.partner_id
            """,
                partners=tuple(partners.ids),
                programs=tuple(programs.ids),
                company=company.id,
                today=today,
                horizon=today + timedelta(days=EXPIRING_DAYS),
                recent=today - timedelta(days=NO_PURCHASE_DAYS),
            )
        )
        for partner_id, points, first_expiry in expiring:
            signals.setdefault(partner_id, []).append(
                (
                    10,
                    _(
                        "%(points)s loyalty points expire within %(window)s days "
                        "(first on %(date)s) and no purchase for %(days)s days.",
                        points=formatLang(
                            self.env, points, digits=2 if points % 1 else 0
                        ),
                        window=EXPIRING_DAYS,
                        date=first_expiry,
                        days=NO_PURCHASE_DAYS,
                    ),
                )
            )
        return signals
