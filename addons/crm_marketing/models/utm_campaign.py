from odoo import api, fields, models
from odoo.exceptions import AccessError

MONEY_GROUPS = "crm_marketing.group_marketing_manager"
WINNER_ON_MARGIN = [("crm_invoiced_margin", "Highest Invoiced Margin")]


class UtmCampaign(models.Model):
    _inherit = "utm.campaign"

    # A/B tests can pick the mailing whose customers brought the most margin.
    ab_testing_winner_selection = fields.Selection(selection_add=WINNER_ON_MARGIN)
    ab_testing_sms_winner_selection = fields.Selection(selection_add=WINNER_ON_MARGIN)

    crm_cost_line_ids = fields.One2many(
        "crm.marketing.campaign.cost",
        "campaign_id",
        string="Cost Lines",
        groups=MONEY_GROUPS,
    )
    crm_currency_id = fields.Many2one(
        "res.currency", string="Cost Currency", compute="_compute_crm_currency_id"
    )
    # Each company pays its own SMS provider, in its own currency.
    crm_sms_unit_cost = fields.Float(
        string="Cost per SMS",
        company_dependent=True,
        digits="Product Price",
        groups=MONEY_GROUPS,
        help="What one SMS sent for this campaign costs the current company. The "
        "SMS are those sent by the campaign's SMS mailings whose responsible belongs "
        "to the company.",
    )
    crm_sms_count = fields.Integer(
        string="SMS Sent", compute="_compute_crm_roi_figures", groups=MONEY_GROUPS
    )
    crm_sms_cost = fields.Monetary(
        string="SMS Cost",
        currency_field="crm_currency_id",
        compute="_compute_crm_roi_figures",
        groups=MONEY_GROUPS,
    )
    crm_marketing_cost = fields.Monetary(
        string="Marketing Cost",
        currency_field="crm_currency_id",
        compute="_compute_crm_roi_figures",
        groups=MONEY_GROUPS,
        help="Cost lines plus SMS sent.",
    )
    crm_revenue = fields.Monetary(
        string="Invoiced Revenue",
        currency_field="crm_currency_id",
        compute="_compute_crm_roi_figures",
        groups=MONEY_GROUPS,
        help="Untaxed amount of the posted customer invoices attributed to the "
        "campaign, net of credit notes.",
    )
    crm_goods_cost = fields.Monetary(
        string="Cost of Goods Sold",
        currency_field="crm_currency_id",
        compute="_compute_crm_roi_figures",
        groups=MONEY_GROUPS,
        help="Product costs captured when those invoices were posted.",
    )
    crm_margin = fields.Monetary(
        string="Invoiced Margin",
        currency_field="crm_currency_id",
        compute="_compute_crm_roi_figures",
        groups=MONEY_GROUPS,
    )
    crm_roi = fields.Float(
        string="ROI (%)",
        compute="_compute_crm_roi_figures",
        digits=(16, 1),
        groups=MONEY_GROUPS,
        help="(Invoiced margin - marketing cost) / marketing cost, in the current "
        "company; 0 while the campaign has no cost.",
    )

    @api.depends_context("company")
    def _compute_crm_currency_id(self):
        self.crm_currency_id = self.env.company.currency_id

    @api.depends_context("company")
    def _compute_crm_roi_figures(self):
        groups = self.env["crm.marketing.roi.report"]._read_group(
            [
                ("campaign_id", "in", self._origin.ids),
                ("company_id", "=", self.env.company.id),
            ],
            ["campaign_id"],
            [
                "sms_count:sum",
                "sms_cost:sum",
                "marketing_cost:sum",
                "revenue:sum",
                "goods_cost:sum",
                "margin:sum",
            ],
        )
        figures_by_campaign = {campaign.id: figures for campaign, *figures in groups}
        for campaign in self:
            sms_count, sms_cost, cost, revenue, goods_cost, margin = (
                figures_by_campaign.get(
                    campaign._origin.id, (0, 0.0, 0.0, 0.0, 0.0, 0.0)
                )
            )
            campaign.crm_sms_count = sms_count
            campaign.crm_sms_cost = sms_cost
            campaign.crm_marketing_cost = cost
            campaign.crm_revenue = revenue
            campaign.crm_goods_cost = goods_cost
            campaign.crm_margin = margin
            campaign.crm_roi = 100 * (margin - cost) / cost if cost else 0.0

    def action_view_crm_roi(self):
        self.ensure_one()
        if not self.env.user.has_group(MONEY_GROUPS):
            raise AccessError(
                self.env._(
                    "Campaign ROI shows margins: ask an administrator for the CRM "
                    "Marketing Manager role to open it."
                )
            )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_marketing.crm_marketing_roi_report_action"
        )
        action["display_name"] = self.env._("ROI of %(campaign)s", campaign=self.title)
        action["domain"] = [("campaign_id", "=", self.id)]
        action["context"] = {"search_default_groupby_month": True}
        return action
