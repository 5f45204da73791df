from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

BILLING_GROUP = "account.group_account_invoice"


class CrmHealthcareAppointment(models.Model):
    """Invoicing of completed visits.

    A visit invoices its type's service product to the patient's contact or,
    when the patient has an insurer, the covered share to the insurer and the
    rest to the patient. Lines read "<product> <date>": never the clinical
    name, the notes or anything from the patient record. Each visit is linked
    to its invoice lines and is invoiced once.

    Invoicing needs Odoo's Invoicing "Billing" rights
    (``account.group_account_invoice``) on top of Front Desk: the group is not
    implied, so that a clinic decides who may issue invoices.
    """

    _inherit = "crm.healthcare.appointment"

    invoice_line_ids = fields.Many2many(
        "account.move.line",
        "crm_healthcare_appointment_invoice_line_rel",
        "appointment_id",
        "move_line_id",
        string="Invoice Lines",
        readonly=True,
        copy=False,
        groups=BILLING_GROUP,
    )
    invoiced = fields.Boolean(
        compute="_compute_invoiced",
        store=True,
        index=True,
        copy=False,
        help="Invoiced by an invoice that is not cancelled.",
    )
    invoice_count = fields.Integer(
        string="Invoices", compute="_compute_invoice_count", groups=BILLING_GROUP
    )

    @api.depends("invoice_line_ids.parent_state")
    def _compute_invoiced(self):
        for appointment in self:
            appointment.invoiced = any(
                line.parent_state != "cancel" for line in appointment.invoice_line_ids
            )

    @api.depends("invoice_line_ids")
    def _compute_invoice_count(self):
        for appointment in self:
            appointment.invoice_count = len(appointment.invoice_line_ids.move_id)

    def action_invoice(self):
        """Invoice these completed visits (draft invoices, one per partner)."""
        moves = self._invoice_visits()
        return moves._get_records_action(name=self.env._("Visit Invoices"))

    def action_view_invoices(self):
        self.ensure_one()
        return self.invoice_line_ids.move_id._get_records_action(
            name=self.env._("Invoices of %(reference)s", reference=self.name)
        )

    # ------------------------------------------------------------------
    # Business methods
    # ------------------------------------------------------------------

    def _check_invoiceable(self):
        _ = self.env._
        if not self.env.user.has_group(BILLING_GROUP):
            raise UserError(
                _(
                    "Invoicing visits needs the Invoicing rights 'Billing': ask an "
                    "administrator to add them to your user."
                )
            )
        if not self:
            raise UserError(_("There is no completed visit left to invoice."))
        # Two users invoicing the same visit at once: the second waits, then
        # fails to serialise and is retried, and sees the visit invoiced.
        self.env.cr.execute(
            SQL(
                "SELECT id FROM crm_healthcare_appointment WHERE id IN %s FOR UPDATE",
                tuple(self.ids),
            )
        )
        for appointment in self:
            if appointment.state != "done":
                raise UserError(
                    _(
                        "%(reference)s is not done: only completed visits are "
                        "invoiced.",
                        reference=appointment.name,
                    )
                )
            if appointment.invoiced:
                raise UserError(
                    _(
                        "%(reference)s is already invoiced (%(invoices)s). Cancel "
                        "that invoice first to invoice the visit again.",
                        reference=appointment.name,
                        invoices=", ".join(
                            appointment.invoice_line_ids.move_id.mapped("display_name")
                        ),
                    )
                )
            if not appointment.appointment_type_id.product_id:
                raise UserError(
                    _(
                        "Set a service product on the appointment type %(type)s to "
                        "invoice its visits.",
                        type=appointment.appointment_type_id.name,
                    )
                )

    def _invoice_shares(self):
        """[(partner, amount)] of this visit: the insurer's covered share and
        the patient's rest, rounded so that both add up to the price."""
        self.ensure_one()
        currency = self.company_id.currency_id
        price = currency.round(
            self.appointment_type_id.product_id.with_company(self.company_id).lst_price
        )
        patient = self.patient_id
        insurer = patient.insurer_id
        if not insurer or not patient.coverage_percent:
            return [(patient.partner_id, price)]
        covered = currency.round(price * patient.coverage_percent / 100)
        shares = [
            (insurer, covered),
            (patient.partner_id, currency.round(price - covered)),
        ]
        return [share for share in shares if not currency.is_zero(share[1])] or [
            (patient.partner_id, price)
        ]

    def _invoice_line_name(self):
        """The product and the day, nothing else: "Consultation 2026-11-23"."""
        self.ensure_one()
        product = self.appointment_type_id.product_id
        return f"{product.name} {fields.Date.to_string(self._local_date())}"

    def _invoice_visits(self):
        """Create draft invoices for these visits, one per company and partner
        (insurer or patient), and link each visit to its lines."""
        self._check_invoiceable()
        lines_by_invoice = defaultdict(list)  # (company, partner): [(visit, vals)]
        for appointment in self.sorted(lambda a: (a.start, a.id)):
            product = appointment.appointment_type_id.product_id
            name = appointment._invoice_line_name()
            for partner, amount in appointment._invoice_shares():
                lines_by_invoice[(appointment.company_id, partner)].append(
                    (
                        appointment,
                        {
                            "product_id": product.id,
                            "name": name,
                            "quantity": 1,
                            "price_unit": amount,
                        },
                    )
                )
        invoice_values = [
            {
                "move_type": "out_invoice",
                "company_id": company.id,
                "partner_id": partner.id,
                "invoice_origin": ", ".join(
                    dict.fromkeys(visit.name for visit, _vals in lines)
                ),
                "invoice_line_ids": [Command.create(vals) for _visit, vals in lines],
            }
            for (company, partner), lines in lines_by_invoice.items()
        ]
        moves = self.env["account.move"].create(invoice_values)
        links = defaultdict(list)
        for move, lines in zip(moves, lines_by_invoice.values(), strict=True):
            created = move.invoice_line_ids.sorted("id")
            for (visit, _vals), line in zip(lines, created, strict=True):
                links[visit].append(Command.link(line.id))
        for visit, commands in links.items():
            visit.invoice_line_ids = commands
        return moves
