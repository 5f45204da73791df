/** @odoo-module **/

import { registry } from "@web/core/registry";

const CUSTOMER = "Bean There Ltd";
const PRODUCT = "Burr Grinder";
const REASON = "Customers who buy Espresso Beans also buy Burr Grinder";
const PAGE = ".o_form_view .o_notebook";

// Store staff open a customer's Customer 360° page: the loyalty tier, points,
// points expiring soon and the products to recommend are there, and the link
// opens the customer's card. The same steps at desktop and at phone width.
registry.category("web_tour.tours").add("crm_retail_card", {
    steps: () => [
        {
            content: "Open the Customer 360° page",
            trigger: `${PAGE} .nav-link:contains('Customer 360°')`,
            run: "click",
        },
        {
            content: "The tier is shown",
            trigger: `${PAGE} .o_field_widget[name=crm_retail_tier_id]:contains('Gold')`,
        },
        {
            content: "with the points balance",
            trigger: `${PAGE} .o_field_widget[name=crm_retail_points]:contains('300')`,
        },
        {
            content: "the points expiring soon and their date",
            trigger: `${PAGE} .o_field_widget[name=crm_retail_points_expiring]:contains('100'):visible`,
        },
        {
            content: "and the date they expire",
            trigger: `${PAGE} .d-flex:has(.o_field_widget[name=crm_retail_points_expiring]) .o_field_widget[name=crm_retail_next_expiry]:contains('/')`,
        },
        {
            content: "the last purchase",
            trigger: `${PAGE} .o_field_widget[name=crm_retail_last_purchase]:contains('/')`,
        },
        {
            content: "and the product to recommend, with its reason",
            trigger: [".o_data_row", ".o_kanban_record"]
                .map(
                    (row) =>
                        `${PAGE} .o_field_widget[name=crm_retail_recommendation_line_ids] ${row}:contains('${PRODUCT}'):contains('${REASON}')`
                )
                .join(", "),
        },
        {
            content: "Open the loyalty card",
            trigger: `${PAGE} button[name=action_view_crm_retail_card]`,
            run: "click",
        },
        {
            content: "The customer's card opens",
            trigger: `.o_form_view:has(.o_field_widget[name=partner_id] input:value(${CUSTOMER})) .o_field_widget[name=crm_tier_id]:contains('Gold')`,
        },
    ],
});
