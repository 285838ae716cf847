import threading
import time
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.bus.models.bus import dispatch
from odoo.addons.bus.websocket import WebsocketConnectionHandler

from .common import CrmAiCase, meta_body, meta_signature, wa_text


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestLeadViews(CrmAiCase):
    def test_views_show_ai_fields(self):
        Lead = self.env["crm.lead"]
        kanban = Lead.get_views([(False, "kanban")])["views"]["kanban"]["arch"]
        for field in ("ai_temperature", "ai_score", "ai_channel_type"):
            self.assertIn(field, kanban)
        form = Lead.get_views([(False, "form")])["views"]["form"]["arch"]
        for field in ("ai_temperature", "ai_score", "ai_intent", "ai_interest", "ai_reason", "ai_channel_id"):
            self.assertIn(field, form)
        search = Lead.get_views([(False, "search")])["views"]["search"]["arch"]
        self.assertIn("groupby_ai_temperature", search)
        self.assertIn("ai_hot", search)

    def test_temperature_labels(self):
        selection = dict(self.env["crm.lead"]._fields["ai_temperature"].selection)
        self.assertEqual(set(selection), {"hot", "warm", "cold", "in_service"})


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestLiveKanban(CrmAiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Odoo refuses websockets during tests unless a test allows them (as bus.tests.common.WebsocketCase does).
        cls.startClassPatcher(patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True))

    def test_new_lead_appears_live_in_open_kanban(self):
        """A salesperson has the pipeline open; a WhatsApp message arrives; the card shows up without reload."""
        self.wa.user_id = self.env.ref("base.user_admin")  # "My Pipeline" of the tour user
        # The message is hot: handoff keeps it with the channel's salesperson rather than the team's round robin.
        self.team.ai_routing_strategy = "default_user"
        body = meta_body(
            wa_text("wamid.TOUR1", "5511912340000", "Quero agendar um test drive amanhã", name="Cliente do Tour")
        )
        self.env["ir.config_parameter"].set_param("crm_ai_agent.tour_webhook", self.path(self.wa))
        self.env["ir.config_parameter"].set_param("crm_ai_agent.tour_body", body.decode())
        self.env["ir.config_parameter"].set_param("crm_ai_agent.tour_signature", meta_signature(body))
        self.env["ir.config_parameter"].set_param(
            "crm_ai_agent.tour_cron", str(self.env.ref("crm_ai_agent.ir_cron_process_inbox").id)
        )
        # Test cursors never commit, so PostgreSQL's NOTIFY never reaches the websockets: relay it the way
        # the server's bus loop does after a commit.
        stop = threading.Event()

        def relay():
            while not stop.is_set():
                for websockets in list(dispatch._channels_to_ws.values()):
                    for websocket in list(websockets):
                        websocket.trigger_notification_dispatching()
                time.sleep(0.2)

        relay_thread = threading.Thread(target=relay, daemon=True)
        relay_thread.start()
        try:
            self.start_tour("/odoo/crm", "crm_ai_agent_live_kanban", login="admin")
        finally:
            stop.set()
            relay_thread.join(2)
        lead = self.env["crm.lead"].search([("ai_channel_id", "=", self.wa.id)])
        self.assertEqual(len(lead), 1)
