from datetime import date, datetime

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged

from odoo.addons.sms.tests.common import SMSCase

from .test_roi_common import RoiCommon


@tagged("post_install", "-at_install")
class TestRoiReport(RoiCommon, SMSCase):
    """ROI = (margin - marketing cost) / marketing cost, per campaign and month, with
    cost lines and SMS sent; who may read it; which company's figures it shows."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # March: 3 machines (margin 180) against 50 of ads.
        # April: 1 machine (margin 60) against 30 of ads and 4 SMS at 0.25.
        cls._invoice_product(3, utm=cls.spring_utm, invoice_date=date(2026, 3, 10))
        cls._invoice_product(1, utm=cls.spring_utm, invoice_date=date(2026, 4, 12))
        cls.campaign.with_user(cls.marketing_manager).write(
            {
                "crm_sms_unit_cost": 0.25,
                "crm_cost_line_ids": [
                    Command.create(
                        {
                            "date": date(2026, 3, 2),
                            "description": "Social ads",
                            "amount": 50.0,
                        }
                    ),
                    Command.create(
                        {
                            "date": date(2026, 4, 1),
                            "description": "Flyers",
                            "amount": 30.0,
                            "medium_id": cls.medium_newsletter.id,
                        }
                    ),
                ],
            }
        )
        cls.texted = cls.env["res.partner"].create(
            [
                {"name": f"Texted {index}", "phone": f"+3245600000{index}"}
                for index in range(4)
            ]
        )
        cls._grant(cls.texted, cls.purpose_sms)
        cls.sms_mailing = cls.env["mailing.mailing"].create(
            {
                "name": "Spring SMS",
                "subject": "Spring SMS",
                "mailing_type": "sms",
                "body_plaintext": "Spring sale: 20% off espresso machines.",
                "mailing_model_id": cls.env.ref("base.model_res_partner").id,
                "mailing_domain": repr([("id", "in", cls.texted.ids)]),
                "campaign_id": cls.campaign.id,
                "sms_force_send": True,
                "user_id": cls.marketer.id,
            }
        )

    def _send_spring_sms(self):
        with (
            self.mockSMSGateway(),
            self.mock_datetime_and_now(datetime(2026, 4, 5, 9, 0)),
        ):
            self.sms_mailing.with_user(self.marketer).action_send_sms()
        traces = self.sms_mailing.mailing_trace_ids
        self.assertEqual(len(traces), 4)
        self.assertEqual(set(traces.mapped("trace_status")), {"pending"})

    def test_roi_per_campaign_and_month(self):
        self._send_spring_sms()
        report = self.env["crm.marketing.roi.report"].with_user(self.marketing_manager)
        by_month = {
            month.strftime("%Y-%m"): (margin, cost, round(roi, 3))
            for month, margin, cost, roi in report._read_group(
                [("campaign_id", "=", self.campaign.id)],
                ["date:month"],
                ["margin:sum", "marketing_cost:sum", "roi:sum"],
            )
        }
        self.assertEqual(
            by_month,
            {
                # (180 - 50) / 50
                "2026-03": (180.0, 50.0, 260.0),
                # (60 - 30 - 4 * 0.25) / 31
                "2026-04": (60.0, 31.0, 93.548),
            },
        )
        # The campaign's ROI is on its totals, (240 - 81) / 81, not the average of
        # its months' ratios (176.774).
        figures = self._campaign_figures(self.campaign)
        self.assertEqual(figures["margin"], 240.0)
        self.assertEqual(figures["marketing_cost"], 81.0)
        self.assertAlmostEqual(figures["roi"], 196.296, places=3)
        # The pivot and graph views read the same through read_group.
        [pivot] = report.read_group(
            [("campaign_id", "=", self.campaign.id)],
            ["margin:sum", "marketing_cost:sum", "roi:sum"],
            ["campaign_id"],
        )
        self.assertAlmostEqual(pivot["roi"], 196.296, places=3)
        # The SMS cost sits under the SMS medium and the mailing's source.
        [(sms_count, sms_cost)] = report._read_group(
            [
                ("medium_id", "=", self.sms_mailing.medium_id.id),
                ("source_id", "=", self.sms_mailing.source_id.id),
            ],
            [],
            ["sms_count:sum", "sms_cost:sum"],
        )
        self.assertEqual((sms_count, sms_cost), (4, 1.0))

    def test_campaign_form_figures(self):
        self._send_spring_sms()
        campaign = self.campaign.with_user(self.marketing_manager)
        self.assertRecordValues(
            campaign,
            [
                {
                    "crm_sms_unit_cost": 0.25,
                    "crm_sms_count": 4,
                    "crm_sms_cost": 1.0,
                    "crm_marketing_cost": 81.0,
                    "crm_revenue": 400.0,
                    "crm_goods_cost": 160.0,
                    "crm_margin": 240.0,
                }
            ],
        )
        self.assertEqual(campaign.crm_roi, 196.3)
        action = campaign.action_view_crm_roi()
        self.assertEqual(action["res_model"], "crm.marketing.roi.report")
        self.assertEqual(action["domain"], [("campaign_id", "=", self.campaign.id)])

    def test_margins_refused_to_marketer_salesman_and_portal(self):
        for user in (self.marketer, self.salesman_a, self.portal_user):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.env["crm.marketing.roi.report"].with_user(user).search([])
        for user in (self.marketer, self.salesman_a):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.campaign.with_user(user).read(["crm_margin"])
                with self.assertRaises(AccessError):
                    self.env["crm.marketing.campaign.cost"].with_user(user).create(
                        {
                            "campaign_id": self.campaign.id,
                            "description": "Sneaked cost",
                            "amount": 1.0,
                        }
                    )
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.campaign.with_user(user).action_view_crm_roi()
        # The marketer still edits the campaign in its form, without its money.
        with Form(self.campaign.with_user(self.marketer)) as form:
            self.assertNotIn("crm_margin", form._view["fields"])
            form.title = "Spring Sale 2026"
        self.assertEqual(self.campaign.title, "Spring Sale 2026")

    def test_cost_lines_through_the_campaign_form(self):
        with Form(self.campaign.with_user(self.marketing_manager)) as form:
            with form.crm_cost_line_ids.new() as line:
                line.date = date(2026, 4, 20)
                line.description = "Radio spot"
                line.amount = 19.0
        campaign = self.campaign.with_user(self.marketing_manager)
        self.assertEqual(campaign.crm_marketing_cost, 99.0)
        self.assertEqual(campaign.crm_cost_line_ids[0].company_id, self.company)
        # (240 - 99) / 99
        self.assertEqual(campaign.crm_roi, 142.4)

    def test_other_company_figures_stay_in_their_company(self):
        self._invoice_product(
            5,
            utm=self.spring_utm,
            invoice_date=date(2026, 3, 20),
            company=self.other_company,
        )
        self.env["crm.marketing.campaign.cost"].with_company(self.other_company).create(
            {
                "campaign_id": self.campaign.id,
                "date": date(2026, 3, 20),
                "description": "Other company's ads",
                "amount": 100.0,
            }
        )
        # The marketing manager of this company sees none of it.
        report = self.env["crm.marketing.roi.report"].with_user(self.marketing_manager)
        self.assertEqual(
            report.search([("campaign_id", "=", self.campaign.id)]).company_id,
            self.company,
        )
        figures = self._campaign_figures(self.campaign)
        self.assertEqual(figures["margin"], 240.0)
        self.assertEqual(figures["marketing_cost"], 80.0)
        self.assertEqual(
            len(self.campaign.with_user(self.marketing_manager).crm_cost_line_ids), 2
        )
        # In the other company: 5 machines at its own cost of 10, against its ads.
        other = self._campaign_figures(
            self.campaign, user=self.env.user, company=self.other_company
        )
        self.assertEqual(other["margin"], 450.0)
        self.assertEqual(other["marketing_cost"], 100.0)
        self.assertAlmostEqual(other["roi"], 350.0)
