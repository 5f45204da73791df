from odoo import models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def action_new_ticket(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New Ticket"),
            "res_model": "crm.ticket",
            "view_mode": "form",
            "context": {
                "default_partner_id": self.partner_id.id,
                "default_partner_email": self.email_from,
                "default_name": self.name,
                "default_channel": "phone",
            },
        }
