import select
from contextlib import closing

import psycopg2

from odoo import sql_db
from odoo.tests import TransactionCase, tagged

from ..models.ir_cron import cron_waker


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestCronWake(TransactionCase):
    """ir.cron._notifydb() goes over a connection kept per process, and survives losing it."""

    def listen(self):
        __, info = sql_db.connection_info_for("postgres")
        cnx = psycopg2.connect(**info)
        cnx.autocommit = True
        with cnx.cursor() as cur:
            cur.execute("LISTEN cron_trigger")
        return cnx

    def received(self, cnx, timeout=5.0):
        payloads = []
        while not payloads and select.select([cnx], [], [], timeout) != ([], [], []):
            cnx.poll()
            payloads += [n.payload for n in cnx.notifies]
            cnx.notifies.clear()
        return payloads

    def test_notify_reaches_the_cron_workers(self):
        with closing(self.listen()) as listener:
            self.env["ir.cron"].browse()._notifydb()
            self.assertEqual(self.received(listener), [self.env.cr.dbname])
            kept = cron_waker._cnx
            self.assertTrue(kept and not kept.closed, "the connection is kept for the next wake-up")
            self.env["ir.cron"].browse()._notifydb()
            self.assertEqual(self.received(listener), [self.env.cr.dbname])
            self.assertIs(cron_waker._cnx, kept, "and reused")

    def test_lost_connection_is_reopened(self):
        self.env["ir.cron"].browse()._notifydb()
        pid = cron_waker._cnx.get_backend_pid()
        with closing(self.listen()) as listener:
            with listener.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(%s)", [pid])
                for __ in range(100):  # the signal is asynchronous: wait until the backend is gone
                    cur.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
                    if not cur.fetchone():
                        break
                    select.select([], [], [], 0.05)
            self.env["ir.cron"].browse()._notifydb()
            self.assertEqual(self.received(listener), [self.env.cr.dbname])
            self.assertNotEqual(cron_waker._cnx.get_backend_pid(), pid)
