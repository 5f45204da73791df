from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CrmCoreCommon


@tagged("post_install", "-at_install")
class TestCrmCoreSecurity(CrmCoreCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Interaction = cls.env["crm.interaction"]
        cls.own, cls.teammate, cls.other_team, cls.unassigned = Interaction.create(
            [
                {
                    "name": "Mine",
                    "partner_id": cls.contact_1.id,
                    "user_id": cls.salesman_a.id,
                },
                {
                    "name": "Teammate's",
                    "partner_id": cls.contact_1.id,
                    "user_id": cls.salesman_a2.id,
                },
                {
                    "name": "Team B's",
                    "partner_id": cls.contact_2.id,
                    "user_id": cls.salesman_b.id,
                },
                {"name": "Nobody's", "partner_id": cls.contact_2.id, "user_id": False},
            ]
        )
        cls.other_company_interaction = Interaction.create(
            {
                "name": "Other company",
                "partner_id": cls.other_customer.id,
                "user_id": cls.other_company_manager.id,
                "company_id": cls.other_company.id,
            }
        )
        Lead = cls.env["crm.lead"]
        cls.lead_teammate, cls.lead_other_team = Lead.create(
            [
                {
                    "name": "Teammate's lead",
                    "user_id": cls.salesman_a2.id,
                    "team_id": cls.team_a.id,
                },
                {
                    "name": "Team B's lead",
                    "user_id": cls.salesman_b.id,
                    "team_id": cls.team_b.id,
                },
            ]
        )

    def test_salesperson_sees_own_team_and_unassigned(self):
        visible = self.env["crm.interaction"].with_user(self.salesman_a).search([])
        self.assertEqual(visible, self.own | self.teammate | self.unassigned)
        with self.assertRaises(AccessError):
            self.other_team.with_user(self.salesman_a).read(["name"])
        with self.assertRaises(AccessError):
            self.other_team.with_user(self.salesman_a).write({"name": "Hijacked"})
        self.assertEqual(self.other_team.name, "Team B's")

    def test_salesperson_sees_team_leads_not_other_teams(self):
        leads = self.env["crm.lead"].with_user(self.salesman_a)
        self.assertIn(self.lead_teammate, leads.search([]))
        self.assertNotIn(self.lead_other_team, leads.search([]))
        with self.assertRaises(AccessError):
            self.lead_other_team.with_user(self.salesman_a).read(["name"])

    def test_customer_figures_only_count_what_the_user_may_see(self):
        self.assertEqual(
            self.customer.with_user(self.salesman_a).customer_interaction_count, 3
        )
        self.assertEqual(
            self.customer.with_user(self.manager).customer_interaction_count, 4
        )

    def test_manager_sees_everything_of_the_company(self):
        visible = self.env["crm.interaction"].with_user(self.manager).search([])
        self.assertEqual(
            visible
            & (
                self.own
                | self.teammate
                | self.other_team
                | self.unassigned
                | self.other_company_interaction
            ),
            self.own | self.teammate | self.other_team | self.unassigned,
        )
        self.other_team.with_user(self.manager).write({"outcome": "completed"})
        self.assertEqual(self.other_team.outcome, "completed")

    def test_other_company_manager_refused(self):
        visible = (
            self.env["crm.interaction"].with_user(self.other_company_manager).search([])
        )
        self.assertEqual(visible, self.other_company_interaction)
        with self.assertRaises(AccessError):
            self.own.with_user(self.other_company_manager).read(["name"])

    def test_employee_without_crm_group_refused(self):
        with self.assertRaises(AccessError):
            self.env["crm.interaction"].with_user(self.employee).search([])
        with self.assertRaises(AccessError):
            self.env["crm.interaction"].with_user(self.employee).create(
                {
                    "name": "Sneaky",
                    "partner_id": self.contact_1.id,
                }
            )

    def test_privacy_configuration_is_for_compliance_officers(self):
        model = self.env["ir.model"]._get_id("crm.lead")
        for user in (self.salesman_a, self.manager):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.env["crm.audit.rule"].with_user(user).create(
                        {"model_id": model}
                    )
                with self.assertRaises(AccessError):
                    self.env["crm.retention.policy"].with_user(user).create(
                        {"name": "Purge", "model_id": model, "action": "delete"}
                    )
        # Salespeople log a request; only a compliance officer answers it.
        request = (
            self.env["crm.privacy.request"]
            .with_user(self.salesman_a)
            .create({"partner_id": self.contact_1.id, "request_type": "access"})
        )
        with self.assertRaises(AccessError):
            request.action_export()
        request.with_user(self.compliance).action_export()
        self.assertEqual(request.state, "done")
        # Other companies' consents stay out of sight.
        self.env["crm.consent"].create(
            {
                "partner_id": self.other_customer.id,
                "purpose_id": self.env.ref("crm_core.consent_purpose_sms").id,
                "company_id": self.other_company.id,
            }
        )
        self.assertFalse(
            self.env["crm.consent"]
            .with_user(self.compliance)
            .search([("partner_id", "=", self.other_customer.id)])
        )
