from odoo import api, fields, models
from odoo.tools import SQL


class CrmLead(models.Model):
    _inherit = "crm.lead"

    interaction_ids = fields.One2many("crm.interaction", "lead_id")
    interaction_count = fields.Integer(compute="_compute_interaction_count")
    assignment_rule_id = fields.Many2one(
        "crm.assignment.rule", readonly=True, copy=False, index="btree_not_null"
    )
    assignment_reason = fields.Text(readonly=True, copy=False)
    duplicate_candidate_ids = fields.Many2many(
        "crm.lead",
        "crm_lead_duplicate_candidate_rel",
        "lead_id",
        "candidate_id",
        string="Possible Duplicates",
        readonly=True,
        copy=False,
        help="Open leads with the same email, phone or company when this one arrived.",
    )
    employee_count = fields.Integer(
        string="Employees",
        compute="_compute_employee_count",
        store=True,
        readonly=False,
        help="Headcount of the prospect's company; taken from the customer when known.",
    )
    # Indexed for the duplicate check at intake, which joins on it.
    phone_sanitized = fields.Char(index="btree_not_null")

    def _compute_interaction_count(self):
        counts = dict(
            self.env["crm.interaction"]._read_group(
                [("lead_id", "in", self.ids)], ["lead_id"], ["__count"]
            )
        )
        for lead in self:
            lead.interaction_count = counts.get(lead, 0)

    @api.depends("partner_id.commercial_partner_id.employee_count")
    def _compute_employee_count(self):
        for lead in self:
            # A size typed on the lead stays until the customer's size is known.
            if lead.partner_id.commercial_partner_id.employee_count:
                lead.employee_count = (
                    lead.partner_id.commercial_partner_id.employee_count
                )

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
        leads._flag_intake_duplicates()
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

    def _flag_intake_duplicates(self):
        """Link each new lead to the open leads with its email, phone or company.

        One statement for the whole batch: each match is an indexed equality join,
        so an import of thousands of leads costs the same single query.
        """
        if not self:
            return
        self.env["crm.lead"].flush_model(
            [
                "email_normalized",
                "phone_sanitized",
                "partner_id",
                "partner_name",
                "active",
            ]
        )
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        self.env.execute_query(
            SQL(
                """
            INSERT INTO crm_lead_duplicate_candidate_rel (lead_id, candidate_id)
            SELECT match.new_id, match.old_id
              FROM (
                    SELECT new.id AS new_id, old.id AS old_id
                      FROM crm_lead new
                      JOIN crm_lead old ON old.email_normalized = new.email_normalized
                     WHERE new.id IN %(ids)s
                     UNION
                    SELECT new.id, old.id
                      FROM crm_lead new
                      JOIN crm_lead old ON old.phone_sanitized = new.phone_sanitized
                     WHERE new.id IN %(ids)s
                     UNION
                    SELECT new.id, old.id
                      FROM crm_lead new
                      JOIN res_partner new_partner ON new_partner.id = new.partner_id
                      JOIN res_partner old_partner
                        ON old_partner.commercial_partner_id
                           = new_partner.commercial_partner_id
                      JOIN crm_lead old ON old.partner_id = old_partner.id
                     WHERE new.id IN %(ids)s
                     UNION
                    SELECT new.id, old.id
                      FROM crm_lead new
                      JOIN crm_lead old
                        ON lower(old.partner_name) = lower(new.partner_name)
                     WHERE new.id IN %(ids)s AND new.partner_name != ''
                   ) AS match
              JOIN crm_lead old ON old.id = match.old_id
             -- closed (won or lost) leads are history, not duplicates
             WHERE match.new_id != match.old_id
               AND old.active AND COALESCE(old.probability, 0) < 100
            ON CONFLICT DO NOTHING
            """,
                ids=tuple(self.ids),
            )
        )
        self.invalidate_recordset(["duplicate_candidate_ids"])

    def action_merge_duplicates(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm.action_merge_opportunities"
        )
        action["context"] = {
            "active_model": "crm.lead",
            "active_ids": (self | self.duplicate_candidate_ids).ids,
        }
        return action

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

    # Batch "assign_backlog" (crm.batch): open leads nobody owns yet.

    @api.model
    def _batch_assign_backlog_domain(self):
        # People who restricted processing are not routed until it is lifted.
        return [
            ("active", "=", True),
            ("user_id", "=", False),
            ("probability", "<", 100),
            "|",
            ("partner_id", "=", False),
            ("partner_id.privacy_restricted", "=", False),
        ]

    def _batch_assign_backlog_process(self):
        # sudo: the rules of every company; each keeps to its own leads.
        rules = self.env["crm.assignment.rule"].sudo().search([])
        self.env["crm.assignment.rule"]._assign_leads(self, rules)
