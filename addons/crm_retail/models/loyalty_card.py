from collections import defaultdict
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL


class LoyaltyCard(models.Model):
    _inherit = "loyalty.card"

    crm_earn_from_invoices = fields.Boolean(related="program_id.crm_earn_from_invoices")
    crm_tier_id = fields.Many2one(
        "crm.retail.tier",
        string="Tier",
        readonly=True,
        tracking=True,
        index="btree_not_null",
    )
    crm_tier_since = fields.Date(string="Tier Since", readonly=True)
    crm_tier_review_date = fields.Date(
        string="Tier Review",
        readonly=True,
        help="From this date (plus the program's grace period) the tier can go down "
        "if the paid revenue of the last 12 months is below its threshold.",
    )
    crm_paid_revenue = fields.Monetary(
        string="Paid Revenue (12 months)",
        currency_field="currency_id",
        readonly=True,
        help="Payments reconciled with posted invoices over the last 12 months, net "
        "of refunds paid, as of the last tier review.",
    )
    crm_tier_reviewed_on = fields.Date(readonly=True, copy=False)
    crm_tier_history_ids = fields.One2many(
        "crm.retail.tier.history", "card_id", string="Tier Changes"
    )
    crm_lot_ids = fields.One2many("crm.retail.loyalty.lot", "card_id", string="Lots")
    crm_points_expiring = fields.Float(
        string="Points Expiring Soon", compute="_compute_crm_points_expiring"
    )
    crm_next_expiry_date = fields.Date(
        string="Next Expiry", compute="_compute_crm_points_expiring"
    )

    @api.depends(
        "crm_lot_ids.points_remaining",
        "crm_lot_ids.expiry_date",
        "program_id.crm_expiry_notice_days",
    )
    def _compute_crm_points_expiring(self):
        today = fields.Date.context_today(self)
        lots = self.env["crm.retail.loyalty.lot"]._read_group(
            [
                ("card_id", "in", self.ids),
                ("state", "=", "active"),
                ("points_remaining", ">", 0),
                ("expiry_date", "!=", False),
            ],
            ["card_id", "expiry_date:day"],
            ["points_remaining:sum"],
        )
        by_card = defaultdict(list)
        for card, expiry, points in lots:
            by_card[card].append((expiry, points))
        for card in self:
            horizon = today + timedelta(days=card.program_id.crm_expiry_notice_days)
            dates = sorted(by_card.get(card, []))
            card.crm_next_expiry_date = dates[0][0] if dates else False
            card.crm_points_expiring = sum(p for d, p in dates if d <= horizon)

    # ------------------------------------------------------------------
    # Ledger
    # ------------------------------------------------------------------
    def _crm_lock(self):
        """Lock the cards' rows until the end of the transaction: two invoices of
        one customer posted at once add their points one after the other (the second
        transaction waits, then retries on the serialization error)."""
        if not self:
            return
        self.flush_recordset(["points"])
        self.env.cr.execute(
            SQL(
                "SELECT id FROM loyalty_card WHERE id IN %s "
                "ORDER BY id FOR NO KEY UPDATE",
                tuple(self.ids),
            )
        )
        self.invalidate_recordset(["points"])

    def _crm_take(
        self,
        points,
        kind,
        pending,
        move=None,
        order=None,
        origin_lot=None,
        date=None,
        skip_move=None,
    ):
        """Take ``points`` from this card's active lots, ``origin_lot`` first, then
        the oldest to expire; what no lot covers is recorded without a lot.
        Returns the consumptions' values, which the caller creates in one batch;
        ``pending`` holds the points already taken per lot by that batch;
        the lot of ``skip_move`` (the invoice paying with points) is left alone."""
        self.ensure_one()
        date = date or fields.Date.context_today(self)
        rounding = self.currency_id.rounding or 0.01
        lots = self.crm_lot_ids.filtered(
            lambda lot: (
                lot.state == "active"
                and (not skip_move or lot.move_id != skip_move)
                and lot.points_remaining - pending[lot.id] >= rounding
            )
        ).sorted(
            lambda lot: (
                lot != origin_lot,
                lot.expiry_date or date.max,
                lot.date,
                lot.id,
            )
        )
        values = []
        left = points
        base = {
            "card_id": self.id,
            "kind": kind,
            "date": date,
            "move_id": move.id if move else False,
            "order_id": order.id if order else False,
            "origin_lot_id": origin_lot.id if origin_lot else False,
        }
        for lot in lots:
            if left < rounding:
                break
            taken = min(left, lot.points_remaining - pending[lot.id])
            pending[lot.id] += taken
            values.append({**base, "lot_id": lot.id, "points": taken})
            left -= taken
        if left >= rounding:
            values.append({**base, "lot_id": False, "points": left})
        return values

    def _crm_history(self, description, issued=0.0, used=0.0, kind=None, move=None):
        self.ensure_one()
        return {
            "card_id": self.id,
            "description": description,
            "issued": issued,
            "used": used,
            "crm_kind": kind,
            "order_model": move and move._name,
            "order_id": move and move.id,
        }

    # ------------------------------------------------------------------
    # Tiers
    # ------------------------------------------------------------------
    def _crm_paid_revenue(self):
        """Paid revenue of the last 12 months per card: payments reconciled with
        the posted invoices of the card's customer, minus payments reconciled with
        their credit notes (refunds paid out), in the company's currency. A credit
        note set against an invoice is not a payment: that part of the invoice was
        never paid, so the revenue is net of it."""
        if not self:
            return {}
        today = fields.Date.context_today(self)
        for model in ("account.move", "account.move.line", "account.partial.reconcile"):
            self.env[model].flush_model()
        rows = self.env.execute_query(
            SQL(
                """
            WITH cards AS (
                SELECT card.id, card.partner_id, program.company_id
                  FROM loyalty_card card
                  JOIN loyalty_program program ON program.id = card.program_id
                 WHERE card.id IN %(cards)s
            ), flows AS (
                -- payments reconciled with invoices (the invoice's line is the debit)
                SELECT inv.commercial_partner_id AS partner_id, inv.company_id,
                       part.amount
                  FROM account_partial_reconcile part
                  JOIN account_move_line inv_line ON inv_line.id = part.debit_move_id
                  JOIN account_move inv ON inv.id = inv_line.move_id
                  JOIN account_move_line pay_line ON pay_line.id = part.credit_move_id
                  JOIN account_move pay ON pay.id = pay_line.move_id
                 WHERE inv.move_type = 'out_invoice' AND inv.state = 'posted'
                   AND pay.move_type NOT IN ('out_invoice', 'out_refund', 'out_receipt')
                   AND part.max_date > %(since)s AND part.max_date <= %(today)s
                   AND inv.commercial_partner_id IN (SELECT partner_id FROM cards)
                 UNION ALL
                -- refunds paid out on credit notes (their line is the credit)
                SELECT refund.commercial_partner_id, refund.company_id, -part.amount
                  FROM account_partial_reconcile part
                  JOIN account_move_line ref_line ON ref_line.id = part.credit_move_id
                  JOIN account_move refund ON refund.id = ref_line.move_id
                  JOIN account_move_line pay_line ON pay_line.id = part.debit_move_id
                  JOIN account_move pay ON pay.id = pay_line.move_id
                 WHERE refund.move_type = 'out_refund' AND refund.state = 'posted'
                   AND pay.move_type NOT IN ('out_invoice', 'out_refund', 'out_receipt')
                   AND part.max_date > %(since)s AND part.max_date <= %(today)s
                   AND refund.commercial_partner_id IN (SELECT partner_id FROM cards)
            )
            SELECT cards.id, COALESCE(SUM(flows.amount), 0)
              FROM cards
              LEFT JOIN flows ON flows.partner_id = cards.partner_id
                             AND (cards.company_id IS NULL
                                  OR flows.company_id = cards.company_id)
             GROUP BY cards.id
            """,
                cards=tuple(self.ids),
                since=today - relativedelta(years=1),
                today=today,
            )
        )
        return dict(rows)

    def _crm_target_tier(self, revenue):
        self.ensure_one()
        reached = self.program_id.crm_tier_ids.filtered(
            lambda t: t.threshold <= revenue
        )
        return reached.sorted("threshold")[-1:] if reached else reached

    def _crm_review_tiers(self, upgrade_only=False):
        """Move each card to the tier its paid revenue reaches: up at once, down
        only once the review date and the grace period have passed."""
        cards = self.filtered(lambda c: c.program_id.crm_tier_ids and c.partner_id)
        if not cards:
            return
        today = fields.Date.context_today(self)
        revenue_by_card = cards._crm_paid_revenue()
        history = []
        changed = self.browse()
        _ = self.env._
        for card in cards:
            program = card.program_id
            revenue = revenue_by_card.get(card.id, 0.0)
            current = card.crm_tier_id
            target = card._crm_target_tier(revenue)
            values = {"crm_paid_revenue": revenue}
            review_due = (
                card.crm_tier_review_date and card.crm_tier_review_date <= today
            )
            next_review = today + relativedelta(months=program.crm_tier_review_months)
            if target and (not current or target.threshold > current.threshold):
                values.update(
                    crm_tier_id=target.id,
                    crm_tier_since=today,
                    crm_tier_review_date=next_review,
                )
                history.append(
                    {
                        "card_id": card.id,
                        "date": today,
                        "old_tier_id": current.id,
                        "new_tier_id": target.id,
                        "direction": "up",
                        "paid_revenue": revenue,
                        "reason": _(
                            "Paid %(revenue)s over 12 months, %(tier)s starts at "
                            "%(threshold)s.",
                            revenue=card.currency_id.format(revenue),
                            tier=target.name,
                            threshold=card.currency_id.format(target.threshold),
                        ),
                    }
                )
                changed |= card
            elif current and review_due and not upgrade_only:
                grace_end = card.crm_tier_review_date + timedelta(
                    days=program.crm_tier_grace_days
                )
                if target == current:
                    # Still qualifies at its review: the tier is renewed for a period.
                    values["crm_tier_review_date"] = next_review
                elif today >= grace_end:
                    values.update(
                        crm_tier_id=target.id,
                        crm_tier_since=today,
                        crm_tier_review_date=next_review if target else False,
                    )
                    history.append(
                        {
                            "card_id": card.id,
                            "date": today,
                            "old_tier_id": current.id,
                            "new_tier_id": target.id,
                            "direction": "down",
                            "paid_revenue": revenue,
                            "reason": _(
                                "Paid %(revenue)s over 12 months at the review of "
                                "%(review)s, below the %(threshold)s of %(tier)s, and "
                                "the %(days)s days of grace have passed.",
                                revenue=card.currency_id.format(revenue),
                                review=card.crm_tier_review_date,
                                threshold=card.currency_id.format(current.threshold),
                                tier=current.name,
                                days=program.crm_tier_grace_days,
                            ),
                        }
                    )
                    changed |= card
            card.write(values)
        self.env["crm.retail.tier.history"].create(history)
        changed._crm_send_tier_mail()

    def _crm_send_tier_mail(self):
        template = self.env.ref(
            "crm_retail.mail_template_tier_change", raise_if_not_found=False
        )
        if not template:
            return
        for card in self.filtered(lambda c: c.partner_id.email):
            template.send_mail(
                card.id, email_layout_xmlid="mail.mail_notification_light"
            )

    # ------------------------------------------------------------------
    # Points expiry
    # ------------------------------------------------------------------
    def _crm_expire_points(self):
        """Expire what is left of these cards' lots past their date, oldest first.
        Their rows must be locked by the caller (the batch claims them)."""
        today = fields.Date.context_today(self)
        Lot = self.env["crm.retail.loyalty.lot"]
        expired = Lot.search(
            [
                ("card_id", "in", self.ids),
                ("state", "=", "active"),
                ("expiry_date", "<", today),
                ("points_remaining", ">", 0),
            ],
            order="expiry_date, date, id",
        )
        consumptions, history = [], []
        _ = self.env._
        for card, lots in expired.grouped("card_id").items():
            total = sum(lots.mapped("points_remaining"))
            consumptions += [
                {
                    "lot_id": lot.id,
                    "card_id": card.id,
                    "kind": "expire",
                    "points": lot.points_remaining,
                    "date": today,
                }
                for lot in lots
            ]
            # Points the card no longer holds (spent outside the ledger) cannot expire.
            used = min(total, max(card.points, 0.0))
            if used:
                card.points -= used
            history.append(
                card._crm_history(
                    _(
                        "%(points)s points earned until %(date)s expired.",
                        points=round(total, 2),
                        date=max(lots.mapped("expiry_date")),
                    ),
                    used=used,
                    kind="expire",
                )
            )
        self.env["crm.retail.loyalty.consumption"].create(consumptions)
        self.env["loyalty.history"].create(history)

    def _crm_send_expiry_notices(self):
        """Warn the customers of these cards whose points expire within their
        program's notice period, once per lot."""
        today = fields.Date.context_today(self)
        programs = self.program_id.filtered(
            lambda p: p.crm_earn_from_invoices and p.crm_points_validity_months > 0
        )
        if not programs:
            return
        longest = max(programs.mapped("crm_expiry_notice_days"))
        lots = (
            self.env["crm.retail.loyalty.lot"]
            .search(
                [
                    ("card_id", "in", self.ids),
                    ("program_id", "in", programs.ids),
                    ("state", "=", "active"),
                    ("expiry_notice_sent", "=", False),
                    ("points_remaining", ">", 0),
                    ("expiry_date", ">=", today),
                    ("expiry_date", "<=", today + timedelta(days=longest)),
                ]
            )
            .filtered(
                lambda lot: (
                    lot.expiry_date
                    <= today + timedelta(days=lot.program_id.crm_expiry_notice_days)
                )
            )
        )
        template = self.env.ref(
            "crm_retail.mail_template_points_expiring", raise_if_not_found=False
        )
        if template:
            for card in lots.card_id.filtered(lambda c: c.partner_id.email):
                template.send_mail(
                    card.id, email_layout_xmlid="mail.mail_notification_light"
                )
        lots.write({"expiry_notice_sent": True})

    # ------------------------------------------------------------------
    # Batches (crm.batch): the crons' work, a chunk of cards at a time
    # ------------------------------------------------------------------
    @api.model
    def _batch_review_tiers_domain(self):
        """Active tiered cards of a customer not reviewed today: a second run the
        same day finds only those left, so no card is reviewed twice a day."""
        today = fields.Date.context_today(self)
        return [
            ("active", "=", True),
            ("program_id.crm_tier_ids", "!=", False),
            ("program_id.active", "=", True),
            ("partner_id", "!=", False),
            "|",
            ("crm_tier_reviewed_on", "=", False),
            ("crm_tier_reviewed_on", "<", today),
        ]

    def _batch_review_tiers_process(self):
        for company, cards in self.grouped("company_id").items():
            cards.with_company(company or self.env.company)._crm_review_tiers()
        self.write({"crm_tier_reviewed_on": fields.Date.context_today(self)})

    @api.model
    def _batch_expire_points_domain(self):
        """Cards with points past their date, or with points to warn about
        (within their program's notice period, not warned yet)."""
        today = fields.Date.context_today(self)
        self.env["crm.retail.loyalty.lot"].flush_model(
            [
                "card_id",
                "program_id",
                "state",
                "points_remaining",
                "expiry_date",
                "expiry_notice_sent",
            ]
        )
        self.env["loyalty.program"].flush_model(
            [
                "crm_earn_from_invoices",
                "crm_points_validity_months",
                "crm_expiry_notice_days",
            ]
        )
        # Raw SQL: the notice period is each program's, which no domain compares.
        due = SQL(
            """
            (SELECT lot.card_id
               FROM crm_retail_loyalty_lot lot
               JOIN loyalty_program program ON program.id = lot.program_id
              WHERE lot.state = 'active'
                AND lot.points_remaining > 0
                AND (lot.expiry_date < %(today)s
                     OR (lot.expiry_notice_sent IS NOT TRUE
                         AND program.crm_earn_from_invoices
                         AND program.crm_points_validity_months > 0
                         AND lot.expiry_date >= %(today)s
                         AND lot.expiry_date
                             <= %(today)s + program.crm_expiry_notice_days)))
            """,
            today=today,
        )
        return [("id", "in", due)]

    def _batch_expire_points_process(self):
        # The batch holds the cards' rows: postings of their customers wait.
        self._crm_expire_points()
        self._crm_send_expiry_notices()

    # ------------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------------
    @api.model
    def _cron_review_tiers(self):
        """Review the tiered cards not reviewed today, a chunk per call (batch
        "review_tiers"); the cron comes back at once while some are left."""
        return self.env["crm.batch"]._run("review_tiers")

    @api.model
    def _cron_expire_points(self):
        """Expire what is left of lots past their date and warn the customers whose
        points expire soon, a chunk of cards per call (batch "expire_points")."""
        return self.env["crm.batch"]._run("expire_points")
