from . import crm_interaction
from . import res_partner
from . import crm_lead
from . import mail_message
from . import calendar_event
