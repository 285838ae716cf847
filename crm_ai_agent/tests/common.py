import hashlib
import hmac
import json
from unittest.mock import patch

from odoo.tests import HttpCase, new_test_user
from odoo.tools import config

from ..controllers import direct
from .fake_server import FakeProvider

APP_SECRET = "meta-app-secret-for-the-tests-0123456789"
VERIFY_TOKEN = "meta-verify-token-for-tests"
TELEGRAM_SECRET = "telegram-secret_for-tests"
EVOLUTION_SECRET = "evolution-webhook-secret-for-the-tests-0123456789"


def meta_body(payload):
    """Bytes as Meta sends them: compact JSON, unicode ASCII-escaped."""
    return json.dumps(payload, separators=(",", ":")).encode()


def meta_signature(body, secret=APP_SECRET):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class CrmAiCase(HttpCase):
    """Channels of every type, a sales team with two salespeople, a provider fake.

    Webhook POSTs are served by the direct WSGI path (``controllers/direct.py``), or by the Odoo
    route when ``webhook_direct`` is False; every POST checks that the expected one served it.
    """

    webhook_direct = True

    def setUp(self):
        super().setUp()
        self.startPatcher(patch.dict(config.options, {"crm_ai_agent_webhook_direct": self.webhook_direct}))
        self.direct_answers = []
        serve = direct.serve

        def recorded_serve(environ):
            answer = serve(environ)
            self.direct_answers.append(answer)
            return answer

        self.patch(direct, "serve", recorded_serve)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.company = cls.env.company
        cls.salesman_1 = new_test_user(
            cls.env, login="crm_ai_sales_1", name="Salesperson One", groups="sales_team.group_sale_salesman"
        )
        cls.salesman_2 = new_test_user(
            cls.env, login="crm_ai_sales_2", name="Salesperson Two", groups="sales_team.group_sale_salesman"
        )
        cls.manager = new_test_user(
            cls.env, login="crm_ai_manager", name="Sales Manager", groups="sales_team.group_sale_manager"
        )
        cls.team = cls.env["crm.team"].create(
            {
                "name": "AI Team",
                "use_leads": True,
                "use_opportunities": True,
                "member_ids": [(6, 0, [cls.salesman_1.id, cls.salesman_2.id])],
            }
        )
        cls.fake = FakeProvider().start()
        cls.addClassCleanup(cls.fake.stop)
        Channel = cls.env["crm.ai.channel"]
        common = {"team_id": cls.team.id, "api_base_url": cls.fake.url}
        cls.wa = Channel.create(
            {
                "name": "WA Cloud",
                "channel_type": "whatsapp_cloud",
                "meta_app_secret": APP_SECRET,
                "meta_verify_token": VERIFY_TOKEN,
                "meta_access_token": "wa-token",
                "whatsapp_phone_number_id": "1234567890",
                **common,
            }
        )
        cls.evo = Channel.create(
            {
                "name": "WA Evolution",
                "channel_type": "whatsapp_evolution",
                "webhook_secret": EVOLUTION_SECRET,
                "evolution_instance": "loja",
                "evolution_api_key": "evo-key",
                **common,
            }
        )
        cls.ig = Channel.create(
            {
                "name": "Instagram",
                "channel_type": "instagram",
                "meta_app_secret": APP_SECRET,
                "meta_verify_token": VERIFY_TOKEN,
                "meta_access_token": "ig-token",
                **common,
            }
        )
        cls.fb = Channel.create(
            {
                "name": "Messenger",
                "channel_type": "messenger",
                "meta_app_secret": APP_SECRET,
                "meta_verify_token": VERIFY_TOKEN,
                "meta_access_token": "fb-token",
                **common,
            }
        )
        cls.tg = Channel.create(
            {
                "name": "Telegram",
                "channel_type": "telegram",
                "telegram_bot_token": "123:ABC",
                "telegram_secret_token": TELEGRAM_SECRET,
                **common,
            }
        )
        cls.web = Channel.create(
            {
                "name": "Site",
                "channel_type": "webchat",
                "webchat_allowed_origins": "https://www.loja.example",
                **common,
            }
        )

    # ------------------------------------------------------------------
    def path(self, channel):
        return channel._ai_webhook_path()

    def post_raw(self, channel_or_path, body, headers=None, content_type="application/json"):
        path = channel_or_path if isinstance(channel_or_path, str) else self.path(channel_or_path)
        hdrs = {"Content-Type": content_type} if content_type else {}
        hdrs.update(headers or {})
        answered = len(self.direct_answers)
        res = self.url_open(path, data=body, headers=hdrs, allow_redirects=False)
        if path.startswith(direct.PREFIX):
            direct_answers = [answer for answer in self.direct_answers[answered:] if answer is not None]
            self.assertEqual(
                len(direct_answers),
                int(self.webhook_direct),
                f"the webhook POST must be served by the {'direct path' if self.webhook_direct else 'Odoo route'}",
            )
            self.assertEqual(direct_answers[0][0] if direct_answers else res.status_code, res.status_code)
        return res

    def post_meta(self, channel, payload, secret=APP_SECRET, body=None):
        body = body if body is not None else meta_body(payload)
        return self.post_raw(channel, body, {"X-Hub-Signature-256": meta_signature(body, secret)})

    def post_telegram(self, update, secret=TELEGRAM_SECRET):
        return self.post_raw(self.tg, json.dumps(update).encode(), {"X-Telegram-Bot-Api-Secret-Token": secret})

    def post_evolution(self, payload, secret=EVOLUTION_SECRET):
        return self.post_raw(self.evo, json.dumps(payload).encode(), {"X-Webhook-Secret": secret})

    def process(self):
        """Run the inbox queue the way the cron does, until it is empty."""
        Message = self.env["crm.ai.message"]
        for __ in range(50):
            if not Message.search_count([("state", "=", "received"), ("direction", "=", "in")]):
                break
            Message._cron_process_inbox()
        self.env.invalidate_all()

    def messages(self, channel):
        return self.env["crm.ai.message"].search([("channel_id", "=", channel.id)])


def wa_text(wamid, wa_id, text, name="Cliente", ts="1732550000", phone_number_id="1234567890"):
    """A WhatsApp Cloud API text message notification, as documented by Meta."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": [
                                {"from": wa_id, "id": wamid, "timestamp": ts, "type": "text", "text": {"body": text}}
                            ],
                        },
                    }
                ],
            }
        ],
    }
