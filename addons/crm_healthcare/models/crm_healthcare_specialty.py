from odoo import fields, models


class CrmHealthcareSpecialty(models.Model):
    """A medical specialty of providers (cardiology, physiotherapy...)."""

    _name = "crm.healthcare.specialty"
    _description = "Medical Specialty"
    _order = "name"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("name_unique", "UNIQUE(name)", "A specialty with this name already exists.")
    ]
