from . import subscription
