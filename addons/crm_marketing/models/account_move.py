from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        """Capture the cost of the goods sold when customer invoices and credit notes
        are posted, so that later changes of product costs do not rewrite their
        margin. Posting again after a reset to draft captures it again: the lines
        may have changed in between."""
        posted = super()._post(soft=soft)
        posted.filtered(
            lambda move: move.is_sale_document()
        ).line_ids._crm_capture_cost_at_posting()
        return posted
