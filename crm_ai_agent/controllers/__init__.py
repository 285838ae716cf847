from . import webchat, webhook
