from odoo import api, fields, models

HEALTHCARE_GROUPS = (
    "crm_healthcare.group_healthcare_front_desk,"
    "crm_healthcare.group_healthcare_clinician"
)


class ResPartner(models.Model):
    """The patient side of the customer 360°: visits, no-shows and balance.

    Shown to the clinic's staff only: plain CRM users do not even get the
    fields (``groups``), since having visits at a clinic is health information.
    """

    _inherit = "res.partner"

    healthcare_patient_ids = fields.One2many(
        "crm.healthcare.patient",
        "partner_id",
        string="Patient Records",
        groups=HEALTHCARE_GROUPS,
    )
    healthcare_visit_count = fields.Integer(
        string="Visits",
        compute="_compute_healthcare_visits",
        groups=HEALTHCARE_GROUPS,
        help="Completed visits, in the current company.",
    )
    healthcare_no_show_count = fields.Integer(
        string="No-Shows",
        compute="_compute_healthcare_visits",
        groups=HEALTHCARE_GROUPS,
    )
    healthcare_next_visit = fields.Datetime(
        string="Next Visit",
        compute="_compute_healthcare_visits",
        groups=HEALTHCARE_GROUPS,
    )
    healthcare_balance = fields.Monetary(
        string="Balance Due",
        compute="_compute_healthcare_balance",
        currency_field="customer_currency_id",
        groups=HEALTHCARE_GROUPS,
        help="What the person owes on posted invoices, in the current company.",
    )

    @api.depends_context("company", "uid")
    def _compute_healthcare_visits(self):
        # The user's own rights: a clinician counts the visits they may read.
        Appointment = self.env["crm.healthcare.appointment"]
        domain = [
            ("patient_id.partner_id", "in", self.ids),
            ("company_id", "=", self.env.company.id),
        ]
        counts = {
            (patient.partner_id.id, state): count
            for patient, state, count in Appointment._read_group(
                domain + [("state", "in", ("done", "no_show"))],
                ["patient_id", "state"],
                ["__count"],
            )
        }
        upcoming = {}
        for patient, start in Appointment._read_group(
            domain
            + [
                ("state", "in", ("booked", "confirmed")),
                ("start", ">", fields.Datetime.now()),
            ],
            ["patient_id"],
            ["start:min"],
        ):
            partner_id = patient.partner_id.id
            upcoming[partner_id] = min(start, upcoming.get(partner_id, start))
        for partner in self:
            partner.healthcare_visit_count = counts.get((partner.id, "done"), 0)
            partner.healthcare_no_show_count = counts.get((partner.id, "no_show"), 0)
            partner.healthcare_next_visit = upcoming.get(partner.id, False)

    @api.depends_context("company")
    def _compute_healthcare_balance(self):
        # sudo: the front desk may hold no accounting rights; only the residual
        # of the person's posted invoices in the current company is read.
        moves = self.env["account.move"].sudo()
        balances = {
            partner.id: balance
            for partner, balance in moves._read_group(
                [
                    ("commercial_partner_id", "in", self.commercial_partner_id.ids),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("state", "=", "posted"),
                    ("company_id", "=", self.env.company.id),
                ],
                ["commercial_partner_id"],
                ["amount_residual_signed:sum"],
            )
        }
        for partner in self:
            partner.healthcare_balance = balances.get(
                partner.commercial_partner_id.id, 0.0
            )

    def action_view_healthcare_appointments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_healthcare.crm_healthcare_appointment_action"
        )
        action["domain"] = [("patient_id.partner_id", "=", self.id)]
        action["view_mode"] = "list,calendar,form"
        action["views"] = [(False, "list"), (False, "calendar"), (False, "form")]
        action["context"] = {"create": False}
        return action
