from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.crm_core.tests.test_dashboard import DashboardCase

from .common import HealthcareCommon


@tagged("post_install", "-at_install")
class TestDashboard(HealthcareCommon, DashboardCase):
    """The front desk opens the Clinic dashboard: the appointments of the year,
    completed visits, no-shows and the recalls and follow-ups to book are counted
    from the records of the test. Salespeople do not see it.

    The dashboard counts the current year by default and the browser runs on the
    real clock: the visits of the test happen a few hours ago, with a provider
    who has no working hours (always available)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dashboard = cls.env.ref("crm_healthcare.spreadsheet_dashboard_clinic")
        cls.provider_1.resource_calendar_id = False
        now = fields.Datetime.now().replace(second=0, microsecond=0)
        cls.done = cls._book(now - timedelta(hours=3), user=cls.front_desk)
        cls.done.action_check_in()
        cls.done.with_user(cls.clinician_1).action_done()
        cls.missed = cls._book(
            now - timedelta(hours=2), patient=cls.patient_2, user=cls.front_desk
        )
        cls.missed.with_user(cls.front_desk).action_no_show()
        template = cls.env["crm.healthcare.care.plan.template"].create(
            {
                "name": "Dashboard follow-up",
                "appointment_type_id": cls.consultation.id,
                "line_ids": [Command.create({"kind": "recall", "interval": 6})],
            }
        )
        cls.env["crm.healthcare.care.plan"].create(
            {
                "patient_id": cls.patient_1.id,
                "template_id": template.id,
                "appointment_id": cls.done.id,
                "provider_id": cls.provider_1.id,
                "date_start": fields.Date.today(),
                "step_ids": [
                    Command.create(
                        {
                            "kind": "follow_up",
                            "name": "Follow-up: Consultation",
                            "appointment_type_id": cls.consultation.id,
                            "due_date": fields.Date.today(),
                        }
                    )
                ],
            }
        )

    def test_dashboard_figures_for_staff_only(self):
        self.assertEqual((self.done.state, self.missed.state), ("done", "no_show"))
        self.assertDashboardServes(self.dashboard, self.front_desk)
        self.assertDashboardServes(self.dashboard, self.clinician_1)
        self.assertDashboardHidden(self.dashboard, self.salesman)

    def test_dashboard_opens(self):
        self.open_dashboard("crm_healthcare_dashboard", self.front_desk)
