/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openDashboardSteps } from "@crm_core/../tests/tours/dashboard_tour_helpers";

// A support manager opens the Support dashboard: backlog, breached SLAs, SLA met and satisfaction are figures.
registry.category("web_tour.tours").add("crm_support_dashboard", {
    steps: () => openDashboardSteps("Support", ["Data!B2", "Data!B3", "Data!B4", "Data!B5", "Data!B6"]),
});
