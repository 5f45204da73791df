/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * A salesperson on a contact logs a visit from the Customer 360° tab, sees the tab count
 * it, then finds it in the customer's timeline. Runs at desktop and at phone width.
 */
registry.category("web_tour.tours").add("crm_core_log_interaction", {
    steps: () => [
        {
            content: "Open the Customer 360° tab",
            trigger: ".o_notebook .nav-link:contains('Customer 360°')",
            run: "click",
        },
        {
            content: "No interaction with this customer yet",
            trigger: ".o_field_widget[name=customer_interaction_count]:contains('0')",
        },
        {
            content: "Log an interaction",
            trigger: "button[name=action_log_interaction]",
            run: "click",
        },
        {
            content: "Say what it was about",
            trigger: ".modal .o_field_widget[name=name] input",
            run: "edit Walked the floor with Dana",
        },
        {
            content: "It was a visit",
            trigger: ".modal .o_field_widget[name=channel] input[data-value=visit]",
            run: "click",
        },
        {
            content: "Note what was agreed",
            trigger: ".modal .o_field_widget[name=description] .odoo-editor-editable",
            run: "editor Second line to be quoted by Friday.",
        },
        {
            content: "Save the interaction",
            trigger: ".modal .o_form_button_save:enabled",
            run: "click",
        },
        {
            content: "The dialog closes and the 360° counts the interaction",
            trigger:
                "body:not(:has(.modal)) .o_field_widget[name=customer_interaction_count]:contains('1')",
        },
        {
            content: "The 360° shows when we last met them",
            trigger: ".o_field_widget[name=customer_last_interaction_date]:not(:empty)",
        },
        {
            content: "Open the customer's timeline",
            trigger: ".o_notebook button[name=action_view_customer_interactions]:contains('Timeline')",
            run: "click",
        },
        {
            content: "The visit is on the timeline",
            trigger: ".o_kanban_record:contains('Walked the floor with Dana')",
        },
    ],
});
