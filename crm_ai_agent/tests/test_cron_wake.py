import select
from contextlib import closing
from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo import fields, sql_db
from odoo.tests import TransactionCase, tagged

from ..models import crm_ai_message
from ..models.ir_cron import cron_waker
from ..services import inbound


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


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestInboxBurst(TransactionCase):
    """While messages arrive faster than the burst rate, the inbox pauses before each batch."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls.env["crm.ai.channel"].create(
            {
                "name": "Burst",
                "channel_type": "telegram",
                "telegram_bot_token": "123:burst",
                "telegram_secret_token": "burst-secret",
            }
        )
        cls.Message = cls.env["crm.ai.message"].sudo()
        # the check runs on a cursor of its own: in test mode, one on the test's transaction
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)

    def store(self, count, prefix):
        items = [
            inbound.InboundItem(kind=inbound.KIND_MESSAGE, external_id=f"{prefix}-{i}", sender_id=str(i), text="oi")
            for i in range(count)
        ]
        return self.Message._ai_store_inbound(self.channel, items)

    def test_burst_detection(self):
        self.env["ir.config_parameter"].set_param("crm_ai_agent.inbox_burst_rate", 40)
        self.store(19, "slow")
        self.assertFalse(self.Message._ai_inbound_burst(), "19 messages in half a second: under 40/s")
        self.store(1, "more")
        self.assertTrue(self.Message._ai_inbound_burst(), "20 in half a second: 40/s")
        self.env["ir.config_parameter"].set_param("crm_ai_agent.inbox_burst_rate", 0)
        self.assertFalse(self.Message._ai_inbound_burst(), "0 turns it off")
        self.env["ir.config_parameter"].set_param("crm_ai_agent.inbox_burst_rate", 40)
        self.Message.search([]).write({"next_attempt_at": fields.Datetime.now() - timedelta(seconds=2)})
        self.assertFalse(self.Message._ai_inbound_burst(), "messages of two seconds ago are no burst")
        self.store(20, "retry")
        self.Message.search([("external_id", "like", "retry-%")]).write({"attempts": 1})
        self.assertFalse(self.Message._ai_inbound_burst(), "retries due now are no burst")

    def test_pause_is_bounded_and_processing_goes_on(self):
        self.env["ir.config_parameter"].set_param("crm_ai_agent.inbox_burst_rate", 10)
        self.store(4, "calm")
        pauses = []
        self.env.flush_all()
        with patch.object(crm_ai_message.time, "sleep", pauses.append):
            self.Message._ai_yield_to_burst()
        self.assertEqual(pauses, [], "no burst: no pause")
        self.store(10, "burst")
        clock = [0.0]

        def sleep(seconds):
            pauses.append(seconds)
            clock[0] += seconds

        self.env.flush_all()
        with (
            patch.object(crm_ai_message.time, "sleep", sleep),
            patch.object(crm_ai_message.time, "monotonic", lambda: clock[0]),
        ):
            self.Message._cron_process_inbox()
        self.assertAlmostEqual(sum(pauses), crm_ai_message.BURST_PAUSE)
        self.assertFalse(
            self.Message.search_count([("external_id", "like", "calm-%"), ("state", "=", "received")]),
            "after the pause the batch is processed",
        )
