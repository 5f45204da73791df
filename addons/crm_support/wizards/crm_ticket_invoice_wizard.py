from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmTicketInvoiceWizard(models.TransientModel):
    """Bill a ticket's time or a product: a draft invoice for accounting to post."""

    _name = "crm.ticket.invoice.wizard"
    _description = "Invoice Support"

    ticket_id = fields.Many2one("crm.ticket", required=True, ondelete="cascade")
    product_id = fields.Many2one(
        "product.product",
        required=True,
        domain=[("sale_ok", "=", True)],
        help="A service billed by the hour, or any product sold.",
    )
    quantity = fields.Float(
        string="Quantity (hours or units)", required=True, default=1.0
    )
    price_unit = fields.Float(
        string="Unit Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        digits="Product Price",
    )

    @api.depends("product_id")
    def _compute_price_unit(self):
        for wizard in self:
            wizard.price_unit = wizard.product_id.lst_price

    def action_create_invoice(self):
        self.ensure_one()
        if self.quantity <= 0:
            raise UserError(self.env._("Invoice a positive quantity."))
        ticket = self.ticket_id
        invoice = (
            self.env["account.move"]
            .sudo()
            .with_company(ticket.company_id)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": ticket.partner_id.commercial_partner_id.id,
                    "invoice_user_id": self.env.uid,
                    "invoice_origin": ticket.number,
                    "invoice_line_ids": [
                        fields.Command.create(
                            {
                                "product_id": self.product_id.id,
                                "name": f"{ticket.display_name}: "
                                f"{self.product_id.display_name}",
                                "quantity": self.quantity,
                                "price_unit": self.price_unit,
                            }
                        )
                    ],
                }
            )
        )
        ticket.sudo().invoice_ids = [fields.Command.link(invoice.id)]
        ticket.message_post(
            body=self.env._(
                "Draft invoice created for %(qty)s of %(product)s.",
                qty=self.quantity,
                product=self.product_id.display_name,
            ),
            subtype_xmlid="mail.mt_note",
        )
        return ticket.action_view_invoices()
