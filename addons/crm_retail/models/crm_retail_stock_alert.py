import logging

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class CrmRetailStockAlert(models.Model):
    """Tell a customer when a product is back in stock in their warehouse.

    Store staff create the alerts customers ask for; the daily recommendation
    refresh creates one for a customer who is due to buy again a product they
    bought and that is out of stock. One waiting alert per customer, product and
    company (a partial unique index). A cron emails the waiting alerts whose
    product has free quantity again, once.
    """

    _name = "crm.retail.stock.alert"
    _description = "Back-in-Stock Alert"
    _order = "create_date desc, id desc"
    _rec_name = "product_id"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    partner_email = fields.Char(related="partner_id.email", string="Email")
    product_id = fields.Many2one(
        "product.product",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
        domain="[('is_storable', '=', True)]",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        required=True,
        check_company=True,
        default=lambda self: self._default_warehouse_id(),
        help="The alert is sent when the product has free quantity in this warehouse.",
    )
    source = fields.Selection(
        [("asked", "Asked"), ("bought", "Bought Before")],
        required=True,
        default="asked",
        readonly=True,
        help="Asked: the customer asked to be told. Bought before: the customer is "
        "due to buy it again and it was out of stock.",
    )
    state = fields.Selection(
        [("waiting", "Waiting"), ("sent", "Sent"), ("cancelled", "Cancelled")],
        required=True,
        default="waiting",
        readonly=True,
    )
    date_sent = fields.Datetime(readonly=True)
    cancel_reason = fields.Char(readonly=True)

    def init(self):
        # One waiting alert per customer, product and company: the refresh inserts
        # with ON CONFLICT on this index, so it must be exactly this one.
        self.env.cr.execute(
            SQL(
                """
                CREATE UNIQUE INDEX IF NOT EXISTS crm_retail_stock_alert_waiting_uniq
                    ON crm_retail_stock_alert (partner_id, product_id, company_id)
                 WHERE state = 'waiting'
                """
            )
        )

    def _default_warehouse_id(self):
        return self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_one_waiting(
            [
                (
                    vals.get("partner_id"),
                    vals.get("product_id"),
                    vals.get("company_id") or self.env.company.id,
                )
                for vals in vals_list
                if vals.get("state", "waiting") == "waiting"
            ]
        )
        return super().create(vals_list)

    def write(self, vals):
        if {"partner_id", "product_id", "company_id", "state"} & set(vals):
            self._check_one_waiting(
                [
                    (
                        vals.get("partner_id", alert.partner_id.id),
                        vals.get("product_id", alert.product_id.id),
                        vals.get("company_id", alert.company_id.id),
                    )
                    for alert in self
                    if vals.get("state", alert.state) == "waiting"
                ],
                exclude=self,
            )
        return super().write(vals)

    def _check_one_waiting(self, keys, exclude=None):
        """Refuse a second waiting alert for the same customer, product and
        company, with a message (the unique index would only say "duplicate")."""
        if not keys:
            return
        duplicates = {key for key in keys if keys.count(key) > 1}
        domain = [
            ("state", "=", "waiting"),
            ("partner_id", "in", [key[0] for key in keys]),
            ("product_id", "in", [key[1] for key in keys]),
            ("company_id", "in", [key[2] for key in keys]),
        ]
        if exclude:
            domain.append(("id", "not in", exclude.ids))
        # sudo: a waiting alert of another user's customer is a duplicate too;
        # only the names already given by the caller leave this method.
        for alert in self.sudo().search(domain):
            key = (alert.partner_id.id, alert.product_id.id, alert.company_id.id)
            if key in keys:
                duplicates.add(key)
        if duplicates:
            partner_id, product_id, _company_id = sorted(duplicates)[0]
            raise ValidationError(
                self.env._(
                    "%(customer)s already waits for %(product)s: edit that alert "
                    "instead of creating another one.",
                    customer=self.env["res.partner"].browse(partner_id).display_name,
                    product=self.env["product.product"].browse(product_id).display_name,
                )
            )

    def action_cancel(self):
        self.filtered(lambda alert: alert.state == "waiting").write(
            {
                "state": "cancelled",
                "cancel_reason": self.env._(
                    "Cancelled by %(user)s.", user=self.env.user.name
                ),
            }
        )

    # ------------------------------------------------------------
    # Back in stock
    # ------------------------------------------------------------

    @api.model
    def _cron_send_back_in_stock(self):
        """Email the waiting alerts whose product is back, a chunk per call (batch
        "back_in_stock"); the cron comes back at once while more are ready."""
        return self.env["crm.batch"]._run("back_in_stock")

    # Batch "back_in_stock" (crm.batch): the waiting alerts whose product has
    # free quantity in their warehouse, oldest first.

    @api.model
    def _batch_back_in_stock_domain(self):
        return [("state", "=", "waiting"), ("id", "in", self._back_in_stock_query())]

    def _batch_back_in_stock_process(self):
        self.filtered(lambda alert: alert.state == "waiting")._send_back_in_stock()

    @api.model
    def _back_in_stock_query(self):
        """SQL of the ids of the waiting alerts whose product has free quantity in
        their warehouse (parenthesized, for a domain's ``in``)."""
        Recommendation = self.env["crm.retail.recommendation"]
        Recommendation._flush_stock()
        self.flush_model(["state", "warehouse_id", "product_id"])
        return SQL(
            """
            (WITH pair AS (
                SELECT DISTINCT warehouse_id, product_id
                  FROM crm_retail_stock_alert
                 WHERE state = 'waiting'
            ),
            warehouse AS (
                SELECT warehouse.id, view.parent_path
                  FROM stock_warehouse warehouse
                  JOIN stock_location view ON view.id = warehouse.view_location_id
                 WHERE warehouse.id IN (SELECT warehouse_id FROM pair)
            ),
            available AS (
                SELECT free.warehouse_id, free.product_id
                  FROM (%(free)s) free
                 WHERE free.qty > 0
            )
            SELECT alert.id
              FROM crm_retail_stock_alert alert
              JOIN available
                ON available.warehouse_id = alert.warehouse_id
               AND available.product_id = alert.product_id
             WHERE alert.state = 'waiting')
            """,
            free=Recommendation._free_qty_query(
                SQL("SELECT id, parent_path FROM warehouse"),
                product_ids=SQL("(SELECT product_id FROM pair)"),
            ),
        )

    def _send_back_in_stock(self):
        """Email the customers of these alerts (one batch of the template) and
        mark the alerts sent; cancel those whose customer has no email address
        or blacklisted it."""
        if not self:
            return
        no_email = self.filtered(lambda alert: not alert.partner_id.email_normalized)
        blacklisted = (self - no_email).filtered(
            lambda alert: alert.partner_id.is_blacklisted
        )
        no_email.write(
            {
                "state": "cancelled",
                "cancel_reason": self.env._("The customer has no email address."),
            }
        )
        blacklisted.write(
            {
                "state": "cancelled",
                "cancel_reason": self.env._(
                    "The customer's email address is blacklisted."
                ),
            }
        )
        to_send = self - no_email - blacklisted
        if not to_send:
            return
        template = self.env.ref("crm_retail.mail_template_back_in_stock")
        template.send_mail_batch(
            to_send.ids, email_values={"message_type": "email_outgoing"}
        )
        to_send.write({"state": "sent", "date_sent": fields.Datetime.now()})
        cron = self.env.ref(
            "mail.ir_cron_mail_scheduler_action", raise_if_not_found=False
        )
        if cron:
            cron._trigger()
