from odoo import fields
from odoo.tests import tagged

from odoo.addons.crm_core.tests.test_dashboard import DashboardCase

from .test_journey_common import JourneyCommon
from .test_roi_common import RoiCommon


@tagged("post_install", "-at_install")
class TestDashboard(JourneyCommon, RoiCommon, DashboardCase):
    """A marketing manager opens the Marketing dashboard: running journeys, their
    participants and goals, engagement and the campaign ROI of the year are
    computed from the records of the test. Marketers without the manager's access
    to margins do not see it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dashboard = cls.env.ref("crm_marketing.spreadsheet_dashboard_marketing")
        now = fields.Datetime.now()
        journey = cls.Journey.with_user(cls.marketer).create(
            {
                "name": "Dashboard welcome",
                "domain": repr([("id", "in", cls.people.ids)]),
                "goal_type": "domain",
                "goal_domain": repr([("function", "=", "CEO")]),
            }
        )
        cls.Step.with_user(cls.marketer).create(
            {
                "journey_id": journey.id,
                "name": "Wait a day",
                "action_type": "wait",
                "delay_number": 1,
            }
        )
        journey.action_start()
        journey._enrol()
        # One of them becomes CEO, the goal: checked as before each step.
        cls.people[2].function = "CEO"
        cls.Participant.search([("journey_id", "=", journey.id)])._check_stops()
        cls.env["crm.marketing.engagement.event"]._record(
            [
                {
                    "model": "res.partner",
                    "res_id": cls.people[0].id,
                    "event_type": "clicked",
                    "date": now,
                    "description": "clicked “Welcome”",
                }
            ]
        )
        # 10 machines sold 100 each, bought 40 each, for 200 of newsletter.
        cls._invoice_product(10, utm=cls.spring_utm, invoice_date=fields.Date.today())
        cls.env["crm.marketing.campaign.cost"].create(
            {
                "campaign_id": cls.campaign.id,
                "description": "Newsletter design",
                "amount": 200,
                "date": fields.Date.today(),
            }
        )

    def test_dashboard_figures_for_managers_only(self):
        reached = self.Participant.search(
            [("journey_id.name", "=", "Dashboard welcome"), ("goal_reached", "=", True)]
        )
        self.assertEqual(reached.mapped("res_id"), self.people[2].ids)
        self.assertEqual(self._campaign_figures(self.campaign)["roi"], 200.0)
        self.assertDashboardServes(self.dashboard, self.marketing_manager)
        self.assertDashboardHidden(self.dashboard, self.marketer)

    def test_dashboard_opens(self):
        self.open_dashboard("crm_marketing_dashboard", self.marketing_manager)
