from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from .common import RetailCommon


@tagged("post_install", "-at_install")
class TestLoyaltyLedger(RetailCommon):
    def test_posting_earns_once_on_the_company_card(self):
        """An invoice of a contact earns on the card of the contact's company, as
        the invoicing clerk who has no loyalty rights, once however often it is
        posted, reset and posted again."""
        invoice = self._invoice(
            self.contact,
            [(self.beans, 3, 10.0), (self.frother, 1, 40.0)],
            user=self.clerk,
        )
        card = self._card()
        self.assertEqual(card.points, 70.0)
        self.assertFalse(self._card(self.contact))
        lot = card.crm_lot_ids
        self.assertEqual(
            (lot.move_id, lot.points, lot.points_remaining), (invoice, 70, 70)
        )
        self.assertEqual(str(lot.expiry_date), "2027-01-10")

        invoice.with_user(self.clerk).button_draft()
        self.assertEqual(card.points, 0.0)
        self.assertEqual(lot.state, "reversed")
        invoice.with_user(self.clerk).action_post()
        invoice._crm_loyalty_post()  # a second run of the hook changes nothing
        self.assertEqual(card.points, 70.0)
        self.assertEqual(card.crm_lot_ids, lot, "the invoice's lot is reused")
        self.assertEqual(
            self._ledger(card),
            [("earn", 70, 0), ("reverse", 0, 70), ("earn", 70, 0)],
        )

    def test_database_refuses_a_second_lot_for_an_invoice(self):
        invoice = self._invoice(self.customer, [(self.beans, 1, 10.0)])
        card = self._card()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                # sudo: as the posting flow, the only writer of lots.
                self.env["crm.retail.loyalty.lot"].sudo().create(
                    {
                        "card_id": card.id,
                        "move_id": invoice.id,
                        "date": "2026-01-10",
                        "points": 10,
                    }
                )

    def test_cancel_takes_back_what_was_awarded(self):
        invoice = self._invoice(self.customer, [(self.beans, 5, 10.0)])
        card = self._card()
        invoice.button_cancel()
        self.assertEqual(card.points, 0.0)
        self.assertEqual(card.crm_lot_ids.state, "reversed")

    def test_partial_then_full_credit_notes(self):
        """200 earned; a credit note of 50 takes 50; one of 200 takes only the 150
        the invoice still has; resetting it gives those 150 back."""
        invoice = self._invoice(self.customer, [(self.frother, 5, 40.0)])
        card = self._card()
        self._invoice(
            self.customer,
            [(self.frother, 1, 40.0), (self.beans, 1, 10.0)],
            move_type="out_refund",
            origin=invoice,
        )
        self.assertEqual(card.points, 150.0)
        full = self._invoice(
            self.customer,
            [(self.frother, 5, 40.0)],
            move_type="out_refund",
            origin=invoice,
        )
        self.assertEqual(card.points, 0.0)
        self.assertEqual(card.crm_lot_ids.points_remaining, 0.0)
        full.button_draft()
        self.assertEqual(card.points, 150.0)
        self.assertEqual(card.crm_lot_ids.points_remaining, 150.0)
        self.assertEqual(
            self._ledger(card),
            [
                ("earn", 200, 0),
                ("refund", 0, 50),
                ("refund", 0, 150),
                ("release", 150, 0),
            ],
        )

    def test_credit_note_of_a_reset_invoice_counts_again_when_reposted(self):
        invoice = self._invoice(self.customer, [(self.frother, 5, 40.0)])
        card = self._card()
        self._invoice(
            self.customer,
            [(self.frother, 1, 40.0)],
            move_type="out_refund",
            origin=invoice,
        )
        self.assertEqual(card.points, 160.0)
        invoice.button_draft()
        self.assertEqual(card.points, 0.0)
        invoice.action_post()
        self.assertEqual(card.points, 160.0)

    def test_credit_note_without_invoice_follows_the_setting(self):
        self._invoice(self.customer, [(self.frother, 5, 40.0)])
        card = self._card()
        self._invoice(self.customer, [(self.beans, 3, 10.0)], move_type="out_refund")
        self.assertEqual(card.points, 170.0, "deduct by amount")
        self.program.crm_refund_without_origin = "ignore"
        self._invoice(self.customer, [(self.beans, 3, 10.0)], move_type="out_refund")
        self.assertEqual(card.points, 170.0, "ignored")

    def test_credit_note_of_an_invoice_before_the_program_takes_nothing(self):
        self.program.active = False
        invoice = self._invoice(self.customer, [(self.frother, 1, 40.0)])
        self.program.active = True
        self._invoice(self.customer, [(self.frother, 5, 40.0)])
        card = self._card()
        self._invoice(
            self.customer,
            [(self.frother, 1, 40.0)],
            move_type="out_refund",
            origin=invoice,
        )
        self.assertEqual(card.points, 200.0)

    def test_redeem_on_invoice_spends_oldest_lots_first(self):
        """Lots of 100 (January) and 50 (March); 120 points redeemed in April come
        from January's lot then 20 from March's; reset gives them back."""
        self._invoice(self.customer, [(self.beans, 10, 10.0)], date="2026-01-10")
        self._invoice(self.customer, [(self.beans, 5, 10.0)], date="2026-03-10")
        card = self._card()
        january, march = card.crm_lot_ids.sorted("date")
        invoice = self._invoice(
            self.contact, [(self.frother, 1, 40.0)], date="2026-04-10", post=False
        )
        wizard = Form(
            self.env["crm.retail.redeem.wizard"]
            .with_user(self.clerk)
            .with_context(default_move_id=invoice.id)
        )
        wizard.card_id = card
        self.assertEqual(wizard.reward_id, self.reward)
        wizard.points = 120
        self.assertEqual(wizard.amount, 12.0)
        wizard.save().action_redeem()
        discount = invoice.invoice_line_ids.filtered("crm_loyalty_card_id")
        self.assertEqual(
            (discount.price_unit, discount.crm_loyalty_points), (-12.0, 120)
        )
        self.assertEqual(invoice.amount_total, 28.0)
        invoice.with_user(self.clerk).action_post()
        # 150 - 120 redeemed + 40 earned: like on orders, a loyalty discount
        # does not lower the points earned.
        self.assertEqual(card.points, 70.0)
        self.assertEqual((january.points_remaining, march.points_remaining), (0, 30))
        invoice.button_draft()
        self.assertEqual(card.points, 150.0)
        self.assertEqual((january.points_remaining, march.points_remaining), (100, 50))

    def test_invoices_posted_together_pay_from_each_other(self):
        """Posted in one batch: the first invoice's points pay the second's
        discount, from its lot; the second's own points cannot."""
        first = self._invoice(self.customer, [(self.beans, 10, 10.0)], post=False)
        self._invoice(self.customer, [(self.beans, 1, 10.0)])  # creates the card
        card = self._card()
        second = self._invoice(self.customer, [(self.frother, 1, 40.0)], post=False)
        self.env["crm.retail.redeem.wizard"].create(
            {
                "move_id": second.id,
                "card_id": card.id,
                "reward_id": self.reward.id,
                "points": 10,
            }
        ).action_redeem()
        # The second invoice's discount line holds 10 points, the card only 10:
        # the wizard accepted them; at posting, 100 more come from the first.
        second.invoice_line_ids.filtered("crm_loyalty_card_id").crm_loyalty_points = 60
        (first | second).action_post()
        # 10 + 100 + 40 - 60
        self.assertEqual(card.points, 90.0)
        lots = {lot.move_id: lot for lot in card.crm_lot_ids}
        self.assertEqual(lots[second].points_remaining, 40.0)
        self.assertEqual(
            lots[first].points_remaining
            + card.crm_lot_ids.filtered(
                lambda lot: lot.move_id not in (first | second)
            ).points_remaining,
            50.0,
        )
        Consumption = self.env["crm.retail.loyalty.consumption"]
        self.assertFalse(
            Consumption.search([("card_id", "=", card.id), ("lot_id", "=", False)]),
            "every point spent came from a lot",
        )

    def test_reward_per_order_takes_whole_multiples(self):
        """5 off per 10 points: 25 points would pay 2 rewards and lose 5 points."""
        self._invoice(self.customer, [(self.beans, 10, 10.0)])
        self.reward.write({"discount_mode": "per_order", "discount": 5})
        invoice = self._invoice(self.customer, [(self.frother, 1, 40.0)], post=False)
        wizard = self.env["crm.retail.redeem.wizard"].create(
            {
                "move_id": invoice.id,
                "card_id": self._card().id,
                "reward_id": self.reward.id,
                "points": 25,
            }
        )
        with self.assertRaisesRegex(UserError, "multiple of 10"):
            wizard.action_redeem()
        wizard.points = 20
        self.assertEqual(wizard.amount, 10.0)
        wizard.action_redeem()
        self.assertEqual(invoice.amount_total, 30.0)

    def test_redeem_more_than_the_card_holds_is_refused(self):
        self._invoice(self.customer, [(self.beans, 2, 10.0)])
        card = self._card()
        invoice = self._invoice(self.customer, [(self.frother, 1, 40.0)], post=False)
        wizard = self.env["crm.retail.redeem.wizard"].create(
            {
                "move_id": invoice.id,
                "card_id": card.id,
                "reward_id": self.reward.id,
                "points": 30,
            }
        )
        with self.assertRaisesRegex(UserError, "holds 20"):
            wizard.action_redeem()
        wizard.points = 20
        wizard.action_redeem()
        # The points leave elsewhere before this invoice is posted; the 40 it
        # earns itself cannot pay for its own discount.
        card.points = 5
        with self.assertRaisesRegex(UserError, "fewer than the 20"):
            with self.env.cr.savepoint():
                invoice.action_post()
        invoice.invalidate_recordset()
        self.assertEqual(invoice.state, "draft")

    def test_expiry_fifo_against_a_hand_computed_ledger(self):
        with freeze_time("2026-01-10"):
            self._invoice(self.customer, [(self.beans, 10, 10.0)], date="2026-01-10")
        with freeze_time("2026-06-10"):
            self._invoice(self.customer, [(self.beans, 5, 10.0)], date="2026-06-10")
            invoice = self._invoice(
                self.customer, [(self.beans, 1, 10.0)], date="2026-06-10", post=False
            )
            self.env["crm.retail.redeem.wizard"].create(
                {
                    "move_id": invoice.id,
                    "card_id": self._card().id,
                    "reward_id": self.reward.id,
                    "points": 80,
                }
            ).action_redeem()
            invoice.action_post()
        card = self._card()
        # 100 + 50 - 80 + 10 = 80: the 80 came from January, which keeps 20.
        self.assertEqual(card.points, 80.0)
        with freeze_time("2027-01-11"):
            self.env["loyalty.card"]._cron_expire_points()
        self.assertEqual(card.points, 60.0, "January's 20 expired")
        with freeze_time("2027-06-11"):
            self.env["loyalty.card"]._cron_expire_points()
            self.env["loyalty.card"]._cron_expire_points()  # twice: nothing more
        self.assertEqual(card.points, 0.0)
        self.assertEqual(
            self._ledger(card),
            [
                ("earn", 100, 0),
                ("earn", 50, 0),
                ("earn", 10, 0),
                ("redeem", 0, 80),
                ("expire", 0, 20),
                ("expire", 0, 60),
            ],
        )

    def test_customers_are_told_before_points_expire(self):
        with freeze_time("2026-01-10"):
            self._invoice(self.customer, [(self.beans, 10, 10.0)], date="2026-01-10")
        Mail = self.env["mail.mail"]
        with freeze_time("2026-12-01"):
            self.env["loyalty.card"]._cron_expire_points()
        card = self._card()
        mine = [("model", "=", "loyalty.card"), ("res_id", "=", card.id)]
        self.assertFalse(Mail.search([*mine, ("subject", "like", "points expire")]))
        with freeze_time("2026-12-20"):
            self.env["loyalty.card"]._cron_expire_points()
            self.env["loyalty.card"]._cron_expire_points()
        mails = Mail.search([*mine, ("subject", "like", "Shop Rewards points expire")])
        self.assertEqual(len(mails), 1)
        self.assertIn(self.customer, mails.recipient_ids)

    def test_manual_balance_change_goes_through_lots(self):
        self._invoice(self.customer, [(self.beans, 10, 10.0)])
        card = self._card()
        wizard = self.env["loyalty.card.update.balance"].create(
            {"card_id": card.id, "new_balance": 60, "description": "Damaged goods"}
        )
        wizard.action_update_card_point()
        self.assertEqual(card.crm_lot_ids.points_remaining, 60)
        self.env["loyalty.card.update.balance"].create(
            {"card_id": card.id, "new_balance": 90, "description": "Gift"}
        ).action_update_card_point()
        self.assertEqual(sorted(card.crm_lot_ids.mapped("points_remaining")), [30, 60])

    def test_invoice_readers_see_what_it_earned(self):
        """The clerk and a read-only auditor open the invoice with its Loyalty
        tab; neither may change the ledger."""
        invoice = self._invoice(self.customer, [(self.beans, 3, 10.0)])
        auditor = new_test_user(
            self.env,
            "retail_auditor",
            groups="account.group_account_readonly",
            company_id=self.company.id,
        )
        for user in (self.clerk, auditor):
            as_user = invoice.with_user(user)
            as_user.get_views([(False, "form")])
            self.assertEqual(as_user.crm_loyalty_points, 30.0)
            self.assertEqual(as_user.crm_loyalty_history_ids.crm_kind, "earn")
            with self.assertRaises(AccessError):
                as_user.crm_loyalty_history_ids.write({"issued": 1000})

    def test_ledger_is_read_only_for_store_staff_and_hidden_from_employees(self):
        self._invoice(self.customer, [(self.beans, 1, 10.0)])
        lot = self._card().crm_lot_ids
        self.assertEqual(lot.with_user(self.store_staff).points, 10)
        with self.assertRaises(AccessError):
            lot.with_user(self.store_staff).write({"points": 1000})
        with self.assertRaises(AccessError):
            self.env["crm.retail.loyalty.lot"].with_user(self.store_staff).create(
                {"card_id": lot.card_id.id, "date": "2026-01-01", "points": 5}
            )
        employee = self.employee
        with self.assertRaises(AccessError):
            lot.with_user(employee).read(["points"])

    def test_other_company_does_not_see_the_lots(self):
        self._invoice(self.customer, [(self.beans, 1, 10.0)])
        other = self.other_company_manager
        other.groups_id += self.env.ref("crm_retail.group_retail_user")
        self.assertFalse(self.env["crm.retail.loyalty.lot"].with_user(other).search([]))

    def test_invoice_posting_cost_does_not_grow_with_lines(self):
        self._invoice(self.customer, [(self.beans, 1, 10.0)])
        small = self._invoice(self.customer, [(self.beans, 1, 10.0)], post=False)
        big = self._invoice(self.customer, [(self.beans, 1, 10.0)] * 20, post=False)
        self.env.invalidate_all()
        with self.assertQueryCount(26):
            small._crm_loyalty_post()
        self.env.invalidate_all()
        with self.assertQueryCount(26):
            big._crm_loyalty_post()


@tagged("post_install", "-at_install")
class TestLoyaltyOnOrders(RetailCommon):
    def _order(self, lines, partner=None):
        return self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": p.id,
                            "product_uom_qty": q,
                            "price_unit": u,
                            "tax_id": [Command.clear()],
                        }
                    )
                    for p, q, u in lines
                ],
            }
        )

    def test_order_earns_nothing_its_invoice_earns_once(self):
        order = self._order([(self.beans, 4, 10.0)])
        order._update_programs_and_rewards()
        order.action_confirm()
        card = self._card()
        self.assertEqual(card.points if card else 0.0, 0.0)
        invoice = order._create_invoices()
        invoice.action_post()
        self.assertEqual(self._card().points, 40.0)

    def test_reward_claimed_on_an_order_spends_lots_and_comes_back_on_cancel(self):
        self._invoice(self.customer, [(self.beans, 10, 10.0)])
        card = self._card()
        order = self._order([(self.frother, 1, 40.0)])
        order._update_programs_and_rewards()
        self.assertFalse(order._apply_program_reward(self.reward, card).get("error"))
        order.action_confirm()
        spent = order.order_line.filtered("coupon_id").points_cost
        self.assertEqual(card.points, 100.0 - spent)
        self.assertEqual(card.crm_lot_ids.points_remaining, 100.0 - spent)
        order._action_cancel()
        self.assertEqual(card.points, 100.0)
        self.assertEqual(card.crm_lot_ids.points_remaining, 100.0)

    def test_contact_order_spends_the_company_card(self):
        """Jordan orders for Bean There Ltd: the company's points pay the reward,
        and no card of Jordan's own is created."""
        self._invoice(self.customer, [(self.beans, 10, 10.0)])
        card = self._card()
        order = self._order([(self.frother, 1, 40.0)], partner=self.contact)
        order._update_programs_and_rewards()
        self.assertIn(card, order.applied_coupon_ids)
        self.assertFalse(order._apply_program_reward(self.reward, card).get("error"))
        order.action_confirm()
        spent = order.order_line.filtered("coupon_id").points_cost
        self.assertTrue(spent)
        self.assertEqual(card.points, 100.0 - spent)
        self.assertFalse(self._card(self.contact))


@tagged("post_install", "-at_install")
class TestLoyaltyRules(RetailCommon):
    def test_rules_on_products_minimum_and_units(self):
        """Frothers earn 5 points each from 2 of them; beans earn 1 per unit paid
        on invoices of at least 50 (beans only)."""
        self.program.rule_ids = [
            Command.clear(),
            Command.create(
                {
                    "product_ids": self.frother.ids,
                    "reward_point_mode": "unit",
                    "reward_point_amount": 5,
                    "minimum_qty": 2,
                }
            ),
            Command.create(
                {
                    "product_ids": self.beans.ids,
                    "reward_point_mode": "money",
                    "reward_point_amount": 1,
                    "minimum_amount": 50,
                    "minimum_amount_tax_mode": "excl",
                }
            ),
        ]
        self._invoice(self.customer, [(self.frother, 1, 40.0), (self.beans, 4, 10.0)])
        card = self._card()
        self.assertFalse(card.points, "one frother, 40 of beans: nothing")
        self._invoice(self.customer, [(self.frother, 3, 40.0), (self.beans, 6, 10.0)])
        self.assertEqual(self._card().points, 15 + 60)

    def test_program_settings_are_checked(self):
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.program.crm_points_validity_months = -1
        promotion = self.env["loyalty.program"].create(
            {"name": "Spring promo", "program_type": "promotion"}
        )
        with self.assertRaisesRegex(ValidationError, "Only loyalty card programs"):
            promotion.crm_earn_from_invoices = True

    def test_store_staff_cannot_configure_tiers_or_programs(self):
        Tier = self.env["crm.retail.tier"].with_user(self.store_staff)
        with self.assertRaises(AccessError):
            Tier.create({"name": "Platinum", "program_id": self.program.id})
        with self.assertRaises(AccessError):
            self.program.with_user(self.store_staff).crm_point_value = 5

    def test_program_of_another_company_earns_nothing_here(self):
        self.program.company_id = self.other_company
        self._invoice(self.customer, [(self.frother, 1, 40.0)])
        self.assertFalse(self._card())
