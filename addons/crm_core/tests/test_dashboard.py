import json

from odoo import fields
from odoo.tests import tagged

from .common import BrowserTourCase, CrmCoreCommon

DASHBOARDS_URL = "/odoo/action-spreadsheet_dashboard.ir_actions_dashboard_action"


class DashboardCase(BrowserTourCase):
    """A spreadsheet dashboard of the CRM suite, opened in the Dashboards app.

    ``assertDashboardServes`` asks the server, as the user, for what each pivot,
    chart and list of the dashboard asks it: stored fields the user may read.
    ``open_dashboard`` runs the tour that opens it and reads what it computed.
    """

    def _dashboard_sources(self, dashboard):
        """(model, domain, groupby, aggregates, list columns, order) of each source."""
        data = json.loads(dashboard.spreadsheet_data)
        for pivot in data["pivots"].values():
            dimensions = [
                dim["fieldName"]
                + (f":{dim['granularity']}" if "granularity" in dim else "")
                for dim in pivot["rows"] + pivot["columns"]
            ]
            measures = [
                (m["fieldName"], m.get("aggregator"))
                for m in pivot["measures"]
                if m["fieldName"] != "__count"
            ]
            yield pivot["model"], pivot["domain"], dimensions, measures, None, None
        for sheet in data["sheets"]:
            for figure in sheet["figures"]:
                chart = figure["data"]
                if not chart["type"].startswith("odoo_"):
                    continue
                meta = chart["metaData"]
                measures = (
                    [(meta["measure"], None)] if meta["measure"] != "__count" else []
                )
                domain = chart["searchParams"]["domain"]
                yield meta["resModel"], domain, meta["groupBy"], measures, None, None
        for spreadsheet_list in data["lists"].values():
            order = ", ".join(
                f"{o['name']} {'asc' if o['asc'] else 'desc'}"
                for o in spreadsheet_list["orderBy"]
            )
            yield (
                spreadsheet_list["model"],
                spreadsheet_list["domain"],
                None,
                None,
                spreadsheet_list["columns"],
                order,
            )

    def assertDashboardServes(self, dashboard, user):
        """``user`` sees the dashboard, and reads every figure it is made of."""
        self.assertIn(
            dashboard, self.env["spreadsheet.dashboard"].with_user(user).search([])
        )
        sources = list(self._dashboard_sources(dashboard))
        self.assertTrue(sources)
        for model, domain, groupby, measures, columns, order in sources:
            Model = self.env[model].with_user(user)
            if columns is not None:
                Model.search_read(domain, columns, order=order, limit=10)
                continue
            specs = []
            for field, aggregator in measures:
                self.assertTrue(Model._fields[field].store, f"{model}.{field}")
                aggregator = aggregator or Model._fields[field].aggregator
                if Model._fields[field].type == "many2one" and not aggregator:
                    aggregator = "count_distinct"
                specs.append(f"{field}:{aggregator}")
            Model.read_group(domain, specs, groupby, lazy=False)

    def assertDashboardHidden(self, dashboard, user):
        self.assertNotIn(
            dashboard, self.env["spreadsheet.dashboard"].with_user(user).search([])
        )

    def open_dashboard(self, tour, user):
        self.start_tour_at("desktop", DASHBOARDS_URL, tour, login=user.login)


@tagged("post_install", "-at_install")
class TestDashboard(CrmCoreCommon, DashboardCase):
    """A CRM manager opens the CRM dashboard: the open pipeline, the forecast and
    the invoiced revenue of the year, the assignment speed and the customers at
    risk are computed from the records of the test. Salespeople do not see it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dashboard = cls.env.ref("crm_core.spreadsheet_dashboard_crm")
        Lead = cls.env["crm.lead"].with_context(crm_skip_assignment=True)
        Lead.create(
            {
                "name": "Dashboard renewal",
                "type": "opportunity",
                "partner_id": cls.customer.id,
                "user_id": cls.salesman_a.id,
                "team_id": cls.team_a.id,
                "expected_revenue": 12000,
                "probability": 40,
                "date_deadline": fields.Date.today(),
            }
        )
        cls._create_customer_invoice(cls.customer, 5000)
        # Scored by the daily churn job; set here as it would have been.
        cls.customer.sudo().write({"churn_score": 70, "churn_at_risk": True})

    def test_dashboard_figures_for_managers_only(self):
        self.assertDashboardServes(self.dashboard, self.manager)
        self.assertDashboardHidden(self.dashboard, self.salesman_a)

    def test_dashboard_opens(self):
        self.open_dashboard("crm_core_dashboard", self.manager)
