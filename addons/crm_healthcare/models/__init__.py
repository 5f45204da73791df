from . import base
from . import resource_resource
from . import crm_healthcare_specialty
from . import crm_healthcare_provider
from . import crm_healthcare_room
from . import crm_healthcare_appointment_type
from . import crm_healthcare_patient
from . import crm_healthcare_appointment
