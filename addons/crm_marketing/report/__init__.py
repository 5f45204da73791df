from . import crm_marketing_roi_report
