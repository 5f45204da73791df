from odoo import Command, fields
from odoo.tests import new_test_user

from odoo.addons.crm_core.tests.common import CrmCoreCommon


class RetailCommon(CrmCoreCommon):
    """A shop selling tax-free goods, with a loyalty program earning one point per
    currency unit on posted invoices; a customer company with a contact; store
    staff, an invoicing clerk and a plain employee."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env.user.groups_id += cls.env.ref("crm_retail.group_retail_manager")
        cls.beans = cls.env["product.product"].create(
            {
                "name": "Espresso Beans",
                "list_price": 10.0,
                "taxes_id": [Command.clear()],
            }
        )
        cls.frother = cls.env["product.product"].create(
            {"name": "Milk Frother", "list_price": 40.0, "taxes_id": [Command.clear()]}
        )
        cls.program = cls.env["loyalty.program"].create(
            {
                "name": "Shop Rewards",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "company_id": cls.company.id,
                "crm_earn_from_invoices": True,
                "crm_points_validity_months": 12,
                "crm_point_value": 0.1,
                "rule_ids": [
                    Command.create(
                        {"reward_point_mode": "money", "reward_point_amount": 1}
                    )
                ],
                "reward_ids": [
                    Command.create(
                        {
                            "reward_type": "discount",
                            "discount_mode": "per_point",
                            "discount": 0.1,
                            "required_points": 10,
                            "discount_applicability": "order",
                        }
                    )
                ],
            }
        )
        cls.reward = cls.program.reward_ids
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Bean There Ltd",
                "is_company": True,
                "email": "buy@beanthere.test",
            }
        )
        cls.contact = cls.env["res.partner"].create(
            {
                "name": "Jordan",
                "parent_id": cls.customer.id,
                "email": "jordan@beanthere.test",
            }
        )
        cls.store_staff = new_test_user(
            cls.env,
            "retail_staff",
            groups="crm_retail.group_retail_user",
            company_id=cls.company.id,
        )
        cls.clerk = new_test_user(
            cls.env,
            "invoice_clerk",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
        )

    @classmethod
    def _invoice(
        cls,
        partner,
        lines,
        date="2026-01-10",
        post=True,
        move_type="out_invoice",
        origin=None,
        user=None,
    ):
        """An invoice of ``lines`` [(product, quantity, unit price)], tax free."""
        Move = cls.env["account.move"].with_user(user or cls.env.user)
        move = Move.create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": fields.Date.to_date(date),
                "reversed_entry_id": origin.id if origin else False,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": quantity,
                            "price_unit": price,
                            "tax_ids": [Command.clear()],
                        }
                    )
                    for product, quantity, price in lines
                ],
            }
        )
        if post:
            move.action_post()
        return move

    def _card(self, partner=None):
        return self.env["loyalty.card"].search(
            [
                ("program_id", "=", self.program.id),
                ("partner_id", "=", (partner or self.customer).id),
            ]
        )

    def _ledger(self, card):
        """The card's history oldest first: (kind, issued, used)."""
        return [
            (line.crm_kind, line.issued, line.used)
            for line in card.history_ids.sorted("id")
        ]
