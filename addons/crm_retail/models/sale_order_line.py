from odoo import fields, models

from .crm_retail_recommendation import KINDS


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # Set by the suggest wizard on the lines it adds: the recommendations are
    # rebuilt daily, so what the customer took of them is kept on the line.
    crm_recommendation_kind = fields.Selection(
        KINDS,
        string="Recommended as",
        readonly=True,
        copy=False,
        # Few lines carry it, and the Retail dashboard filters on it.
        index="btree_not_null",
    )
