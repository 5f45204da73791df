from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..models.crm_retail_recommendation import KINDS

SUGGESTIONS = 10


class CrmRetailSuggestWizard(models.TransientModel):
    """The customer's recommendations that are in stock, to add to a quotation."""

    _name = "crm.retail.suggest.wizard"
    _description = "Suggest Products on a Quotation"

    order_id = fields.Many2one("sale.order", required=True, readonly=True)
    partner_id = fields.Many2one(related="order_id.partner_id")
    line_ids = fields.One2many(
        "crm.retail.suggest.wizard.line",
        "wizard_id",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )

    @api.depends("order_id")
    def _compute_line_ids(self):
        Recommendation = self.env["crm.retail.recommendation"]
        for wizard in self:
            order = wizard.order_id
            if not order:
                wizard.line_ids = [Command.clear()]
                continue
            recommendations = Recommendation._for_partners(
                order.partner_id,
                limit=SUGGESTIONS + len(order.order_line),
                company=order.company_id,
            )[order.partner_id.id]
            on_order = order.order_line.product_id
            suggested = [
                reco for reco in recommendations if reco.product_id not in on_order
            ]
            wizard.line_ids = [Command.clear()] + [
                Command.create(
                    {
                        "recommendation_id": reco.id,
                        "product_id": reco.product_id.id,
                        "kind": reco.kind,
                        "reason": reco.reason,
                    }
                )
                for reco in suggested[:SUGGESTIONS]
            ]

    def action_add(self):
        """Add the selected products to the quotation, quantity as chosen; each
        line keeps the kind of recommendation it came from."""
        self.ensure_one()
        order = self.order_id
        if order.state not in ("draft", "sent"):
            raise UserError(
                self.env._(
                    "%(order)s is no longer a quotation: suggest products on a "
                    "draft or sent quotation.",
                    order=order.display_name,
                )
            )
        selected = self.line_ids.filtered(lambda line: line.selected)
        if not selected:
            raise UserError(self.env._("Select the products to add to the quotation."))
        if any(line.quantity <= 0 for line in selected):
            raise UserError(self.env._("Give each selected product a quantity."))
        order.write(
            {
                "order_line": [
                    Command.create(
                        {
                            "product_id": line.product_id.id,
                            "product_uom_qty": line.quantity,
                            "crm_recommendation_kind": line.kind,
                        }
                    )
                    for line in selected
                ]
            }
        )
        return {"type": "ir.actions.act_window_close"}


class CrmRetailSuggestWizardLine(models.TransientModel):
    _name = "crm.retail.suggest.wizard.line"
    _description = "Suggested Product"

    wizard_id = fields.Many2one(
        "crm.retail.suggest.wizard", required=True, ondelete="cascade"
    )
    recommendation_id = fields.Many2one("crm.retail.recommendation", readonly=True)
    selected = fields.Boolean(string="Add")
    product_id = fields.Many2one("product.product", required=True, readonly=True)
    kind = fields.Selection(KINDS, readonly=True)
    reason = fields.Char(readonly=True)
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
