from . import crm_retail_product_affinity
from . import crm_retail_rfm_report
from . import crm_retail_loyalty_liability
