from . import consent
from . import dataset
