from contextlib import contextmanager

from odoo import SUPERUSER_ID, Command, api, fields, sql_db
from odoo.tests import HttpCase, new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class CrmCoreCommon(AccountTestInvoicingCommon):
    """Two sales teams in one company, a second company, and a customer account.

    Built on the accounting test base so that every test company has a chart of
    accounts and invoices can be posted without relying on demo data.
    """

    @contextmanager
    def committed(self):
        """An environment on a connection of its own, committed on exit: data the
        workers of a race see. The test removes it through the same helper."""
        with sql_db.db_connect(self.env.cr.dbname).cursor() as setup_cr:
            setup_cr.execute("SET LOCAL lock_timeout = '10s'")  # fail, never hang
            yield api.Environment(
                setup_cr,
                SUPERUSER_ID,
                {"crm_skip_assignment": True, "tracking_disable": True},
            )
            setup_cr.commit()

    @contextmanager
    def two_workers(self):
        """Two transactions on connections of their own, as two workers would
        run; whatever they leave uncommitted is rolled back."""
        db = sql_db.db_connect(self.env.cr.dbname)
        with db.cursor() as cr1, db.cursor() as cr2:
            cr1.execute("SET LOCAL lock_timeout = '10s'")
            cr2.execute("SET LOCAL lock_timeout = '10s'")
            yield (
                api.Environment(cr1, SUPERUSER_ID, {}),
                api.Environment(cr2, SUPERUSER_ID, {}),
            )
            cr1.rollback()
            cr2.rollback()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        # The accounting base runs as its own accountant: make them a CRM manager too.
        cls.env.user.groups_id += cls.env.ref("crm_core.group_crm_manager")
        cls.env.user.groups_id += cls.env.ref("crm_core.group_crm_compliance")
        cls.other_company = cls.setup_other_company()["company"]

        user_groups = "crm_core.group_crm_user"
        cls.salesman_a = new_test_user(
            cls.env, "salesman_a", groups=user_groups, company_id=cls.company.id
        )
        cls.salesman_a2 = new_test_user(
            cls.env, "salesman_a2", groups=user_groups, company_id=cls.company.id
        )
        cls.salesman_b = new_test_user(
            cls.env, "salesman_b", groups=user_groups, company_id=cls.company.id
        )
        cls.manager = new_test_user(
            cls.env,
            "crm_manager",
            groups="crm_core.group_crm_manager",
            company_id=cls.company.id,
        )
        cls.other_company_manager = new_test_user(
            cls.env,
            "crm_manager_other",
            groups="crm_core.group_crm_manager",
            company_id=cls.other_company.id,
            company_ids=[Command.set(cls.other_company.ids)],
        )
        cls.compliance = new_test_user(
            cls.env,
            "compliance",
            groups="crm_core.group_crm_compliance",
            company_id=cls.company.id,
        )
        cls.employee = new_test_user(
            cls.env, "employee", groups="base.group_user", company_id=cls.company.id
        )

        cls.team_a = cls.env["crm.team"].create(
            {
                "name": "Team A",
                "company_id": cls.company.id,
                "crm_team_member_ids": [
                    Command.create({"user_id": cls.salesman_a.id}),
                    Command.create({"user_id": cls.salesman_a2.id}),
                ],
            }
        )
        cls.team_b = cls.env["crm.team"].create(
            {
                "name": "Team B",
                "company_id": cls.company.id,
                "crm_team_member_ids": [Command.create({"user_id": cls.salesman_b.id})],
            }
        )

        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Acme Corporation",
                "is_company": True,
                "user_id": cls.salesman_a.id,
            }
        )
        cls.contact_1, cls.contact_2 = cls.env["res.partner"].create(
            [
                {
                    "name": "Alice Acme",
                    "parent_id": cls.customer.id,
                    "email": "alice@acme.example.com",
                },
                {
                    "name": "Bob Acme",
                    "parent_id": cls.customer.id,
                    "email": "bob@acme.example.com",
                },
            ]
        )
        cls.other_customer = cls.env["res.partner"].create(
            {
                "name": "Globex",
                "is_company": True,
                "email": "info@globex.example.com",
            }
        )
        cls.stage_new = cls.env["crm.stage"].create({"name": "New", "sequence": 1})
        cls.stage_won = cls.env["crm.stage"].create(
            {"name": "Won", "sequence": 90, "is_won": True}
        )

    @classmethod
    def _create_customer_invoice(
        cls,
        partner,
        amount,
        move_type="out_invoice",
        invoice_date=None,
        due_date=None,
        post=True,
        company=None,
    ):
        invoice_date = invoice_date or fields.Date.today()
        invoice = (
            cls.env["account.move"]
            .with_company(company or cls.company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": invoice_date,
                    "invoice_date_due": due_date or invoice_date,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Service",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.set([])],
                            }
                        )
                    ],
                }
            )
        )
        if post:
            invoice.action_post()
        return invoice

    @classmethod
    def _register_payment(cls, invoices, amount, payment_date=None):
        return (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create(
                {
                    "amount": amount,
                    "payment_date": payment_date or fields.Date.today(),
                    "payment_difference_handling": "open",
                }
            )
            ._create_payments()
        )


class BrowserTourCase(HttpCase):
    """The web client in Chromium at desktop width, or at a phone's width (touch)."""

    PHONE_SIZE = "390x844"

    def start_tour_at(self, size, url_path, tour_name, **kwargs):
        if size == "phone":
            self.browser_size, self.touch_enabled = self.PHONE_SIZE, True
        return self.start_tour(url_path, tour_name, **kwargs)
