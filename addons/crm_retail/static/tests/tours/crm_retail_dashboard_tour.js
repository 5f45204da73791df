/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openDashboardSteps } from "@crm_core/../tests/tours/dashboard_tour_helpers";

// A retail manager opens the Retail dashboard: members, points liability, points issued,
// recommendations, and the recommendations taken on confirmed orders with their revenue are figures.
registry.category("web_tour.tours").add("crm_retail_dashboard", {
    steps: () =>
        openDashboardSteps("Retail", [
            "Data!B2",
            "Data!B3",
            "Data!B4",
            "Data!B5",
            "Data!B6",
            "Data!B7",
        ]),
});
