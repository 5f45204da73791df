from odoo.tests import new_test_user, tagged

from .common import BrowserTourCase


@tagged("post_install", "-at_install")
class TestLogInteractionTour(BrowserTourCase):
    """A salesperson logs a visit from a contact, sees it in the 360° and timeline."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, "tour_salesman", groups="crm_core.group_crm_user"
        )
        company = cls.env["res.partner"].create(
            {"name": "Tour Retail Ltd", "is_company": True}
        )
        cls.contact = cls.env["res.partner"].create(
            {"name": "Dana Tour", "parent_id": company.id}
        )

    def _run(self, size):
        self.start_tour_at(
            size,
            f"/odoo/action-base.action_partner_form/{self.contact.id}",
            "crm_core_log_interaction",
            login=self.salesman.login,
        )
        interaction = self.env["crm.interaction"].search(
            [("partner_id", "=", self.contact.id)]
        )
        self.assertEqual(len(interaction), 1)
        self.assertEqual(interaction.name, "Walked the floor with Dana")
        self.assertEqual(interaction.channel, "visit")
        self.assertEqual(interaction.user_id, self.salesman)
        self.assertIn("quoted by Friday", interaction.description)

    def test_log_interaction_desktop(self):
        self._run("desktop")

    def test_log_interaction_phone(self):
        self._run("phone")
