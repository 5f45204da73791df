from . import crm_ticket_invoice_wizard
