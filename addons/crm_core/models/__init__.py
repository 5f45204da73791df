from . import crm_interaction
from . import crm_assignment_rule
from . import res_partner
from . import crm_lead
from . import crm_team_member
from . import mail_message
from . import calendar_event
