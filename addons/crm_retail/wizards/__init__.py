from . import crm_retail_redeem_wizard
from . import crm_retail_suggest_wizard
from . import loyalty_card_update_balance
