from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

INVOICE_READERS = (
    "account.group_account_invoice,account.group_account_readonly,"
    "sales_team.group_sale_salesman"
)


class AccountMove(models.Model):
    _inherit = "account.move"

    # Who reads invoices reads what they earned: clerks, auditors, salespeople.
    crm_loyalty_history_ids = fields.One2many(
        "loyalty.history",
        compute="_compute_crm_loyalty_history_ids",
        string="Loyalty Points",
        groups=INVOICE_READERS,
    )
    crm_loyalty_points = fields.Float(
        string="Points Earned",
        compute="_compute_crm_loyalty_history_ids",
        groups=INVOICE_READERS,
    )

    @api.depends("state")
    def _compute_crm_loyalty_history_ids(self):
        history = self.env["loyalty.history"].search(
            [("order_model", "=", "account.move"), ("order_id", "in", self.ids)]
        )
        by_move = defaultdict(lambda: self.env["loyalty.history"])
        for line in history:
            by_move[line.order_id] |= line
        for move in self:
            lines = by_move[move.id]
            move.crm_loyalty_history_ids = lines
            move.crm_loyalty_points = sum(lines.mapped("issued")) - sum(
                lines.mapped("used")
            )

    def _post(self, soft=True):
        posted = super()._post(soft)
        posted._crm_loyalty_post()
        return posted

    def button_draft(self):
        posted = self.filtered(lambda move: move.state == "posted")
        res = super().button_draft()
        posted._crm_loyalty_unpost()
        return res

    # ------------------------------------------------------------------
    # Loyalty ledger
    # ------------------------------------------------------------------
    def _crm_loyalty_moves(self):
        return self.filtered(
            lambda m: (
                m.move_type in ("out_invoice", "out_refund") and m.commercial_partner_id
            )
        )

    def _crm_loyalty_post(self):
        """Award the points of posted invoices, take back those of posted credit
        notes and spend those redeemed on the invoices' discount lines."""
        moves = self._crm_loyalty_moves()
        if not moves:
            return
        # sudo: whoever may post an invoice (an accountant without loyalty rights)
        # moves the ledger; only these moves' customers' cards are touched.
        moves = moves.sudo()
        env = moves.env
        programs = env["loyalty.program"]._crm_invoice_programs(moves.company_id)
        redeeming = moves.invoice_line_ids.filtered("crm_loyalty_card_id")
        if not programs and not redeeming:
            return
        invoices = moves.filtered(lambda m: m.move_type == "out_invoice")
        # Credit notes of invoices posted again are applied again if they were
        # released when their invoice went back to draft.
        refunds = (moves - invoices) | env["account.move"].search(
            [
                ("reversed_entry_id", "in", invoices.ids),
                ("state", "=", "posted"),
                ("move_type", "=", "out_refund"),
            ]
        )
        earned = programs._crm_points_for_moves(invoices)
        partners = (invoices | refunds).commercial_partner_id
        moves._crm_lock_partners(partners)
        cards = moves._crm_cards(
            programs,
            partners,
            create_for={
                (program, move.commercial_partner_id) for program, move in earned
            },
        )
        locked = redeeming.crm_loyalty_card_id
        for card in cards.values():
            locked |= card
        locked._crm_lock()
        Lot = env["crm.retail.loyalty.lot"]
        Consumption = env["crm.retail.loyalty.consumption"]
        lots = {
            (lot.card_id, lot.move_id): lot
            for lot in Lot.search(
                [("move_id", "in", (invoices | refunds.reversed_entry_id).ids)]
            )
        }
        taken = Consumption.search(
            [
                ("move_id", "in", (refunds | invoices).ids),
                ("kind", "in", ("refund", "redeem")),
            ]
        )
        batch = {
            "cards": cards,
            "lots": lots,
            "already": {(c.card_id, c.move_id, c.kind) for c in taken},
            "delta": defaultdict(float),  # points added to each card
            "earned": defaultdict(float),  # points each (card, invoice) earned
            "pending": defaultdict(float),  # points taken per lot in this batch
            "history": [],
            "consumptions": [],
        }
        moves._crm_loyalty_earn(batch, earned)
        moves._crm_loyalty_redeem(
            batch, redeeming.filtered(lambda ln: ln.move_id in invoices)
        )
        moves._crm_loyalty_refund(batch, programs, refunds)
        delta, history, consumptions = (
            batch["delta"],
            batch["history"],
            batch["consumptions"],
        )
        Consumption.create(consumptions)
        for card, points in delta.items():
            if points:
                card.points += points
        env["loyalty.history"].create(history)

    def _crm_loyalty_redeem(self, batch, lines):
        _ = self.env._
        delta = batch["delta"]
        for line in lines:
            card, move = line.crm_loyalty_card_id, line.move_id
            if (card, move, "redeem") in batch[
                "already"
            ] or not line.crm_loyalty_points:
                continue
            points = line.crm_loyalty_points
            # An invoice cannot pay with the points it earns itself.
            available = card.points + delta[card] - batch["earned"][card, move]
            if card.currency_id.compare_amounts(points, available) > 0:
                raise UserError(
                    _(
                        "%(customer)s has %(available)s points on %(card)s, fewer than "
                        "the %(points)s redeemed on %(invoice)s. Remove or reduce the "
                        "loyalty discount line, then post again.",
                        customer=card.partner_id.display_name,
                        available=round(available, 2),
                        card=card.display_name,
                        points=round(points, 2),
                        invoice=move.display_name,
                    )
                )
            batch["consumptions"] += card._crm_take(
                points, "redeem", batch["pending"], move=move, skip_move=move
            )
            delta[card] -= points
            batch["history"].append(
                card._crm_history(
                    _("Redeemed on %(invoice)s", invoice=move.name),
                    used=points,
                    kind="redeem",
                    move=move,
                )
            )

    def _crm_loyalty_earn(self, batch, earned):
        """One lot per invoice and card, created in one batch; the lot of an
        invoice posted again is reused. Runs as superuser, like its caller."""
        Lot = self.env["crm.retail.loyalty.lot"]
        lots, new_lots = batch["lots"], []
        for (program, move), base_points in earned.items():
            card = batch["cards"][program, move.commercial_partner_id]
            lot = lots.get((card, move))
            if lot and lot.state == "active":
                continue
            multiplier = card.crm_tier_id.multiplier or 1.0
            points = card.currency_id.round(base_points * multiplier)
            date = move.invoice_date or move.date
            values = {
                "points": points,
                "date": date,
                "expiry_date": Lot._expiry_for(program, date),
                "state": "active",
                "expiry_notice_sent": False,
            }
            if lot:
                lot.write(values)
                # What credit notes took from it while it was reversed stays taken.
                points = lot.points_remaining
            else:
                new_lots.append({**values, "card_id": card.id, "move_id": move.id})
            batch["delta"][card] += points
            batch["earned"][card, move] += points
            batch["history"].append(
                card._crm_history(
                    self.env._("Earned on %(invoice)s", invoice=move.name),
                    issued=points,
                    kind="earn",
                    move=move,
                )
            )
        for lot in Lot.create(new_lots):
            lots[lot.card_id, lot.move_id] = lot

    def _crm_loyalty_refund(self, batch, programs, refunds):
        """Credit notes take back what their invoice's lot earned, in proportion;
        those without an invoice follow the program's setting."""
        refund_points = programs._crm_points_for_moves(
            refunds.filtered(lambda m: not m.reversed_entry_id)
        )
        pending_refunds = defaultdict(float)  # points refunded per lot in this batch
        for program in programs:
            for refund in refunds.filtered(program._crm_applies_on):
                card = batch["cards"].get((program, refund.commercial_partner_id))
                if not card or (card, refund, "refund") in batch["already"]:
                    continue
                origin = refund.reversed_entry_id
                origin_lot = batch["lots"].get((card, origin)) if origin else None
                if origin:
                    if not origin_lot or origin_lot.state != "active":
                        continue
                    points = origin_lot._crm_refundable(refund, pending_refunds)
                elif program.crm_refund_without_origin == "deduct":
                    multiplier = card.crm_tier_id.multiplier or 1.0
                    points = refund_points.get((program, refund), 0.0) * multiplier
                else:
                    continue
                points = card.currency_id.round(points)
                if points <= 0:
                    continue
                batch["consumptions"] += card._crm_take(
                    points,
                    "refund",
                    batch["pending"],
                    move=refund,
                    origin_lot=origin_lot,
                )
                if origin_lot:
                    pending_refunds[origin_lot.id] += points
                batch["delta"][card] -= points
                batch["history"].append(
                    card._crm_history(
                        self.env._("Taken back by %(refund)s", refund=refund.name),
                        used=points,
                        kind="refund",
                        move=refund,
                    )
                )

    def _crm_loyalty_unpost(self):
        """Undo what posting did, exactly: an invoice's points leave the card (what
        is left of them, plus what was spent from them, which other lots now pay
        for); what credit notes and redemptions took comes back."""
        moves = self._crm_loyalty_moves()
        if not moves:
            return
        # sudo: resetting an invoice reverses its own ledger lines, whoever does it.
        env = moves.sudo().env
        Lot = env["crm.retail.loyalty.lot"]
        Consumption = env["crm.retail.loyalty.consumption"]
        lots = Lot.search([("move_id", "in", moves.ids), ("state", "=", "active")])
        released = Consumption.search(
            [("move_id", "in", moves.ids), ("kind", "in", ("refund", "redeem"))]
        )
        cards = lots.card_id | released.card_id
        if not cards:
            return
        self._crm_lock_partners(cards.partner_id)
        cards._crm_lock()
        delta = defaultdict(float)
        pending = defaultdict(float)
        history, consumptions = [], []
        _ = self.env._
        for card, move in {(c.card_id, c.move_id) for c in released}:
            rows = released.filtered(
                lambda c, k=card, m=move: c.card_id == k and c.move_id == m
            )
            # Points taken from a lot that was reversed since are gone with it.
            back = sum(
                rows.filtered(lambda c: c.lot_id.state != "reversed").mapped("points")
            )
            delta[card] += back
            history.append(
                card._crm_history(
                    _("%(move)s reset to draft", move=move.name),
                    issued=back,
                    kind="release",
                    move=move,
                )
            )
        released.unlink()
        for lot in lots:
            card = lot.card_id
            spent = lot.consumption_ids.filtered(
                lambda c: c.kind in ("redeem", "adjust")
            )
            back = lot.points_remaining + sum(spent.mapped("points"))
            lot.state = "reversed"
            # What was spent from this lot is paid by the card's other lots.
            for row in spent:
                consumptions += card._crm_take(
                    row.points, row.kind, pending, move=row.move_id, order=row.order_id
                )
            spent.unlink()
            delta[card] -= back
            history.append(
                card._crm_history(
                    _("%(invoice)s reset to draft", invoice=lot.move_id.name),
                    used=back,
                    kind="reverse",
                    move=lot.move_id,
                )
            )
        Consumption.create(consumptions)
        for card, points in delta.items():
            if points:
                card.points += points
        env["loyalty.history"].create(history)

    def _crm_lock_partners(self, partners):
        """Serialise the ledger per customer: the first posting creates the card."""
        if partners:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM res_partner WHERE id IN %s ORDER BY id "
                    "FOR NO KEY UPDATE",
                    tuple(partners.ids),
                )
            )

    def _crm_cards(self, programs, partners, create_for=()):
        """{(program, commercial partner): card}, creating the cards of
        ``create_for`` that do not exist yet. Called as superuser by the posting."""
        Card = self.env["loyalty.card"]
        cards = Card.search(
            [("program_id", "in", programs.ids), ("partner_id", "in", partners.ids)],
            order="id",
        )
        result = {}
        for card in cards:
            result.setdefault((card.program_id, card.partner_id), card)
        missing = [key for key in create_for if key not in result]
        if missing:
            new = Card.create(
                [
                    {"program_id": p.id, "partner_id": c.id, "points": 0}
                    for p, c in missing
                ]
            )
            result.update(zip(missing, new, strict=True))
        return result
