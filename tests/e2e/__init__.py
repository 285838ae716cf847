"""Scripts that drive a real Odoo server (prefork workers, cron worker, gevent websocket).

Not collected by the unit test run: see ``server.py`` for the server helper and
``test_concurrency.py`` for the concurrency and crash scenarios.
"""
