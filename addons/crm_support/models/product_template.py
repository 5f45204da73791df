from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ProductTemplate(models.Model):
    _inherit = "product.template"

    is_support_plan = fields.Boolean(
        string="Support Plan",
        help="Customers invoiced for this product get the SLA policies that name "
        "it, for the plan's duration from the invoice date.",
    )
    support_plan_months = fields.Integer(string="Plan Duration (months)", default=12)

    @api.constrains("is_support_plan", "support_plan_months")
    def _check_support_plan_months(self):
        for template in self.filtered("is_support_plan"):
            if template.support_plan_months <= 0:
                raise ValidationError(
                    self.env._(
                        "%(product)s: a support plan lasts at least one month.",
                        product=template.name,
                    )
                )
