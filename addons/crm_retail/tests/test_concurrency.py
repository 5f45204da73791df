from psycopg2.errors import SerializationFailure

from odoo import SUPERUSER_ID, Command, api, sql_db
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}


@tagged("post_install", "-at_install")
class TestTwoPostsAtOnce(TransactionCase):
    """Two clerks post an invoice of the same customer at the same moment, each
    in their own transaction. The second one's snapshot predates the first
    one's points; it must not add its own to that stale balance: the card's
    row lock makes PostgreSQL refuse it, and Odoo retries it (here by hand),
    after which the card holds both invoices' points."""

    def _committed_shop(self, db):
        with sql_db.db_connect(db).cursor() as setup_cr:
            env = api.Environment(setup_cr, SUPERUSER_ID, QUIET)
            company = env.ref("base.main_company")
            if not company.chart_template:
                env["account.chart.template"].try_loading("generic_coa", company, False)
            env = env(context=dict(env.context, allowed_company_ids=company.ids))
            program = env["loyalty.program"].create(
                {
                    "name": "Race Rewards",
                    "program_type": "loyalty",
                    "applies_on": "both",
                    "trigger": "auto",
                    "company_id": company.id,
                    "crm_earn_from_invoices": True,
                    "rule_ids": [
                        Command.create(
                            {"reward_point_mode": "money", "reward_point_amount": 1}
                        )
                    ],
                    "reward_ids": [
                        Command.create(
                            {"reward_type": "discount", "required_points": 10}
                        )
                    ],
                }
            )
            customer = env["res.partner"].create({"name": "Racing Roasters"})
            product = env["product.product"].create(
                {"name": "Race Beans", "taxes_id": False}
            )
            invoices = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": customer.id,
                        "invoice_date": "2026-05-01",
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "product_id": product.id,
                                    "quantity": 1,
                                    "price_unit": price,
                                    "tax_ids": False,
                                }
                            )
                        ],
                    }
                    for price in (30.0, 12.0)
                ]
            )
            # The customer's card exists already, as after their first purchase.
            card = env["loyalty.card"].create(
                {"program_id": program.id, "partner_id": customer.id, "points": 0}
            )
            setup_cr.commit()
            return {
                "program": program.id,
                "customer": customer.id,
                "product": product.id,
                "invoices": invoices.ids,
                "card": card.id,
                "company": company.id,
            }

    def _cleanup(self, db, ids):
        with sql_db.db_connect(db).cursor() as cleanup_cr:
            env = api.Environment(cleanup_cr, SUPERUSER_ID, QUIET)
            invoices = env["account.move"].browse(ids["invoices"])
            invoices.filtered(lambda m: m.state == "posted").button_draft()
            invoices.with_context(force_delete=True).unlink()
            env["loyalty.card"].browse(ids["card"]).unlink()
            program = env["loyalty.program"].browse(ids["program"])
            program.active = False
            program.unlink()
            env["product.product"].browse(ids["product"]).unlink()
            env["res.partner"].browse(ids["customer"]).unlink()
            cleanup_cr.commit()

    def _env(self, cr, ids):
        return api.Environment(
            cr, SUPERUSER_ID, dict(QUIET, allowed_company_ids=[ids["company"]])
        )

    def test_second_post_waits_for_the_first_and_loses_nothing(self):
        db = self.env.cr.dbname
        ids = self._committed_shop(db)
        first_id, second_id = ids["invoices"]
        try:
            with (
                sql_db.db_connect(db).cursor() as cr1,
                sql_db.db_connect(db).cursor() as cr2,
            ):
                cr2.execute("SET LOCAL lock_timeout = '10s'")  # fail, never hang
                env1, env2 = self._env(cr1, ids), self._env(cr2, ids)
                # The second clerk's transaction sees the card before the first post.
                self.assertEqual(env2["loyalty.card"].browse(ids["card"]).points, 0)
                env1["account.move"].browse(first_id).action_post()
                cr1.commit()
                with (
                    mute_logger("odoo.sql_db"),
                    self.assertRaises(SerializationFailure),
                ):
                    env2["account.move"].browse(second_id).action_post()
                cr2.rollback()
            # Odoo retries a request that failed to serialise: the retry succeeds.
            with sql_db.db_connect(db).cursor() as cr3:
                self._env(cr3, ids)["account.move"].browse(second_id).action_post()
                cr3.commit()
            with sql_db.db_connect(db).cursor() as cr4:
                env4 = self._env(cr4, ids)
                card = env4["loyalty.card"].browse(ids["card"])
                self.assertEqual(card.points, 42.0)
                self.assertEqual(
                    sorted(card.crm_lot_ids.mapped("points")), [12.0, 30.0]
                )
                cr4.rollback()
        finally:
            self._cleanup(db, ids)
