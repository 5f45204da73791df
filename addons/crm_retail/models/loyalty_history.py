from odoo import fields, models


class LoyaltyHistory(models.Model):
    _inherit = "loyalty.history"

    crm_kind = fields.Selection(
        [
            ("earn", "Earned on an invoice"),
            ("reverse", "Invoice reset or cancelled"),
            ("refund", "Taken back by a credit note"),
            ("redeem", "Redeemed on an invoice"),
            ("release", "Given back"),
            ("expire", "Expired"),
        ],
        string="Movement",
        readonly=True,
    )

    def _get_order_portal_url(self):
        if self.order_id and self.order_model == "account.move":
            return self.env["account.move"].browse(self.order_id).get_portal_url()
        return super()._get_order_portal_url()
