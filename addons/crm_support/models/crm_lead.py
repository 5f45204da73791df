from odoo import models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def action_new_ticket(self):
        self.ensure_one()
        return self.env["crm.ticket"]._action_new(
            {
                "partner_id": self.partner_id.id,
                "partner_email": self.email_from,
                "name": self.name,
            }
        )
