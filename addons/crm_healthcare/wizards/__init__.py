from . import crm_healthcare_invoice_day
from . import crm_healthcare_booking_wizard
