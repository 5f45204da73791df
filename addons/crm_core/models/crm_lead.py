from odoo import api, fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    interaction_ids = fields.One2many("crm.interaction", "lead_id")
    interaction_count = fields.Integer(compute="_compute_interaction_count")
    assignment_rule_id = fields.Many2one(
        "crm.assignment.rule", readonly=True, copy=False, index="btree_not_null"
    )
    assignment_reason = fields.Text(readonly=True, copy=False)

    def _compute_interaction_count(self):
        counts = dict(
            self.env["crm.interaction"]._read_group(
                [("lead_id", "in", self.ids)], ["lead_id"], ["__count"]
            )
        )
        for lead in self:
            lead.interaction_count = counts.get(lead, 0)

    @api.model_create_multi
    def create(self, vals_list):
        # Leads that arrive without an owner (web form, mail alias, import, API) go
        # through the assignment rules rather than to whoever created them.
        rules = self.env["crm.assignment.rule"].sudo()
        if not self.env.context.get("crm_skip_assignment"):
            rules = rules.search([("company_id", "in", self.env.companies.ids)])
        route = bool(rules)
        if route:
            vals_list = [{"user_id": False, **vals} for vals in vals_list]
        leads = super().create(vals_list)
        if route:
            rules._assign_leads(leads.filtered(lambda lead: not lead.user_id), rules)
        return leads

    def write(self, vals):
        res = super().write(vals)
        if vals.get("partner_id"):
            # Interactions logged before the lead had a customer now belong to it.
            self.env["crm.interaction"].sudo().search(
                [("lead_id", "in", self.ids), ("partner_id", "=", False)]
            ).partner_id = vals["partner_id"]
        return res

    def unlink(self):
        # Interactions of a lead without customer would be left pointing nowhere.
        self.env["crm.interaction"].sudo().search(
            [("lead_id", "in", self.ids), ("partner_id", "=", False)]
        ).unlink()
        return super().unlink()

    def action_log_interaction(self):
        self.ensure_one()
        return self.env["crm.interaction"]._action_log(
            {
                "default_lead_id": self.id,
                "default_partner_id": self.partner_id.id,
                "default_team_id": self.team_id.id,
            }
        )

    def action_view_interactions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_core.crm_interaction_action_timeline"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {
            "default_lead_id": self.id,
            "default_partner_id": self.partner_id.id,
        }
        return action
