from odoo import api, fields, models
from odoo.exceptions import ValidationError

PATIENT_MODEL = "crm.healthcare.patient"


class CrmHealthcareCarePlanTemplate(models.Model):
    """What follows a completed visit of an appointment type.

    Its lines are the patient's next visits (a follow-up in N days, a recall
    every N months); its staff tasks are an Odoo activity plan on patients,
    scheduled as activities when the plan starts. Completing a visit of the
    type starts the template for the patient (``crm.healthcare.care.plan``).
    """

    _name = "crm.healthcare.care.plan.template"
    _description = "Care Plan Template"
    _order = "sequence, name, id"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    name = fields.Char(
        required=True,
        translate=True,
        help="Shown to staff on the patient's care plans.",
    )
    appointment_type_id = fields.Many2one(
        "crm.healthcare.appointment.type",
        string="After Visits Of",
        required=True,
        index=True,
        check_company=True,
        ondelete="cascade",
        help="Completing a visit of this type starts the plan for the patient.",
    )
    line_ids = fields.One2many(
        "crm.healthcare.care.plan.template.line",
        "template_id",
        string="Next Visits",
        copy=True,
    )
    activity_plan_id = fields.Many2one(
        "mail.activity.plan",
        string="Staff Tasks",
        check_company=True,
        domain=[("res_model", "=", PATIENT_MODEL)],
        help="Activities scheduled on the patient when the plan starts, dated from "
        "the visit. Activities set to 'Ask at launch' go to the visit's provider.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    active = fields.Boolean(default=True)

    @api.constrains("appointment_type_id", "active")
    def _check_one_per_type(self):
        types = self.filtered("active").appointment_type_id
        counts = self._read_group(
            [("appointment_type_id", "in", types.ids), ("active", "=", True)],
            ["appointment_type_id"],
            ["__count"],
        )
        for appointment_type, count in counts:
            if count > 1:
                raise ValidationError(
                    self.env._(
                        "%(type)s already has a care plan template: edit it, or "
                        "archive it before creating another one.",
                        type=appointment_type.name,
                    )
                )

    @api.constrains("activity_plan_id")
    def _check_activity_plan_model(self):
        for template in self:
            plan = template.activity_plan_id
            if plan and plan.res_model != PATIENT_MODEL:
                raise ValidationError(
                    self.env._(
                        "The activity plan %(plan)s applies to another kind of "
                        "record: choose a plan that applies to patients.",
                        plan=plan.name,
                    )
                )


class CrmHealthcareCarePlanTemplateLine(models.Model):
    """A visit the patient should book after the first one."""

    _name = "crm.healthcare.care.plan.template.line"
    _description = "Care Plan Template Step"
    _order = "sequence, id"

    template_id = fields.Many2one(
        "crm.healthcare.care.plan.template",
        required=True,
        index=True,
        ondelete="cascade",
    )
    sequence = fields.Integer(default=10)
    kind = fields.Selection(
        [("follow_up", "Follow-up Visit"), ("recall", "Recall")],
        required=True,
        default="follow_up",
        help="Follow-up: one visit, the interval in days after the visit. Recall: "
        "a visit the interval in months later; the recall visit starts its own "
        "plan, so the recall repeats.",
    )
    interval = fields.Integer(
        required=True,
        default=1,
        help="Days after the visit for a follow-up, months for a recall.",
    )
    interval_unit = fields.Char(string="Unit", compute="_compute_interval_unit")
    appointment_type_id = fields.Many2one(
        "crm.healthcare.appointment.type",
        string="Visit Type",
        required=True,
        compute="_compute_appointment_type_id",
        store=True,
        readonly=False,
        precompute=True,
        ondelete="cascade",
        help="The type of appointment to book; the recall list looks for a booking "
        "of this type.",
    )
    company_id = fields.Many2one(related="template_id.company_id", store=True)

    _sql_constraints = [
        (
            "interval_positive",
            "CHECK(interval > 0)",
            "The interval of a care plan step is a number of days or months: one "
            "or more.",
        )
    ]

    @api.depends("template_id.appointment_type_id")
    def _compute_appointment_type_id(self):
        for line in self:
            if not line.appointment_type_id:
                line.appointment_type_id = line.template_id.appointment_type_id

    @api.depends("kind")
    def _compute_interval_unit(self):
        for line in self:
            line.interval_unit = (
                self.env._("months") if line.kind == "recall" else self.env._("days")
            )
