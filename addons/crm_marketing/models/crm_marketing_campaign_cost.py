from odoo import fields, models

MONEY_GROUPS = "crm_marketing.group_marketing_manager"


class CrmMarketingCampaignCost(models.Model):
    """A dated expense of a campaign (ads, print, agency), in the company's currency.

    The ROI report counts it in the month of its date, under its medium and source
    when they are set (an ad bought on one network), under the campaign alone
    otherwise.
    """

    _name = "crm.marketing.campaign.cost"
    _description = "Campaign Cost"
    _order = "date desc, id desc"
    _rec_name = "description"
    _check_company_auto = True

    campaign_id = fields.Many2one(
        "utm.campaign",
        string="Campaign",
        required=True,
        index=True,
        ondelete="cascade",
    )
    date = fields.Date(
        required=True,
        default=fields.Date.context_today,
        help="When the money was spent: the month the ROI report counts it in.",
    )
    description = fields.Char(required=True)
    amount = fields.Monetary(
        required=True,
        currency_field="currency_id",
        groups=MONEY_GROUPS,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    medium_id = fields.Many2one(
        "utm.medium",
        string="Medium",
        ondelete="set null",
        help="Leave empty when the cost is not tied to one medium.",
    )
    source_id = fields.Many2one(
        "utm.source",
        string="Source",
        ondelete="set null",
        help="Leave empty when the cost is not tied to one source.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
