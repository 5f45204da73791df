from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.crm_core.tests.batch_common import BatchCronChecks, BatchQueueChecks

from .common import CrmSupportCommon


class SupportBatchRows:
    """Tickets past their first-response deadline, to escalate."""

    BATCHES = {"sla_check": "_late_tickets"}

    def _late_tickets(self, count):
        tickets = self.Ticket.browse()
        for _i in range(count):
            tickets |= self._ticket()
        tickets.sla_response_deadline = fields.Datetime.now() - timedelta(hours=1)
        return tickets

    def effect_sla_check(self, tickets):
        return [(t.sla_response_status, t.sla_escalated_deadline) for t in tickets]


@tagged("post_install", "-at_install")
class TestSupportBatches(SupportBatchRows, BatchCronChecks, CrmSupportCommon):
    pass


@tagged("-standard", "crm_queue_job", "post_install", "-at_install")
class TestSupportBatchesQueued(SupportBatchRows, BatchQueueChecks, CrmSupportCommon):
    pass
