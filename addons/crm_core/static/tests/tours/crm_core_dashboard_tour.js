/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openDashboardSteps } from "@crm_core/../tests/tours/dashboard_tour_helpers";

// A CRM manager opens the CRM dashboard: open pipeline, forecast, invoiced and customers at risk are figures.
registry.category("web_tour.tours").add("crm_core_dashboard", {
    steps: () => openDashboardSteps("CRM", ["Data!B2", "Data!B3", "Data!B4", "Data!B6"]),
});
