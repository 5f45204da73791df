from pathlib import Path

from odoo.tests import TransactionCase, tagged

ADDONS_DIR = Path(__file__).resolve().parent.parent / "addons"


@tagged("post_install", "-at_install")
class TestSuiteInstalled(TransactionCase):
    def test_every_addon_is_installed(self):
        names = sorted(p.parent.name for p in ADDONS_DIR.glob("*/__manifest__.py"))
        self.assertTrue(names)
        installed = self.env["ir.module.module"].search(
            [("name", "in", names), ("state", "=", "installed")]
        )
        self.assertEqual(sorted(installed.mapped("name")), names)

    def test_customer_360_on_a_contact_of_a_company(self):
        # Cross-addon smoke test: crm_core's 360° reads Odoo's crm data.
        company = self.env["res.partner"].create(
            {"name": "Smoke Co", "is_company": True}
        )
        contact = self.env["res.partner"].create(
            {"name": "Smoke", "parent_id": company.id}
        )
        self.env["crm.interaction"].create({"name": "Call", "partner_id": contact.id})
        self.env["crm.lead"].create(
            {
                "name": "Deal",
                "type": "opportunity",
                "partner_id": contact.id,
                "expected_revenue": 250.0,
            }
        )
        self.assertEqual(company.customer_interaction_count, 1)
        self.assertEqual(company.customer_pipeline_amount, 250.0)
