from collections import defaultdict

from odoo import fields, models
from odoo.tools import SQL, split_every


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    crm_cost_at_posting = fields.Monetary(
        string="Cost at Posting",
        currency_field="company_currency_id",
        readonly=True,
        copy=False,
        groups="account.group_account_readonly,crm_marketing.group_marketing_manager",
        help="Cost of the goods sold on this line, captured when the invoice was "
        "posted: the product's cost in the invoice's company times the quantity in "
        "the product's unit. Signed like the revenue: positive on invoices, negative "
        "on credit notes. Later changes of the product's cost leave it as it is; "
        "resetting the invoice to draft and posting it again captures it again.",
    )

    def _crm_capture_cost_at_posting(self):
        """Store the cost of the product lines of customer invoices and credit notes
        in ``self``, as it is now.

        A credit note line takes the unit cost its reversed invoice captured for the
        same product (the goods come back at the cost they left at); other lines
        take the product's current cost. Queries do not grow with the number of
        lines: one read of the products' costs per company, one of the reversed
        invoices' lines, one UPDATE per thousand lines.
        """
        # sudo: the cost is captured whoever posts (a billing clerk who may not read
        # product costs, a portal checkout); it is stored on the line, never returned.
        lines = self.sudo().filtered(
            lambda line: (
                line.display_type == "product"
                and line.product_id
                and line.move_id.move_type in ("out_invoice", "out_refund")
            )
        )
        if not lines:
            return
        unit_cost_by_origin = self._crm_origin_unit_costs(lines)
        cost_by_line = {}
        for company, company_lines in lines.grouped("company_id").items():
            products = company_lines.product_id.with_company(company)
            unit_cost_by_product = {
                product.id: product.standard_price for product in products
            }
            for line in company_lines:
                move = line.move_id
                quantity = line._crm_quantity_in_product_uom()
                unit_cost = unit_cost_by_origin.get(
                    (move.reversed_entry_id.id, line.product_id.id),
                    unit_cost_by_product[line.product_id.id],
                )
                sign = -1 if move.move_type == "out_refund" else 1
                cost_by_line[line.id] = company.currency_id.round(
                    sign * unit_cost * quantity
                )
        lines.flush_recordset(["crm_cost_at_posting"])
        # Raw SQL: an ORM write on posted lines would run the journal entry's
        # synchronisation and checks for each distinct amount; this column is a
        # snapshot that nothing depends on.
        for batch in split_every(1000, cost_by_line.items()):
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE account_move_line AS line
                       SET crm_cost_at_posting = captured.cost
                      FROM (VALUES %s) AS captured(id, cost)
                     WHERE line.id = captured.id
                    """,
                    SQL(", ").join(
                        SQL("(%s, %s::numeric)", line_id, cost)
                        for line_id, cost in batch
                    ),
                )
            )
        lines.invalidate_recordset(["crm_cost_at_posting"])

    def _crm_origin_unit_costs(self, lines):
        """Return {(reversed invoice id, product id): unit cost} captured by the
        invoices that the credit notes among ``lines`` reverse."""
        origin_lines = lines.move_id.reversed_entry_id.invoice_line_ids.filtered(
            lambda line: line.display_type == "product" and line.product_id
        )
        totals = defaultdict(lambda: [0.0, 0.0])
        for line in origin_lines:
            # Costs are signed like revenue: a reversed credit note's are negative.
            sign = -1 if line.move_id.move_type == "out_refund" else 1
            total = totals[line.move_id.id, line.product_id.id]
            total[0] += sign * line.crm_cost_at_posting
            total[1] += line._crm_quantity_in_product_uom()
        return {
            key: cost / quantity for key, (cost, quantity) in totals.items() if quantity
        }

    def _crm_quantity_in_product_uom(self):
        self.ensure_one()
        if not self.product_uom_id or self.product_uom_id == self.product_id.uom_id:
            return self.quantity
        return self.product_uom_id._compute_quantity(
            self.quantity, self.product_id.uom_id, round=False, raise_if_failure=False
        )
