/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

const SEGMENT = "Tour new customers";
const JOURNEY = "Tour welcome journey";
const STEP = "Wait two days";

/**
 * A marketer builds a segment of new customers, sees how many match while editing,
 * saves and refreshes it; then builds a journey on that segment with a first step.
 * Runs at desktop and at phone width: on a phone, header buttons live in the gear
 * menu, the stat buttons behind the bolt button, the app's menus in the side panel,
 * and many2one fields open a search dialog.
 */
registry.category("web_tour.tours").add("crm_marketing_segment_journey", {
    steps: () => [
        // The segment
        {
            content: "Create a segment",
            trigger: ".o_control_panel .o_list_button_add",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: `edit ${SEGMENT}`,
        },
        {
            content: "It is a segment of customers",
            trigger: ".o_field_widget[name=target_model] input[data-value='res.partner']:checked",
        },
        {
            content: "Keep the customers whose first invoice is recent",
            trigger:
                ".o_field_widget[name=lifecycle_ids] .form-check:contains('New Customer') input",
            run: "click",
        },
        {
            content: "The live count shows the two new customers before saving",
            trigger: ".o_field_widget[name=live_count]:text(2)",
        },
        {
            content: "Save the segment",
            trigger: ".o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "The segment is saved",
            trigger: ".o_form_saved",
        },
        ...stepUtils.statusbarButtonsSteps("Refresh", "Store the members now"),
        {
            content: "The refresh is dated (the field was empty until now)",
            trigger: ".o_field_widget[name=date_refresh]:not(:empty)",
        },
        // On a phone, the stat buttons are behind the bolt button.
        stepUtils.autoExpandMoreButtons(true),
        {
            content: "The refresh stored the two members",
            trigger: "button[name=action_view_members] .o_stat_value:text(2)",
        },

        // Off to the journeys, through the app's menu
        {
            isActive: ["desktop"],
            content: "Open the Automation menu",
            trigger: ".o_menu_sections [data-menu-xmlid='crm_marketing.crm_marketing_menu_automation']",
            run: "click",
        },
        {
            isActive: ["mobile"],
            content: "On a phone, the app's menus are in the side panel",
            trigger: ".o_main_navbar .o_menu_toggle",
            run: "click",
        },
        {
            content: "Open the journeys",
            trigger:
                ".o-dropdown--menu [data-menu-xmlid='crm_marketing.crm_marketing_journey_menu'], .o_app_menu_sidebar [data-menu-xmlid='crm_marketing.crm_marketing_journey_menu']",
            run: "click",
        },

        // The journey
        {
            content: "Create a journey",
            trigger: ".o_control_panel .o-kanban-button-new",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: `edit ${JOURNEY}`,
        },
        {
            content: "It walks contacts",
            trigger: ".o_field_widget[name=target_model] select:has(option:selected:contains('Contacts'))",
        },
        {
            isActive: ["desktop"],
            content: "Its audience is the segment",
            trigger: ".o_field_widget[name=segment_id] input",
            run: `edit ${SEGMENT}`,
        },
        {
            isActive: ["desktop"],
            content: "Pick the segment",
            trigger: `.o-autocomplete--dropdown-item:contains('${SEGMENT}')`,
            run: "click",
        },
        {
            isActive: ["mobile"],
            content: "On a phone, the segment is chosen in a search dialog",
            trigger: ".o_field_widget[name=segment_id] input",
            run: "click",
        },
        ...stepUtils.mobileKanbanSearchMany2X("Segment", SEGMENT),
        {
            content: "The segment is set",
            trigger: `.o_field_widget[name=segment_id] input:value(${SEGMENT})`,
        },
        {
            content: "Add the first step before saving the journey",
            trigger: ".o_field_widget[name=step_ids] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: "The step belongs to this journey: no journey to pick",
            trigger: ".modal .o_form_view:not(:has(.o_field_widget[name=journey_id]))",
        },
        {
            content: "Name the step",
            trigger: ".modal .o_field_widget[name=name] input",
            run: `edit ${STEP}`,
        },
        {
            content: "It waits",
            trigger: ".modal .o_field_widget[name=action_type] select",
            run: 'select "wait"',
        },
        {
            content: "for two days",
            trigger: ".modal .o_field_widget[name=delay_number] input",
            run: "edit 2",
        },
        {
            content: "Keep the step",
            trigger: ".modal .o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "The step is listed, to run right after entering the journey",
            trigger:
                "body:not(:has(.modal)) .o_field_widget[name=step_ids] .o_data_row:contains('Right after entering the journey'):contains('Wait')",
        },
        {
            content: "Save the journey with its step",
            trigger: ".o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "The journey is saved as a draft with its step",
            trigger: `.o_form_saved:has(.o_statusbar_status .o_arrow_button_current:contains('Draft')) .o_field_widget[name=step_ids] .o_data_row:contains('${STEP}')`,
        },
    ],
});
