from . import test_access
from . import test_booking
from . import test_concurrency
from . import test_encryption
