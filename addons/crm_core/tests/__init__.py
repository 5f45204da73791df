from . import test_crm_interaction
from . import test_interaction_sync
from . import test_customer_360
from . import test_security
from . import test_assignment
from . import test_intake_duplicates
from . import test_forecast
from . import test_churn
