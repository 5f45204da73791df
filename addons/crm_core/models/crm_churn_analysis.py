from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

DEFAULT_THRESHOLD = 50


class CrmChurnAnalysis(models.AbstractModel):
    """Churn risk of customers, from their invoices, payments and interactions.

    Signals (points): invoice silence against the usual rhythm (35), invoiced
    amount falling by half over 90 days (25), overdue invoices (20), overdue
    amount up by half over 90 days (10), paying more than 15 days later than
    before (15), no interaction for 90 days (20).

    Other addons add signals by overriding ``_churn_signals`` and appending
    ``(points, reason)`` to the list of each customer.

    Customers are scored per company (``self.env.company``): from that company's
    invoices and interactions, amounts in its currency, stored in company-dependent
    fields.
    """

    _name = "crm.churn.analysis"
    _description = "Customer Churn Analysis"

    @api.model
    def _threshold(self):
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("crm_core.churn_threshold", DEFAULT_THRESHOLD)
        )

    @api.model
    def _churn_signals(self, partners):
        """Return {commercial partner id: [(points, reason), ...]} for ``partners``,
        from what they did with the current company."""
        signals = defaultdict(list)
        company = self.env.company
        today = fields.Date.context_today(self)
        self.env["account.move"].flush_model()
        rows = self.env.execute_query(
            SQL(
                """
            SELECT move.commercial_partner_id,
                   COUNT(*) FILTER (WHERE move.move_type = 'out_invoice'),
                   MAX(move.invoice_date) FILTER (WHERE move.move_type = 'out_invoice'),
                   MIN(move.invoice_date) FILTER (WHERE move.move_type = 'out_invoice'),
                   COALESCE(SUM(move.amount_untaxed_signed)
                       FILTER (WHERE move.invoice_date > %(recent)s), 0),
                   COALESCE(SUM(move.amount_untaxed_signed)
                       FILTER (WHERE move.invoice_date <= %(recent)s
                                 AND move.invoice_date > %(previous)s), 0),
                   COALESCE(SUM(move.amount_residual_signed)
                       FILTER (WHERE move.invoice_date_due < %(today)s), 0),
                   COUNT(*) FILTER (WHERE move.invoice_date_due < %(today)s
                                      AND move.amount_residual_signed > 0)
              FROM account_move move
             WHERE move.commercial_partner_id IN %(partners)s
               AND move.company_id = %(company)s
               AND move.move_type IN ('out_invoice', 'out_refund')
               AND move.state = 'posted'
             GROUP BY move.commercial_partner_id
            """,
                partners=tuple(partners.ids),
                company=company.id,
                today=today,
                recent=today - timedelta(days=90),
                previous=today - timedelta(days=180),
            )
        )
        _ = self.env._
        overdue_now_by_partner = {}
        for partner_id, count, last, first, recent, previous, overdue, late in rows:
            entry = signals[partner_id]
            if overdue > 0:
                overdue_now_by_partner[partner_id] = overdue
            if count and last:
                silence = (today - last).days
                usual = (last - first).days / (count - 1) if count > 1 else 90
                if silence > max(2 * usual, 30):
                    entry.append(
                        (
                            35,
                            _(
                                "No invoice for %(days)s days; usually one every "
                                "%(usual)s days.",
                                days=silence,
                                usual=round(usual),
                            ),
                        )
                    )
            if previous > 0 and recent < previous / 2:
                entry.append(
                    (
                        25,
                        _(
                            "Invoiced %(drop)s%% less over the last 90 days than the "
                            "90 days before.",
                            drop=round(100 * (1 - recent / previous)),
                        ),
                    )
                )
            if overdue > 0:
                entry.append(
                    (
                        20,
                        _(
                            "%(count)s invoice(s) overdue, %(amount)s still due.",
                            count=late,
                            amount=round(overdue, 2),
                        ),
                    )
                )
        # Days-to-pay trend: how late invoices paid lately were paid, against before.
        self.env["account.move.line"].flush_model()
        self.env["account.partial.reconcile"].flush_model()
        delays = self.env.execute_query(
            SQL(
                """
            SELECT move.commercial_partner_id,
                   AVG(paid.paid_date - move.invoice_date_due)
                       FILTER (WHERE paid.paid_date > %(recent)s),
                   AVG(paid.paid_date - move.invoice_date_due)
                       FILTER (WHERE paid.paid_date <= %(recent)s
                                 AND paid.paid_date > %(previous)s)
              FROM account_move move
              JOIN LATERAL (
                   SELECT MAX(partial.max_date) AS paid_date
                     FROM account_move_line line
                     JOIN account_partial_reconcile partial
                       ON partial.debit_move_id = line.id
                    WHERE line.move_id = move.id
                      AND line.display_type = 'payment_term'
              ) paid ON paid.paid_date IS NOT NULL
             WHERE move.commercial_partner_id IN %(partners)s
               AND move.company_id = %(company)s
               AND move.move_type = 'out_invoice'
               AND move.state = 'posted'
               AND move.payment_state IN ('paid', 'in_payment')
             GROUP BY move.commercial_partner_id
            """,
                partners=tuple(partners.ids),
                company=company.id,
                recent=today - timedelta(days=90),
                previous=today - timedelta(days=180),
            )
        )
        # Overdue trend: what was overdue 90 days ago, as it stood on that day.
        overdue_then = dict(
            self.env.execute_query(
                SQL(
                    """
            SELECT move.commercial_partner_id,
                   SUM(line.balance - COALESCE(paid.amount, 0))
              FROM account_move move
              JOIN account_move_line line
                ON line.move_id = move.id AND line.display_type = 'payment_term'
              LEFT JOIN LATERAL (
                   SELECT SUM(partial.amount) AS amount
                     FROM account_partial_reconcile partial
                    WHERE partial.debit_move_id = line.id
                      AND partial.max_date <= %(then)s
              ) paid ON TRUE
             WHERE move.commercial_partner_id IN %(partners)s
               AND move.company_id = %(company)s
               AND move.move_type = 'out_invoice'
               AND move.state = 'posted'
               AND move.invoice_date <= %(then)s
               AND line.date_maturity < %(then)s
             GROUP BY move.commercial_partner_id
            """,
                    partners=tuple(partners.ids),
                    company=company.id,
                    then=today - timedelta(days=90),
                )
            )
        )
        for partner_id, overdue_now in overdue_now_by_partner.items():
            before = max(overdue_then.get(partner_id) or 0, 0)
            if overdue_now > 1.5 * before:
                signals[partner_id].append(
                    (
                        10,
                        _(
                            "Overdue amount grew from %(before)s to %(now)s in 90 "
                            "days.",
                            before=round(before, 2),
                            now=round(overdue_now, 2),
                        ),
                    )
                )
        for partner_id, recent_delay, previous_delay in delays:
            if recent_delay is None or previous_delay is None:
                continue
            if recent_delay > 0 and recent_delay - previous_delay > 15:
                signals[partner_id].append(
                    (
                        15,
                        _(
                            "Pays later: %(recent)s days after the due date lately, "
                            "%(previous)s days before.",
                            recent=round(recent_delay),
                            previous=round(previous_delay),
                        ),
                    )
                )
        last_contact = dict(
            self.env["crm.interaction"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", partners.ids),
                    ("company_id", "=", company.id),
                ],
                ["commercial_partner_id"],
                ["date:max"],
            )
        )
        now = fields.Datetime.now()
        for partner in partners:
            last = last_contact.get(partner)
            if not last:
                signals[partner.id].append((20, _("No interaction logged.")))
            elif (now - last).days > 90:
                signals[partner.id].append(
                    (20, _("No interaction for %(days)s days.", days=(now - last).days))
                )
        return signals

    @api.model
    def _score(self, partners):
        """Score ``partners`` (commercial entities) for the current company and
        store the result in its company-dependent churn fields.

        Customers crossing the threshold get one activity for their account owner;
        those already at risk get none again.
        """
        threshold = self._threshold()
        # People who restricted processing are not profiled.
        partners = partners.with_env(self.env).filtered(
            lambda p: not p.privacy_restricted
        )
        if not partners:
            return partners
        signals = self._churn_signals(partners)
        values = []
        for partner in partners:
            entries = signals.get(partner.id, [])
            score = min(100, sum(points for points, _reason in entries))
            reasons = "\n".join(reason for _points, reason in entries)
            values.append((partner.id, score, reasons, score >= threshold))
        at_risk = {partner_id for partner_id, *_v, risky in values if risky}
        newly_at_risk = partners.filtered(
            lambda p: not p.churn_at_risk and p.id in at_risk
        )
        self.env["res.partner"].flush_model(
            ["churn_score", "churn_reasons", "churn_at_risk", "churn_date"]
        )
        # Company-dependent columns are jsonb {company id: value}: set this
        # company's key, keep the others'.
        self.env.execute_query(
            SQL(
                """
            UPDATE res_partner partner
               SET churn_score = COALESCE(partner.churn_score, '{}'::jsonb)
                       || jsonb_build_object(%(company)s, scored.score),
                   churn_reasons = COALESCE(partner.churn_reasons, '{}'::jsonb)
                       || jsonb_build_object(%(company)s, scored.reasons),
                   churn_at_risk = COALESCE(partner.churn_at_risk, '{}'::jsonb)
                       || jsonb_build_object(%(company)s, scored.at_risk),
                   churn_date = COALESCE(partner.churn_date, '{}'::jsonb)
                       || jsonb_build_object(%(company)s, %(now)s)
              FROM (VALUES %(values)s) AS scored(id, score, reasons, at_risk)
             WHERE partner.id = scored.id
            """,
                company=str(self.env.company.id),
                now=fields.Datetime.to_string(fields.Datetime.now()),
                values=SQL(", ").join(SQL("(%s, %s, %s, %s)", *v) for v in values),
            )
        )
        partners.invalidate_recordset(
            ["churn_score", "churn_reasons", "churn_at_risk", "churn_date"]
        )
        admin = self.env.ref("base.user_admin")
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        # No email per activity: a daily batch would flood the owners' inboxes;
        # the activities show in their systray and activity views.
        self.env["mail.activity"].sudo().with_context(
            mail_activity_quick_update=True
        ).create(
            [
                {
                    "res_model_id": self.env["ir.model"]._get_id("res.partner"),
                    "res_id": partner.id,
                    "activity_type_id": activity_type.id,
                    "user_id": partner.user_id.id or admin.id,
                    "summary": self.env._(
                        "Churn risk %(score)s", score=partner.churn_score
                    ),
                    "note": partner.churn_reasons.replace("\n", "<br/>"),
                }
                for partner in newly_at_risk
            ]
        )
        return newly_at_risk

    @api.model
    def _cron_score_customers(self):
        """Score every customer of every company they have posted invoices with."""
        return self.env["crm.batch"]._run("churn_scoring")

    @api.model
    def _score_in_companies(self, partners):
        """Score ``partners`` for each company they have posted invoices with."""
        self.env["account.move"].flush_model()
        rows = self.env.execute_query(
            SQL(
                "SELECT company_id, ARRAY_AGG(DISTINCT commercial_partner_id) "
                "FROM account_move "
                "WHERE move_type IN ('out_invoice', 'out_refund') AND state = 'posted' "
                "AND commercial_partner_id = ANY(%s) "
                "GROUP BY company_id ORDER BY company_id",
                partners.ids,
            )
        )
        for company_id, partner_ids in rows:
            # sudo: the cron scores every company's customers, whoever runs it.
            analysis = self.sudo().with_company(company_id)
            analysis._score(analysis.env["res.partner"].browse(sorted(partner_ids)))
