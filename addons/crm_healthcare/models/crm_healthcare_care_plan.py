from odoo import api, fields, models
from odoo.tools import SQL

# Appointments that hold a place for the patient: a recall is "booked" then.
HOLDING_STATES = ("booked", "confirmed")
VISIT_KINDS = ("follow_up", "recall")


class CrmHealthcareCarePlan(models.Model):
    """A care plan template started for one patient by one completed visit.

    Its steps carry the due dates: the visits to book (follow-up, recall) and
    the staff tasks, which are activities on the patient.
    """

    _name = "crm.healthcare.care.plan"
    _description = "Care Plan"
    _order = "date_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(related="template_id.name")
    patient_id = fields.Many2one(
        "crm.healthcare.patient",
        string="Patient",
        required=True,
        index=True,
        check_company=True,
        ondelete="cascade",
    )
    template_id = fields.Many2one(
        "crm.healthcare.care.plan.template",
        string="Template",
        required=True,
        check_company=True,
        ondelete="restrict",
    )
    appointment_id = fields.Many2one(
        "crm.healthcare.appointment",
        string="Started By",
        index="btree_not_null",
        check_company=True,
        ondelete="set null",
    )
    provider_id = fields.Many2one(
        "crm.healthcare.provider",
        string="Provider",
        index="btree_not_null",
        check_company=True,
        help="Who saw the patient at the visit that started the plan.",
    )
    date_start = fields.Date(string="Visit Date", required=True)
    step_ids = fields.One2many("crm.healthcare.care.plan.step", "plan_id", "Steps")
    state = fields.Selection(
        [("open", "In Progress"), ("done", "Done")],
        compute="_compute_state",
        store=True,
        index=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )

    @api.depends("step_ids.state")
    def _compute_state(self):
        for plan in self:
            plan.state = (
                "open" if any(s.state == "open" for s in plan.step_ids) else "done"
            )


class CrmHealthcareCarePlanStep(models.Model):
    """One step of a patient's care plan: a visit to book by a due date, or a
    staff task (an activity on the patient, done when the activity is)."""

    _name = "crm.healthcare.care.plan.step"
    _description = "Care Plan Step"
    _order = "due_date, id"
    _check_company_auto = True

    plan_id = fields.Many2one(
        "crm.healthcare.care.plan", required=True, index=True, ondelete="cascade"
    )
    patient_id = fields.Many2one(
        related="plan_id.patient_id", store=True, index=True, string="Patient"
    )
    partner_id = fields.Many2one(related="patient_id.partner_id", string="Contact")
    phone = fields.Char(related="patient_id.phone")
    provider_id = fields.Many2one(related="plan_id.provider_id", store=True)
    company_id = fields.Many2one(related="plan_id.company_id", store=True, index=True)
    kind = fields.Selection(
        [
            ("follow_up", "Follow-up Visit"),
            ("recall", "Recall"),
            ("task", "Staff Task"),
        ],
        required=True,
    )
    name = fields.Char(string="Step", required=True)
    appointment_type_id = fields.Many2one(
        "crm.healthcare.appointment.type",
        string="Visit Type",
        index="btree_not_null",
        check_company=True,
    )
    due_date = fields.Date(required=True, index=True)
    user_id = fields.Many2one("res.users", string="Assigned To")
    activity_id = fields.Many2one(
        "mail.activity", index="btree_not_null", ondelete="set null", copy=False
    )
    appointment_id = fields.Many2one(
        "crm.healthcare.appointment",
        string="Done By Visit",
        index="btree_not_null",
        ondelete="set null",
        copy=False,
        help="The completed visit that fulfilled this step.",
    )
    # Visits are done by a completed appointment (written by the appointment);
    # a task is done when its activity is done or removed.
    state = fields.Selection(
        [("open", "To Do"), ("done", "Done"), ("cancelled", "Cancelled")],
        required=True,
        compute="_compute_state",
        store=True,
        readonly=False,
        precompute=True,
        index=True,
    )
    is_booked = fields.Boolean(
        string="Booked",
        compute="_compute_is_booked",
        search="_search_is_booked",
        help="The patient has a future appointment of the step's type.",
    )

    @api.depends("activity_id.active")
    def _compute_state(self):
        for step in self:
            if step.kind == "task" and step.state in (False, "open"):
                step.state = (
                    "open"
                    if step.activity_id and step.activity_id.active
                    else ("done" if step.id or step._origin.id else "open")
                )
            elif not step.state:
                step.state = "open"

    @api.depends("patient_id", "appointment_type_id")
    def _compute_is_booked(self):
        booked = self.search([("id", "in", self.ids), ("is_booked", "=", True)])
        for step in self:
            step.is_booked = step in booked

    def _search_is_booked(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(self.env._("Unsupported search on Booked."))
        for model in ("crm.healthcare.care.plan.step", "crm.healthcare.appointment"):
            self.env[model].flush_model()
        # One correlated query for the whole list, whatever the number of
        # patients: a step is booked when its patient holds a future
        # appointment of its type, or is being seen for it right now.
        booked = SQL(
            """
            (SELECT step.id
              FROM crm_healthcare_care_plan_step step
             WHERE EXISTS (
                   SELECT 1
                     FROM crm_healthcare_appointment appointment
                    WHERE appointment.patient_id = step.patient_id
                      AND appointment.appointment_type_id = step.appointment_type_id
                      AND (
                          (appointment.state IN %(holding)s
                           AND appointment.start > %(now)s)
                          OR appointment.state = 'checked_in'
                      )
             ))
            """,
            holding=HOLDING_STATES,
            now=fields.Datetime.now(),
        )
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", booked)]

    def action_open_patient(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.healthcare.patient",
            "res_id": self.patient_id.id,
            "view_mode": "form",
        }

    def action_book(self):
        """Open a new appointment of the step's type for the patient."""
        self.ensure_one()
        action = self.patient_id.action_open_appointments()
        action["context"] = {
            **action["context"],
            "default_appointment_type_id": self.appointment_type_id.id,
        }
        return action

    def action_cancel(self):
        self.filtered(lambda s: s.state == "open").state = "cancelled"
