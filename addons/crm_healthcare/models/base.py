from odoo import api, models


class Base(models.AbstractModel):
    """The ``phi=True`` field parameter marks protected health information.

    Templates, exports and the audit read the marker through
    ``_crm_phi_fields()`` instead of keeping their own lists of field names.
    """

    _inherit = "base"

    def _valid_field_parameter(self, field, name):
        return name == "phi" or super()._valid_field_parameter(field, name)

    @api.model
    def _crm_phi_fields(self):
        """Names of the fields of this model that hold protected health
        information (declared with ``phi=True``), sorted."""
        return sorted(
            name for name, field in self._fields.items() if getattr(field, "phi", False)
        )
