from odoo import http
from odoo.http import request

from odoo.addons.web.controllers.dataset import DataSet


def _readonly_unless_read_audited(controller):
    # Reading a model whose reads are audited writes the audit log: such calls
    # need a read/write cursor, not the read-only one Odoo picks for reads.
    model = request.get_json_data()["params"].get("model")
    if model in getattr(request.registry, "crm_read_audited_models", ()):
        return False
    return DataSet._call_kw_readonly(controller)


class AuditedDataSet(DataSet):
    @http.route(
        ["/web/dataset/call_kw", "/web/dataset/call_kw/<path:path>"],
        type="json",
        auth="user",
        readonly=_readonly_unless_read_audited,
    )
    def call_kw(self, model, method, args, kwargs, path=None):
        return super().call_kw(model, method, args, kwargs, path=path)
