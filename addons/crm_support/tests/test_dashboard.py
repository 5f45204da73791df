from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.crm_core.tests.test_dashboard import DashboardCase

from .common import CrmSupportCommon


@tagged("post_install", "-at_install")
class TestDashboard(CrmSupportCommon, DashboardCase):
    """A support manager opens the Support dashboard: the backlog, the open tickets
    past their SLA, the share of SLAs met and of satisfied customers are computed
    from the tickets of the test. Agents do not see it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dashboard = cls.env.ref("crm_support.spreadsheet_dashboard_support")
        now = fields.Datetime.now()
        # Opened a week ago and never answered: escalated as the SLA job does.
        cls.late = cls._ticket(
            name="Scanner offline", date_open=now - timedelta(days=7)
        )
        cls.late._sla_escalate()
        # Answered and solved at once, then rated 5 out of 5.
        cls.solved = cls._ticket(name="Toner empty", user_id=cls.agent_1.id)
        cls.solved._set_first_response(now)
        cls.solved.stage_id = cls.stage_solved
        cls.env["rating.rating"].create(
            {
                "res_model_id": cls.env["ir.model"]._get_id("crm.ticket"),
                "res_id": cls.solved.id,
                "partner_id": cls.contact_1.id,
                "rated_partner_id": cls.agent_1.partner_id.id,
                "rating": 5,
                "consumed": True,
            }
        )

    def test_dashboard_figures_for_managers_only(self):
        self.assertEqual(self.late.sla_status, "failed")
        self.assertEqual(self.solved.sla_status, "met")
        self.assertDashboardServes(self.dashboard, self.leader)
        self.assertDashboardHidden(self.dashboard, self.agent_1)

    def test_dashboard_opens(self):
        self.open_dashboard("crm_support_dashboard", self.leader)
