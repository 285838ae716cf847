from . import test_capture, test_lead_views, test_providers_http, test_webhook_security
