from . import test_concurrency
from . import test_customer_360
from . import test_loyalty_ledger
from . import test_recommendation
from . import test_reports
from . import test_tiers
from . import test_tours
from . import test_batches
