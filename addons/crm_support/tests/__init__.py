from . import test_ticket_mail
from . import test_routing
from . import test_sla
from . import test_knowledge_rating
from . import test_customer_view
from . import test_portal
from . import test_security
from . import test_tours
