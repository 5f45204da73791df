from odoo import fields, models


class MailingMailing(models.Model):
    """Invoiced margin of a mailing, so that an A/B test can pick its winner on it
    ("Highest Invoiced Margin" on the campaign)."""

    _inherit = "mailing.mailing"

    crm_invoiced_margin = fields.Float(
        string="Invoiced Margin",
        compute="_compute_crm_invoiced_margin",
        groups="crm_marketing.group_marketing_manager",
        help="Margin of the posted customer invoices attributed to this mailing's "
        "source (within its campaign when they name one), net of credit notes, in "
        "the company of the mailing's responsible.",
    )

    def _compute_crm_invoiced_margin(self):
        # sudo: an A/B test's winner is chosen for marketers on margins they may not
        # read; each mailing gets the figure of its own source and company only.
        groups = (
            self.env["crm.marketing.roi.report"]
            .sudo()
            ._read_group(
                [("source_id", "in", self.source_id.ids)],
                ["source_id", "campaign_id", "company_id"],
                ["margin:sum"],
            )
        )
        for mailing in self:
            company = mailing.user_id.company_id or self.env.company
            mailing.crm_invoiced_margin = sum(
                margin
                for source, campaign, group_company, margin in groups
                if source == mailing.source_id
                and campaign in (mailing.campaign_id, campaign.browse())
                and group_company == company
            )
