import logging
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from .common import CrmCoreCommon

_logger = logging.getLogger(__name__)

FIELDS_360 = [
    "customer_interaction_count",
    "customer_last_interaction_date",
    "customer_next_interaction_date",
    "customer_open_opportunity_count",
    "customer_pipeline_amount",
    "customer_won_opportunity_count",
    "customer_won_amount",
    "customer_invoiced_amount",
    "customer_paid_amount",
    "customer_due_amount",
    "customer_overdue_amount",
    "customer_open_activity_count",
    "customer_next_activity_date",
]


@tagged("post_install", "-at_install")
class TestCustomer360(CrmCoreCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = fields.Date.today()
        now = fields.Datetime.now()
        Lead = cls.env["crm.lead"]
        cls.open_lead_1, cls.open_lead_2, cls.won_lead, cls.lost_lead = Lead.create(
            [
                {
                    "name": "Open 1",
                    "type": "opportunity",
                    "partner_id": cls.contact_1.id,
                    "expected_revenue": 1000,
                    "stage_id": cls.stage_new.id,
                },
                {
                    "name": "Open 2",
                    "type": "opportunity",
                    "partner_id": cls.customer.id,
                    "expected_revenue": 500,
                    "stage_id": cls.stage_new.id,
                },
                {
                    "name": "Won",
                    "type": "opportunity",
                    "partner_id": cls.contact_2.id,
                    "expected_revenue": 2000,
                    "stage_id": cls.stage_won.id,
                },
                {
                    "name": "Lost",
                    "type": "opportunity",
                    "partner_id": cls.contact_2.id,
                    "expected_revenue": 9999,
                    "stage_id": cls.stage_new.id,
                },
            ]
        )
        cls.lost_lead.action_set_lost()
        # Another customer's opportunity must not leak into Acme's pipeline.
        Lead.create(
            {
                "name": "Globex",
                "type": "opportunity",
                "partner_id": cls.other_customer.id,
                "expected_revenue": 777,
            }
        )

        # 1000 overdue with 400 paid, 500 not yet due, a 100 credit note, a draft.
        cls.overdue_invoice = cls._create_customer_invoice(
            cls.contact_1,
            1000,
            invoice_date=today - timedelta(days=40),
            due_date=today - timedelta(days=10),
        )
        cls._register_payment(cls.overdue_invoice, 400)
        cls._create_customer_invoice(
            cls.customer, 500, due_date=today + timedelta(days=30)
        )
        cls._create_customer_invoice(cls.contact_2, 100, move_type="out_refund")
        cls._create_customer_invoice(cls.customer, 12345, post=False)
        cls._create_customer_invoice(cls.other_customer, 3000)
        cls.env["res.partner"].invalidate_model()

        cls.last_date = now - timedelta(days=2)
        cls.next_date = now + timedelta(days=5)
        cls.env["crm.interaction"].create(
            [
                {
                    "name": "Old call",
                    "partner_id": cls.contact_1.id,
                    "date": now - timedelta(days=9),
                },
                {
                    "name": "Recent visit",
                    "partner_id": cls.contact_2.id,
                    "date": cls.last_date,
                    "channel": "visit",
                },
                {
                    "name": "Planned review",
                    "partner_id": cls.customer.id,
                    "date": cls.next_date,
                    "channel": "meeting",
                },
                {"name": "Globex call", "partner_id": cls.other_customer.id},
            ]
        )

        cls.contact_1.activity_schedule(
            "mail.mail_activity_data_call",
            date_deadline=today + timedelta(days=3),
            user_id=cls.salesman_a.id,
        )
        cls.open_lead_1.activity_schedule(
            "mail.mail_activity_data_todo",
            date_deadline=today + timedelta(days=1),
            user_id=cls.salesman_a.id,
        )

    def _assert_acme_figures(self, partner):
        self.assertRecordValues(
            partner,
            [
                {
                    "customer_interaction_count": 3,
                    "customer_last_interaction_date": self.last_date,
                    "customer_next_interaction_date": self.next_date,
                    "customer_open_opportunity_count": 2,
                    "customer_pipeline_amount": 1500.0,
                    "customer_won_opportunity_count": 1,
                    "customer_won_amount": 2000.0,
                    "customer_invoiced_amount": 1400.0,
                    "customer_paid_amount": 400.0,
                    "customer_due_amount": 1000.0,
                    "customer_overdue_amount": 600.0,
                    "customer_open_activity_count": 2,
                    "customer_next_activity_date": fields.Date.today()
                    + timedelta(days=1),
                }
            ],
        )

    def test_figures_on_company_and_each_contact(self):
        for partner in (self.customer, self.contact_1, self.contact_2):
            with self.subTest(partner=partner.name):
                self._assert_acme_figures(partner.with_user(self.manager))

    def test_batch_of_customers_gets_each_its_own_figures(self):
        partners = (self.customer | self.other_customer).with_user(self.manager)
        partners.fetch(FIELDS_360)
        self._assert_acme_figures(partners[0])
        self.assertRecordValues(
            partners[1],
            [
                {
                    "customer_interaction_count": 1,
                    "customer_pipeline_amount": 777.0,
                    "customer_invoiced_amount": 3000.0,
                    "customer_due_amount": 3000.0,
                    "customer_overdue_amount": 0.0,
                    "customer_open_activity_count": 0,
                }
            ],
        )

    def test_salesperson_sees_invoicing_without_accounting_rights(self):
        self.assertFalse(self.salesman_a.has_group("account.group_account_invoice"))
        customer = self.customer.with_user(self.salesman_a)
        self.assertEqual(customer.customer_due_amount, 1000.0)
        self.assertEqual(customer.customer_overdue_amount, 600.0)
        # The form with the 360° page opens for a salesperson.
        self.assertEqual(Form(customer).customer_invoiced_amount, 1400.0)

    def test_employee_without_crm_rights_is_refused_invoicing_figures(self):
        with self.assertRaises(AccessError):
            self.customer.with_user(self.employee).read(["customer_due_amount"])

    def test_other_company_invoices_are_not_counted(self):
        invoice = self._create_customer_invoice(
            self.customer, 5000, company=self.other_company
        )
        self.assertEqual(invoice.company_id, self.other_company)
        self.env["res.partner"].invalidate_model()
        self.assertEqual(
            self.customer.with_user(self.manager).customer_invoiced_amount, 1400.0
        )

    def test_smart_button_actions_target_the_customer(self):
        partner = self.contact_1.with_user(self.manager)
        timeline = partner.action_view_customer_interactions()
        self.assertEqual(
            self.env["crm.interaction"].search(timeline["domain"]).partner_id,
            self.contact_1 | self.contact_2 | self.customer,
        )
        opportunities = partner.action_view_customer_opportunities()
        self.assertEqual(
            self.env["crm.lead"].search(opportunities["domain"]),
            self.open_lead_1 | self.open_lead_2 | self.won_lead,
        )
        overdue = partner.action_view_customer_overdue_invoices()
        self.assertEqual(overdue["context"]["search_default_late"], 1)
        self.assertEqual(
            set(
                self.env["account.move"]
                .search(overdue["domain"])
                .mapped("amount_total")
            ),
            {1000.0, 500.0, 100.0},
        )
        activities = partner.action_view_customer_activities()
        self.assertEqual(len(self.env["mail.activity"].search(activities["domain"])), 2)


@tagged("post_install", "-at_install")
class TestCustomer360QueryCount(CrmCoreCommon):
    """Opening a big customer costs the same queries as opening a small one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.small, cls.big = cls.env["res.partner"].create(
            [
                {"name": "Small Co", "is_company": True},
                {"name": "Big Co", "is_company": True},
            ]
        )
        big_contacts = cls.env["res.partner"].create(
            [{"name": f"Big contact {i}", "parent_id": cls.big.id} for i in range(20)]
        )
        now = fields.Datetime.now()
        cls.env["crm.interaction"].create(
            [
                {
                    "name": "Small call",
                    "partner_id": cls.small.id,
                    "user_id": cls.salesman_a.id,
                }
            ]
            + [
                {
                    "name": f"Call {i}",
                    "partner_id": big_contacts[i % 20].id,
                    "date": now - timedelta(minutes=i),
                    "user_id": cls.salesman_a.id,
                }
                for i in range(5000)
            ]
        )
        cls.env["crm.lead"].create(
            [
                {
                    "name": "Small deal",
                    "type": "opportunity",
                    "partner_id": cls.small.id,
                    "user_id": cls.salesman_a.id,
                }
            ]
            + [
                {
                    "name": f"Deal {i}",
                    "type": "opportunity",
                    "partner_id": big_contacts[i % 20].id,
                    "expected_revenue": 100,
                    "user_id": cls.salesman_a.id,
                }
                for i in range(50)
            ]
        )
        cls._create_customer_invoice(cls.small, 100)
        invoices = cls.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": big_contacts[i % 20].id,
                    "invoice_date": fields.Date.today(),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Service",
                                "quantity": 1,
                                "price_unit": 10,
                                "tax_ids": [Command.set([])],
                            }
                        )
                    ],
                }
                for i in range(500)
            ]
        )
        invoices.action_post()
        cls.small.activity_schedule(
            "mail.mail_activity_data_call", user_id=cls.salesman_a.id
        )
        for contact in big_contacts:
            contact.activity_schedule(
                "mail.mail_activity_data_call", user_id=cls.salesman_a.id
            )

    def _read_360(self, partner):
        self.env.flush_all()
        self.env.invalidate_all()
        start = self.cr.sql_log_count
        # In the user's company, as the web client reads: the 360 itself, not
        # which of its figures happens to look up the user's company first.
        values = (
            partner.with_user(self.salesman_a)
            .with_company(self.company)
            .read(FIELDS_360)[0]
        )
        return values, self.cr.sql_log_count - start

    def test_query_count_does_not_grow_with_history(self):
        self._read_360(self.small)  # warm the registry caches (rules, groups, views)
        small_values, small_queries = self._read_360(self.small)
        big_values, big_queries = self._read_360(self.big)
        _logger.info(
            "Customer 360° queries: %s for 1 interaction/1 invoice, "
            "%s for 5,000 interactions/500 invoices",
            small_queries,
            big_queries,
        )
        self.assertEqual(small_values["customer_interaction_count"], 1)
        self.assertEqual(big_values["customer_interaction_count"], 5000)
        self.assertEqual(big_values["customer_invoiced_amount"], 5000.0)
        self.assertEqual(big_values["customer_open_opportunity_count"], 50)
        self.assertEqual(big_values["customer_open_activity_count"], 20)
        self.assertEqual(big_queries, small_queries)
        # A fixed budget too, so that an extra per-figure query is noticed.
        self.env.invalidate_all()
        with self.assertQueryCount(17):  # 16 + assertQueryCount's own flush
            self.big.with_user(self.salesman_a).with_company(self.company).read(
                FIELDS_360
            )
