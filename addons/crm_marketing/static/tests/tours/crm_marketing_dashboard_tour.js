/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openDashboardSteps } from "@crm_core/../tests/tours/dashboard_tour_helpers";

// A marketing manager opens the Marketing dashboard: journeys, participants, goals, engagement and ROI are figures.
registry.category("web_tour.tours").add("crm_marketing_dashboard", {
    steps: () => openDashboardSteps("Marketing", ["Data!B2", "Data!B3", "Data!B4", "Data!B5", "Data!B6"]),
});
