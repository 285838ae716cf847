"""Fixtures for replies and routing: a provider fake that answers like each real API."""

import itertools
import json
from datetime import datetime, timedelta

from odoo import fields

from .common import CrmAiCase, meta_body, meta_signature, wa_text

OUTBOUND_LOGGER = "odoo.addons.crm_ai_agent.models.crm_ai_outbound"
WEBHOOK_LOGGER = "odoo.addons.crm_ai_agent.controllers.webhook"
HOT_LEAD = "crm_ai_agent/hot_lead"


def provider_answers():
    """A default handler answering success the way each provider does, with fresh ids."""
    counter = itertools.count(1)

    def answer(req):
        path = req["path"].split("?")[0]
        n = next(counter)
        if path.endswith("/messages") and "/message_templates" not in path and not path.startswith("/me/"):
            return 200, {
                "messaging_product": "whatsapp",
                "contacts": [{"input": "x", "wa_id": "x"}],
                "messages": [{"id": f"wamid.OUT{n}"}],
            }
        if path.endswith("/media"):
            return 200, {"id": f"MEDIA{n}"}
        if path.startswith("/message/send"):
            return 201, {"key": {"remoteJid": "x@s.whatsapp.net", "fromMe": True, "id": f"EVO{n}"}, "status": "PENDING"}
        if path.startswith("/bot"):
            chat_id = None
            body = req["body"]
            if isinstance(body, dict):
                chat_id = body.get("chat_id")
            else:
                raw = req["raw"].decode("latin-1")
                marker = 'name="chat_id"\r\n\r\n'
                if marker in raw:
                    chat_id = raw.split(marker, 1)[1].split("\r\n", 1)[0]
            return 200, {"ok": True, "result": {"message_id": n, "date": 1732550000, "chat": {"id": int(chat_id or 0)}}}
        if path == "/me/messages":
            return 200, {"recipient_id": "x", "message_id": f"m_OUT{n}"}
        return 404, {"error": {"message": f"no such fake endpoint {path}"}}

    return answer


def wa_status(wamid, status, recipient="5511987654321", ts=None, errors=None, opaque=None):
    entry = {"id": wamid, "status": status, "timestamp": str(ts or 1732550100), "recipient_id": recipient}
    if errors:
        entry["errors"] = errors
    if opaque:
        entry["biz_opaque_callback_data"] = opaque
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1234567890"},
                            "statuses": [entry],
                        },
                    }
                ],
            }
        ],
    }


class OutboundCase(CrmAiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Message = cls.env["crm.ai.message"]
        cls.team.ai_response_minutes = 5
        # A configured outgoing e-mail domain, as on any real server (followers' notifications, e-mail alerts).
        if not cls.company.alias_domain_id:
            cls.company.alias_domain_id = cls.env["mail.alias.domain"].create({"name": "loja.example"})

    def setUp(self):
        super().setUp()
        self.fake.requests.clear()
        self.fake.responses.clear()
        self.fake.default = provider_answers()

    # ------------------------------------------------------------------
    def ts(self, when=None):
        """Unix seconds of a naive UTC datetime (default: now)."""
        when = when or fields.Datetime.now()
        return str(int((when - datetime(1970, 1, 1)).total_seconds()))

    def wa_inbound(self, wamid, wa_id="5511987654321", text="Olá, quero saber o preço", name="Maria José", when=None):
        """A WhatsApp Cloud message through the signed webhook and the inbox queue. Returns the lead."""
        body = meta_body(wa_text(wamid, wa_id, text, name=name, ts=self.ts(when)))
        response = self.post_raw(self.wa, body, {"X-Hub-Signature-256": meta_signature(body)})
        self.assertEqual(response.status_code, 200, response.text)
        self.process()
        message = self.env["crm.ai.message"].search(
            [("channel_id", "=", self.wa.id), ("external_id", "=", wamid)], limit=1
        )
        self.assertEqual(message.state, "processed", message.error)
        return message.lead_id

    def post_wa_status(self, *args, **kwargs):
        response = self.post_meta(self.wa, wa_status(*args, **kwargs))
        self.assertEqual(response.status_code, 200, response.text)
        self.process()

    def send_queue(self):
        """Run the send queue the way its cron does, until nothing is due."""
        for __ in range(20):
            if not self.Message.search_count(
                [
                    ("direction", "=", "out"),
                    ("delivery_state", "=", "pending"),
                    ("external_id", "=", False),
                    ("next_attempt_at", "<=", fields.Datetime.now()),
                ]
            ):
                break
            self.Message._cron_send_outbound()
        self.env.invalidate_all()

    def reply(self, lead, body="", user=None, **kwargs):
        """Reply through the composer, as ``user`` (default: first salesperson)."""
        user = user or self.salesman_1
        wizard = (
            self.env["crm.ai.reply.wizard"]
            .with_user(user)
            .with_context(default_lead_id=lead.id)
            .create({"body": body, **kwargs})
        )
        wizard.action_send()
        return self.Message.search([("lead_id", "=", lead.id), ("direction", "=", "out")], order="id desc")

    def sent(self, path_part):
        return [r for r in self.fake.requests if path_part in r["path"]]

    def bus_messages(self, user, notification_type):
        """Bus notifications of ``notification_type`` sent to ``user`` in this transaction."""
        self.env.cr.precommit.run()
        channel = json.dumps([self.env.cr.dbname, "res.partner", user.partner_id.id], separators=(",", ":"))
        notifs = self.env["bus.bus"].sudo().search([("channel", "=", channel)])
        result = []
        for notif in notifs:
            message = json.loads(notif.message)
            if message.get("type") == notification_type:
                result.append(message.get("payload"))
        return result

    @staticmethod
    def minutes(n):
        return timedelta(minutes=n)
