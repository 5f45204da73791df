/** @odoo-module **/

import { registry } from "@web/core/registry";
import { openDashboardSteps } from "@crm_core/../tests/tours/dashboard_tour_helpers";

// The front desk opens the Clinic dashboard: appointments, no-shows and recalls to book are figures.
registry.category("web_tour.tours").add("crm_healthcare_dashboard", {
    steps: () => openDashboardSteps("Clinic", ["Data!B2", "Data!B3", "Data!B4", "Data!B5", "Data!B6"]),
});
