from odoo import fields, models
from odoo.exceptions import UserError

from .crm_marketing_journey import TARGET_MODELS


class CrmMarketingJourneyTest(models.TransientModel):
    """Run a journey for one chosen record, every delay counted in minutes."""

    _name = "crm.marketing.journey.test"
    _description = "Journey Test Run"

    journey_id = fields.Many2one("crm.marketing.journey", required=True)
    target_model = fields.Selection(related="journey_id.target_model")
    record_ref = fields.Reference(
        TARGET_MODELS,
        string="Record",
        required=True,
        help="The journey runs for this record now, and its delays pass in minutes.",
    )

    def action_run(self):
        self.ensure_one()
        journey = self.journey_id
        record = self.record_ref
        if not record or record._name != journey.target_model:
            raise UserError(
                self.env._(
                    "Pick a record of the journey's target (%(target)s) to test it.",
                    target=dict(TARGET_MODELS)[journey.target_model],
                )
            )
        record.check_access("read")
        journey.check_access("write")
        journey._check_startable()
        # sudo: the test run is the system's, as the real one will be; the user
        # proved above that they may read the record and edit the journey.
        Participant = self.env["crm.marketing.journey.participant"].sudo()
        participant = Participant._enrol_records(
            journey.sudo(), [record.id], is_test=True
        )
        participant._run_now()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.marketing.journey.participant",
            "res_id": participant.id,
            "view_mode": "form",
            "target": "current",
        }
