import logging
import os
import threading

import psycopg2

from odoo import models, sql_db
from odoo.tools import SQL

from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION

_logger = logging.getLogger(__name__)


class CronWaker:
    """Wake-ups of the cron workers over one connection kept open per process.

    Odoo's cron workers LISTEN on ``cron_trigger`` in the ``postgres`` database, and Odoo never
    pools connections to that database: ``ir.cron._notifydb()`` opens and closes one each time
    (about 5 ms of server CPU), more than the rest of a webhook request. The webhook wakes the
    workers for every stored message, and processing a message triggers other crons (mail queue,
    outbound sends), so the NOTIFY goes over an autocommit connection kept per process (reopened
    after a fork or an error), with Odoo's way as the fallback.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._cnx = None
        self._pid = None

    def _connection(self):
        if self._cnx is None or self._cnx.closed or self._pid != os.getpid():
            __, info = sql_db.connection_info_for("postgres")
            self._cnx = psycopg2.connect(**info)
            self._cnx.autocommit = True
            with self._cnx.cursor() as cur:
                # A NOTIFY commits a transaction of its own: it need not wait for the WAL to be
                # flushed (a notification is not kept across a PostgreSQL crash anyway).
                cur.execute("SET synchronous_commit = off")
            self._pid = os.getpid()
        return self._cnx

    def _drop(self):
        if self._cnx is not None and self._pid == os.getpid():
            try:
                self._cnx.close()
            except psycopg2.Error:
                pass
        self._cnx = None

    def notify(self, dbname):
        """True when the NOTIFY went out on the kept connection."""
        query = SQL("SELECT %s('cron_trigger', %s)", SQL.identifier(ODOO_NOTIFY_FUNCTION), dbname)
        with self._lock:
            for __ in range(2):  # a connection closed by the server since last time: reopen once
                try:
                    with self._connection().cursor() as cur:
                        cur.execute(query.code, query.params)
                    return True
                except psycopg2.Error as exc:
                    _logger.info("crm_ai_agent: cron wake-up connection lost (%s), reconnecting", exc)
                    self._drop()
        return False


cron_waker = CronWaker()


class IrCron(models.Model):
    _inherit = "ir.cron"

    def _notifydb(self):
        if cron_waker.notify(self.env.cr.dbname):
            return None
        return super()._notifydb()
