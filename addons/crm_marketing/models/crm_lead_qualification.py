from odoo import fields, models

MQL_THRESHOLD_PARAM, MQL_THRESHOLD_DEFAULT = "crm_marketing.mql_threshold", 40.0
MQL_ROUTE_PARAM = "crm_marketing.mql_route"


class CrmLead(models.Model):
    """Marketing qualification: a lead whose engagement score reached the
    threshold, kept beside Odoo's predictive probability, not replacing it."""

    _inherit = "crm.lead"

    crm_mql = fields.Boolean(
        string="Marketing Qualified",
        readonly=True,
        copy=False,
        help="Set when the engagement score reached the qualification threshold; it "
        "stays set when the score fades afterwards.",
    )
    crm_mql_date = fields.Datetime(
        string="Marketing Qualified On", readonly=True, copy=False
    )

    def _crm_engagement_event_domain(self):
        self.ensure_one()
        if not self.partner_id:
            return [("lead_id", "=", self.id)]
        return [
            "|",
            ("lead_id", "=", self.id),
            "&",
            ("lead_id", "=", False),
            ("partner_id", "=", self.partner_id.id),
        ]

    def _crm_engagement_qualify(self):
        """Mark the open leads of ``self`` whose score reached the threshold as
        marketing-qualified; route the unassigned ones when the setting asks.

        Returns the leads qualified now. One search and one write per batch.
        """
        # sudo: system parameters (threshold, routing switch), read only.
        param = self.env["ir.config_parameter"].sudo().get_param
        threshold = float(param(MQL_THRESHOLD_PARAM, MQL_THRESHOLD_DEFAULT))
        if threshold <= 0 or not self:
            return self.browse()
        # sudo: qualification follows the score, whoever triggered the recompute.
        qualified = self.sudo().search(
            [
                ("id", "in", self.ids),
                ("crm_mql", "=", False),
                ("crm_engagement_score", ">=", threshold),
                ("probability", "<", 100),
            ]
        )
        if not qualified:
            return qualified
        qualified.write({"crm_mql": True, "crm_mql_date": fields.Datetime.now()})
        unassigned = qualified.filtered(lambda lead: not lead.user_id)
        if unassigned and param(MQL_ROUTE_PARAM):
            # sudo: routing applies the configured rules, as lead creation does.
            rules = self.env["crm.assignment.rule"].sudo()
            rules = rules.search(
                [
                    (
                        "company_id",
                        "in",
                        (unassigned.company_id | self.env.companies).ids,
                    )
                ]
            )
            if rules:
                rules._assign_leads(unassigned, rules)
        return qualified
