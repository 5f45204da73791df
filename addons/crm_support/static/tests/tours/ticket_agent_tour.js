/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * An agent opens a ticket, answers the customer from the chatter and solves it.
 * On a phone the header buttons live in the gear menu: statusbarButtonsSteps opens it.
 */
registry.category("web_tour.tours").add("crm_support_agent_answers_and_solves", {
    steps: () => [
        {
            content: "The ticket is open with the customer's words",
            trigger: ".o_form_view .o_field_widget[name=description]:contains('paper tray')",
        },
        {
            content: "Answer the customer",
            trigger: ".o-mail-Chatter-sendMessage",
            run: "click",
        },
        {
            content: "Write the answer",
            trigger: ".o-mail-Composer-input",
            run: "edit Please reseat the paper tray and print again.",
        },
        {
            content: "Send it",
            trigger: ".o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "The answer is in the ticket's history",
            trigger: ".o-mail-Message:contains('reseat the paper tray')",
        },
        {
            isActive: ["desktop"],
            content: "On a desktop, Solve is in the form's header",
            trigger: ".o_statusbar_buttons button[name=action_solve]",
        },
        {
            isActive: ["mobile"],
            content: "On a phone, header buttons move to the gear menu",
            trigger: ".o_form_view:not(:has(.o_statusbar_buttons button[name=action_solve]))",
        },
        ...stepUtils.statusbarButtonsSteps("Solve", "Solve the ticket"),
        {
            content: "The ticket is solved",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Solved')",
        },
    ],
});
