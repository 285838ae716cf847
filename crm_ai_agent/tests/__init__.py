from . import test_webhook_security
from . import test_capture
from . import test_providers_http
from . import test_lead_views
from . import test_outbound
from . import test_routing
