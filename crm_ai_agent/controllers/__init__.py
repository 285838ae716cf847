from . import webhook
from . import webchat
