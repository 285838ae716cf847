from . import test_followup
from . import test_campaign
from . import test_unsubscribe
from . import test_views
from . import test_automated_origins
from . import test_opt_out
