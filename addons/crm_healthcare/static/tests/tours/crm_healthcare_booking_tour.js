/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const PATIENT = "Jordan Settings";
const TYPE = "Consultation";

// The front desk books a patient's next free consultation from the patient,
// then confirms it; the same steps at desktop and at phone width.
registry.category("web_tour.tours").add("crm_healthcare_booking", {
    steps: () => [
        {
            content: "Open the patient",
            trigger: `.o_data_row:contains('${PATIENT}') .o_data_cell, .o_kanban_record:contains('${PATIENT}')`,
            run: "click",
        },
        // On a phone, Odoo moves the header buttons into the gear menu.
        ...stepUtils.statusbarButtonsSteps("Book", "Book from the patient", ".o_form_view"),
        {
            isActive: ["desktop"],
            content: "Choose the appointment type",
            trigger: ".modal .o_field_widget[name=appointment_type_id] input",
            run: `edit ${TYPE}`,
        },
        {
            isActive: ["desktop"],
            content: "Pick the consultation",
            trigger: `.o-autocomplete--dropdown-item:contains('${TYPE}')`,
            run: "click",
        },
        {
            isActive: ["mobile"],
            content: "On a phone, the type is chosen in a search dialog",
            trigger: ".modal .o_field_widget[name=appointment_type_id] input",
            run: "click",
        },
        ...stepUtils.mobileKanbanSearchMany2X("Type", TYPE),
        {
            content: "The type is set",
            trigger: `.modal .o_field_widget[name=appointment_type_id] input:value(${TYPE})`,
        },
        {
            content: "Find the free slots",
            trigger: ".modal button[name=action_find_slots]",
            run: "click",
        },
        {
            content: "Book the first free slot",
            trigger: ".modal .o_field_widget[name=slot_ids] .o_data_row:first button[name=action_book]",
            run: "click",
        },
        {
            content: "The appointment is booked",
            trigger:
                "body:not(:has(.modal)) .o_form_view .o_statusbar_status .o_arrow_button_current:contains('Booked')",
        },
        {
            content: "for this patient, with one of the clinic's providers",
            trigger: `.o_form_view:has(.o_field_widget[name=patient_id] input:value(${PATIENT})):has(.o_field_widget[name=appointment_type_id] input:value(${TYPE})) .o_field_widget[name=provider_id] input:value(/^Dr (Ada Lane|Ben Oak)$/)`,
        },
        ...stepUtils.statusbarButtonsSteps("Confirm", "Confirm it"),
        {
            content: "The appointment is confirmed",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains('Confirmed')",
        },
    ],
});
