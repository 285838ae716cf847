from . import webhook
from . import direct
from . import webchat
