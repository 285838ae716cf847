"""Fast tests of the ORM-free modules (``crm_ai_agent/services``), without Odoo.

The services package is loaded under the alias ``crm_ai_services`` straight from
its folder, so importing it does not import the addon (and so not Odoo).
"""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "crm_ai_agent" / "services"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _load_services_alias():
    if "crm_ai_services" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        "crm_ai_services", SERVICES / "__init__.py", submodule_search_locations=[str(SERVICES)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["crm_ai_services"] = module
    spec.loader.exec_module(module)


_load_services_alias()
