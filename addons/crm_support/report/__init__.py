from . import crm_ticket_sla_report
