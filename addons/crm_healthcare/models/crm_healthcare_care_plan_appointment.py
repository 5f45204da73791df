from datetime import timedelta

import pytz
from dateutil.relativedelta import relativedelta

from odoo import Command, fields, models

from .crm_healthcare_care_plan import VISIT_KINDS

STAFF_GROUPS = (
    "crm_healthcare.group_healthcare_front_desk,"
    "crm_healthcare.group_healthcare_clinician"
)


class CrmHealthcareAppointment(models.Model):
    """Completing a visit fulfils the patient's open steps for that kind of
    visit and starts the care plan template of its type."""

    _inherit = "crm.healthcare.appointment"

    care_plan_ids = fields.One2many(
        "crm.healthcare.care.plan",
        "appointment_id",
        string="Care Plans Started",
        groups=STAFF_GROUPS,
    )

    def action_done(self):
        res = super().action_done()
        self._close_care_plan_steps()
        self._start_care_plans()
        return res

    def _local_date(self):
        """The day of the visit in the clinic's time zone (the provider's, else
        the company's, else the user's)."""
        self.ensure_one()
        tz = (
            self.provider_id.tz
            or self.company_id.partner_id.tz
            or self.env.user.tz
            or "UTC"
        )
        return pytz.utc.localize(self.start).astimezone(pytz.timezone(tz)).date()

    def _close_care_plan_steps(self):
        """Mark done the open follow-ups and recalls these visits fulfil: same
        patient, same type. One search for the whole batch."""
        steps = self.env["crm.healthcare.care.plan.step"].search(
            [
                ("state", "=", "open"),
                ("kind", "in", VISIT_KINDS),
                ("patient_id", "in", self.patient_id.ids),
                ("appointment_type_id", "in", self.appointment_type_id.ids),
            ]
        )
        visits = {(a.patient_id, a.appointment_type_id): a for a in self}
        by_visit = steps.grouped(
            lambda step: (
                visits[(step.patient_id, step.appointment_type_id)]
                if (step.patient_id, step.appointment_type_id) in visits
                else self.browse()
            )
        )
        for visit, visit_steps in by_visit.items():
            if visit:
                visit_steps.write({"state": "done", "appointment_id": visit.id})

    def _start_care_plans(self):
        """Create each patient's plan from the template of the visit's type:
        visits to book with their due dates and, from the template's activity
        plan, staff tasks scheduled as activities on the patient."""
        templates = {
            template.appointment_type_id: template
            for template in self.env["crm.healthcare.care.plan.template"].search(
                [("appointment_type_id", "in", self.appointment_type_id.ids)]
            )
        }
        started = self.filtered(lambda a: a.appointment_type_id in templates)
        if not started:
            return self.env["crm.healthcare.care.plan"]
        tasks = []  # (appointment, activity template, user, deadline)
        for appointment in started:
            template = templates[appointment.appointment_type_id]
            for task in template.activity_plan_id.template_ids:
                # "Ask at launch" is answered by the visit: its provider.
                user = task._determine_responsible(
                    appointment.provider_id.user_id, appointment.patient_id
                )["responsible"]
                deadline = task._get_date_deadline(appointment._local_date())
                tasks.append((appointment, task, user, deadline))
        # No assignment mail: it would carry the patient's name out of Odoo;
        # staff find the task in their activities.
        activities = (
            self.env["mail.activity"]
            .with_context(mail_activity_quick_update=True)
            .create(
                [
                    {
                        "res_model_id": self.env["ir.model"]._get_id(
                            "crm.healthcare.patient"
                        ),
                        "res_id": appointment.patient_id.id,
                        "activity_type_id": task.activity_type_id.id,
                        "summary": task.summary,
                        "note": task.note,
                        "user_id": user.id or self.env.uid,
                        "date_deadline": deadline,
                    }
                    for appointment, task, user, deadline in tasks
                ]
            )
        )
        task_steps = {}
        for (appointment, task, _user, deadline), activity in zip(
            tasks, activities, strict=True
        ):
            task_steps.setdefault(appointment, []).append(
                Command.create(
                    {
                        "kind": "task",
                        "name": task.summary or task.activity_type_id.name,
                        "due_date": deadline,
                        "user_id": activity.user_id.id,
                        "activity_id": activity.id,
                    }
                )
            )
        kinds = dict(
            self.env["crm.healthcare.care.plan.template.line"]
            ._fields["kind"]
            ._description_selection(self.env)
        )
        plan_values = []
        for appointment in started:
            template = templates[appointment.appointment_type_id]
            visit_date = appointment._local_date()
            visit_steps = [
                Command.create(
                    {
                        "kind": line.kind,
                        "name": self.env._(
                            "%(kind)s: %(type)s",
                            kind=kinds[line.kind],
                            type=line.appointment_type_id.name,
                        ),
                        "appointment_type_id": line.appointment_type_id.id,
                        "due_date": visit_date
                        + (
                            relativedelta(months=line.interval)
                            if line.kind == "recall"
                            else timedelta(days=line.interval)
                        ),
                    }
                )
                for line in template.line_ids
            ]
            plan_values.append(
                {
                    "patient_id": appointment.patient_id.id,
                    "template_id": template.id,
                    "appointment_id": appointment.id,
                    "provider_id": appointment.provider_id.id,
                    "date_start": visit_date,
                    "company_id": appointment.company_id.id,
                    "step_ids": visit_steps + task_steps.get(appointment, []),
                }
            )
        return self.env["crm.healthcare.care.plan"].create(plan_values)
