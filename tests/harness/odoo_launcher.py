"""Start Odoo's command line (what ``odoo-bin`` does).

Used instead of ``python -m odoo`` because Odoo's prefork server re-executes
``sys.argv[0]`` to spawn its websocket (gevent) process, which must be a script.
"""

import sys

from odoo.cli.command import main

if __name__ == "__main__":
    sys.exit(main())
