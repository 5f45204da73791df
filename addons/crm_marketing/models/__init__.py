from . import crm_engagement_mixin
from . import res_partner
from . import crm_lead
