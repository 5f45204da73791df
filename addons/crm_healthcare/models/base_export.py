from odoo import api, models
from odoo.exceptions import UserError
from odoo.models import fix_import_export_id_paths

MANAGER_GROUP = "crm_healthcare.group_healthcare_manager"


class Base(models.AbstractModel):
    """The generic export (list view > Export) leaves protected health
    information out for everybody but the healthcare manager, and the fields
    declared ``exportable=False`` among them (the clinical note) for everybody.

    The export dialog reads ``fields_get``'s ``exportable`` flag; the export
    itself calls ``export_data``, which is checked again because a client may
    send any field path.
    """

    _inherit = "base"

    @api.model
    def _crm_phi_exportable(self, field_name):
        """Whether the current user may export the field ``field_name`` of
        this model: a PHI field for healthcare managers only; on a model
        holding PHI, a field declared not exportable (the clinical note and
        its ciphertext) never."""
        field = self._fields[field_name]
        if not field.exportable:
            return not self._crm_phi_fields()
        if getattr(field, "phi", False):
            return self.env.user._has_group(MANAGER_GROUP)
        return True

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        res = super().fields_get(allfields, attributes)
        if attributes is not None and "exportable" not in attributes:
            return res
        for name in self._crm_phi_fields():
            if name in res and not self._crm_phi_exportable(name):
                res[name]["exportable"] = False
        return res

    def export_data(self, fields_to_export):
        refused = self._crm_phi_refused_paths(fields_to_export)
        if refused:
            raise UserError(
                self.env._(
                    "These fields hold protected health information: %(fields)s. "
                    "Remove them from the export; only a Healthcare Manager may "
                    "export them, and clinical notes are never exported.",
                    fields=", ".join(refused),
                )
            )
        return super().export_data(fields_to_export)

    @api.model
    def _crm_phi_refused_paths(self, paths):
        """Labels of the export paths (``patient_id/date_of_birth``) that go
        through a field the current user may not export."""
        refused = []
        for path in paths:
            model = self
            labels = []
            for name in fix_import_export_id_paths(path):
                field = model._fields.get(name)
                if field is None:  # "id", ".id" or an unknown name
                    break
                labels.append(field._description_string(self.env))
                if not model._crm_phi_exportable(name):
                    refused.append("/".join(labels))
                    break
                if not field.relational:
                    break
                model = self.env[field.comodel_name]
        return refused
