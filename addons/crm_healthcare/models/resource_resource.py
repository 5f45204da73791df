from odoo import fields, models


class ResourceResource(models.Model):
    """Links a resource back to the provider or room it schedules, so that record
    rules can name the clinic's resources (their time off) and no other."""

    _inherit = "resource.resource"

    crm_healthcare_provider_ids = fields.One2many(
        "crm.healthcare.provider", "resource_id", string="Healthcare Providers"
    )
    crm_healthcare_room_ids = fields.One2many(
        "crm.healthcare.room", "resource_id", string="Healthcare Rooms"
    )
