/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * A portal customer sees their company's tickets (and no one else's), opens a new one,
 * and finds it in the list.
 */
registry.category("web_tour.tours").add("crm_support_portal_ticket", {
    url: "/my/tickets",
    steps: () => [
        {
            content: "A colleague's ticket is listed",
            trigger: "table:contains('Badge reader offline')",
        },
        {
            content: "Another company's ticket is not",
            trigger: "body:not(:contains('Rival invoice dispute'))",
        },
        {
            content: "Open a new ticket",
            trigger: "a[href='/my/tickets/new']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Say what it is about",
            trigger: "form[action='/my/tickets/new'] input[name=name]",
            run: "edit Scanner shows error E42",
        },
        {
            content: "Describe it",
            trigger: "form[action='/my/tickets/new'] textarea[name=description]",
            run: "edit It started after the update this morning.",
        },
        {
            content: "Send it",
            trigger: "form[action='/my/tickets/new'] button[type=submit]",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The ticket's page opens",
            trigger: ".card-header:contains('Scanner shows error E42')",
        },
        {
            content: "Back to the tickets",
            trigger: ".breadcrumb a[href='/my/tickets']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The new ticket is listed next to the colleague's",
            trigger: "table:contains('Scanner shows error E42'):contains('Badge reader offline')",
        },
        {
            content: "Still nothing of another company",
            trigger: "body:not(:contains('Rival invoice dispute'))",
        },
    ],
});
