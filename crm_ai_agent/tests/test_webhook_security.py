import json
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import config

from .common import APP_SECRET, VERIFY_TOKEN, CrmAiCase, meta_body, meta_signature, wa_text

LOGGER = "odoo.addons.crm_ai_agent.controllers.webhook"


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestWebhookSecurity(CrmAiCase):
    """Every refusal is a clear 4xx, writes no row and triggers no job."""

    def assertNothingStored(self):
        self.assertFalse(self.env["crm.ai.message"].search_count([]), "a refused request must not write a row")

    def test_signature_matrix_whatsapp(self):
        payload = wa_text("wamid.SIG1", "5511987654321", "Olá 😀 ação")
        body = meta_body(payload)
        cases = {
            "missing": {},
            "wrong": {"X-Hub-Signature-256": "sha256=" + "0" * 64},
            "no prefix": {"X-Hub-Signature-256": meta_signature(body)[7:]},
            "other secret": {"X-Hub-Signature-256": meta_signature(body, "another-app-secret-0123456789abcdef")},
        }
        for label, headers in cases.items():
            with self.subTest(label), self.assertLogs(LOGGER, "WARNING"):
                res = self.post_raw(self.wa, body, headers)
                self.assertEqual(res.status_code, 403, label)
        # The same content re-serialised (unicode not escaped, other spacing) does not verify.
        reserialised = json.dumps(payload, ensure_ascii=False, indent=1).encode()
        with self.assertLogs(LOGGER, "WARNING"):
            res = self.post_raw(self.wa, reserialised, {"X-Hub-Signature-256": meta_signature(body)})
        self.assertEqual(res.status_code, 403)
        self.assertNothingStored()
        self.assertFalse(
            self.env["ir.cron.trigger"].search_count(
                [("cron_id", "=", self.env.ref("crm_ai_agent.ir_cron_process_inbox").id)]
            )
        )

    def test_emoji_body_with_correct_signature_is_accepted(self):
        res = self.post_meta(self.wa, wa_text("wamid.EMOJI", "5511987654321", "Quero o carro 🚗🔥 hoje!"))
        self.assertEqual(res.status_code, 200, res.text)
        self.assertEqual(res.json()["stored"], 1)
        message = self.messages(self.wa)
        self.assertEqual(message.body, "Quero o carro 🚗🔥 hoje!")
        cron = self.env.ref("crm_ai_agent.ir_cron_process_inbox")
        self.assertTrue(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), "the queue is woken up at once"
        )

    def test_fail_closed_without_secret(self):
        self.wa.meta_app_secret = False
        with self.assertLogs(LOGGER, "WARNING"):
            res = self.post_meta(self.wa, wa_text("wamid.NOSECRET", "5511987654321", "oi"))
        self.assertEqual(res.status_code, 403)
        self.tg.telegram_secret_token = False
        with self.assertLogs(LOGGER, "WARNING"):
            res = self.post_telegram({"update_id": 1, "message": {}}, secret="")
        self.assertEqual(res.status_code, 403)
        self.assertNothingStored()

    def test_rotated_secret_applies_to_the_next_request(self):
        """The webhook keeps its channel's secrets in a per-worker cache: a change must clear it."""
        res = self.post_meta(self.wa, wa_text("wamid.ROT1", "5511987654321", "oi"))
        self.assertEqual(res.status_code, 200, res.text)
        new_secret = "rotated-app-secret-0123456789abcdef"
        self.wa.meta_app_secret = new_secret
        body = meta_body(wa_text("wamid.ROT2", "5511987654321", "oi de novo"))
        with self.assertLogs(LOGGER, "WARNING"):
            res = self.post_raw(self.wa, body, {"X-Hub-Signature-256": meta_signature(body)})
        self.assertEqual(res.status_code, 403, "the old secret no longer verifies")
        res = self.post_raw(self.wa, body, {"X-Hub-Signature-256": meta_signature(body, new_secret)})
        self.assertEqual(res.status_code, 200, res.text)
        self.wa.active = False
        res = self.post_raw(self.wa, body, {"X-Hub-Signature-256": meta_signature(body, new_secret)})
        self.assertEqual(res.status_code, 404, res.text)
        self.assertEqual(self.messages(self.wa).mapped("external_id"), ["wamid.ROT2", "wamid.ROT1"])

    def test_verify_handshake(self):
        ok = self.url_open(
            f"{self.path(self.wa)}?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
        )
        self.assertEqual(ok.status_code, 200)
        self.assertEqual(ok.text, "1158201444")
        with self.assertLogs(LOGGER, "WARNING"):
            bad = self.url_open(f"{self.path(self.wa)}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
        self.assertEqual(bad.status_code, 403)

    def test_unknown_and_inactive_channel(self):
        res = self.post_meta("/crm_ai_agent/webhook/does-not-exist", wa_text("wamid.X", "5511987654321", "oi"))
        self.assertEqual(res.status_code, 404)
        self.wa.active = False
        res = self.post_meta(self.wa, wa_text("wamid.Y", "5511987654321", "oi"))
        self.assertEqual(res.status_code, 404)
        self.assertNothingStored()

    def test_malformed_and_wrong_content_type(self):
        body = b'{"object": "whatsapp_business_account", "entry": [ '
        res = self.post_raw(self.wa, body, {"X-Hub-Signature-256": meta_signature(body)})
        self.assertEqual(res.status_code, 400)
        body = meta_body(wa_text("wamid.CT", "5511987654321", "oi"))
        res = self.post_raw(
            self.wa,
            body,
            {"X-Hub-Signature-256": meta_signature(body)},
            content_type="application/x-www-form-urlencoded",
        )
        self.assertEqual(res.status_code, 400)
        for body in (b"[" * 100000, b'{"object": "\xff\xfe"}', b"\xff\xfe\x00"):
            res = self.post_raw(self.wa, body, {"X-Hub-Signature-256": meta_signature(body)})
            self.assertEqual(res.status_code, 400, body[:20])
        body = b"[1, 2, 3]"
        res = self.post_raw(self.wa, body, {"X-Hub-Signature-256": meta_signature(body)})
        self.assertEqual(res.status_code, 400)
        self.assertNothingStored()

    def test_body_over_limit(self):
        self.env["ir.config_parameter"].set_param("crm_ai_agent.webhook_max_bytes", 2048)
        payload = wa_text("wamid.BIG", "5511987654321", "x" * 4096)
        with self.assertLogs(LOGGER, "WARNING"):
            res = self.post_meta(self.wa, payload)
        self.assertEqual(res.status_code, 413)
        self.assertNothingStored()

    def test_telegram_secret_token(self):
        update = {
            "update_id": 10,
            "message": {
                "message_id": 5,
                "date": 1732550000,
                "from": {"id": 77, "is_bot": False, "first_name": "Rafa"},
                "chat": {"id": 77, "type": "private"},
                "text": "oi",
            },
        }
        with self.assertLogs(LOGGER, "WARNING"):
            self.assertEqual(self.post_telegram(update, secret="wrong").status_code, 403)
        with self.assertLogs(LOGGER, "WARNING"):
            self.assertEqual(self.post_raw(self.tg, json.dumps(update).encode()).status_code, 403)
        self.assertNothingStored()
        self.assertEqual(self.post_telegram(update).status_code, 200)

    def test_evolution_secret_and_jwt(self):
        import time

        import jwt  # PyJWT

        payload = {
            "event": "messages.upsert",
            "instance": "loja",
            "data": {
                "key": {"remoteJid": "5511987654321@s.whatsapp.net", "fromMe": False, "id": "3EB0AAA1"},
                "pushName": "Zé",
                "message": {"conversation": "oi"},
                "messageType": "conversation",
                "messageTimestamp": 1732550000,
            },
        }
        body = json.dumps(payload).encode()
        with self.assertLogs(LOGGER, "WARNING"):
            self.assertEqual(self.post_evolution(payload, secret="nope").status_code, 403)
        now = int(time.time())
        token = jwt.encode(
            {"iat": now, "exp": now + 600, "app": "evolution", "action": "webhook"},
            "another-key-that-is-long-enough-0123456789",
            algorithm="HS256",
        )
        with self.assertLogs(LOGGER, "WARNING"):
            res = self.post_raw(self.evo, body, {"Authorization": f"Bearer {token}"})
        self.assertEqual(res.status_code, 403)
        self.assertNothingStored()
        token = jwt.encode(
            {"iat": now, "exp": now + 600, "app": "evolution", "action": "webhook"},
            self.evo.webhook_secret,
            algorithm="HS256",
        )
        res = self.post_raw(self.evo, body, {"Authorization": f"Bearer {token}"})
        self.assertEqual(res.status_code, 200, res.text)
        self.assertEqual(self.post_evolution(payload).json()["duplicates"], 1)

    def test_webchat_origin(self):
        url = f"/crm_ai_agent/webchat/{self.web.webchat_public_key}/messages"
        body = json.dumps(
            {"visitor_id": "visitor-0001", "message_id": "6f1c2a2e-8d0b-4b8e-9a51-3f0f5f6b9a01", "text": "Olá"}
        ).encode()
        with self.assertLogs("odoo.addons.crm_ai_agent.controllers.webhook", "WARNING"):
            res = self.url_open(
                url, data=body, headers={"Content-Type": "application/json", "Origin": "https://evil.example"}
            )
        self.assertEqual(res.status_code, 403)
        res = self.url_open(
            url, data=body, headers={"Content-Type": "application/json", "Origin": "https://www.loja.example"}
        )
        self.assertEqual(res.status_code, 200, res.text)
        self.assertEqual(res.headers.get("Access-Control-Allow-Origin"), "https://www.loja.example")
        self.assertTrue(res.json()["visitor_token"])

    def test_secrets_hidden_from_salespeople(self):
        channel = self.wa.with_user(self.salesman_1)
        data = channel.read(["name"])[0]
        self.assertNotIn("meta_app_secret", data)
        fields = channel.fields_get()
        for secret in (
            "meta_app_secret",
            "meta_access_token",
            "telegram_bot_token",
            "webhook_secret",
            "webhook_token",
            "evolution_api_key",
            "meta_verify_token",
        ):
            self.assertNotIn(secret, fields, f"{secret} must be admin-only")
        message_fields = self.env["crm.ai.message"].with_user(self.manager).fields_get()
        self.assertNotIn("payload", message_fields)
        self.assertTrue(APP_SECRET)

    def test_both_paths_answer_alike(self):
        """The direct path and the Odoo route give the same answers: a message, then its redelivery."""
        payload = wa_text("wamid.SAME", "5511987654321", "oi")
        answers = []
        for direct_path in (self.webhook_direct, not self.webhook_direct) * 2:
            self.webhook_direct = direct_path
            with patch.dict(config.options, {"crm_ai_agent_webhook_direct": direct_path}):
                res = self.post_meta(self.wa, payload)
                with self.assertLogs(LOGGER, "WARNING"):
                    forged = self.post_meta(self.wa, payload, secret="another-app-secret-0123456789abcdef")
            answers.append(
                (res.status_code, res.headers["Content-Type"], res.json(), forged.status_code, forged.json())
            )
        self.assertEqual(answers[0][2], {"ok": True, "stored": 1, "duplicates": 0})
        self.assertEqual(answers[1], answers[2])
        self.assertEqual(answers[2], answers[3])
        self.assertEqual(
            answers[1][:3], (200, "application/json; charset=utf-8", {"ok": True, "stored": 0, "duplicates": 1})
        )
        self.assertEqual(answers[1][3:], (403, {"ok": False, "error": "bad or missing X-Hub-Signature-256"}))
        self.assertEqual(len(self.messages(self.wa)), 1)

    def test_body_without_length(self):
        """A chunked POST (no Content-Length) is left to the Odoo route, which reads it within the limit."""
        body = meta_body(wa_text("wamid.CHUNKED", "5511987654321", "oi"))
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": meta_signature(body)}
        res = self.url_open(self.path(self.wa), data=iter([body[:25], body[25:]]), headers=headers)
        self.assertEqual(res.status_code, 200, res.text)
        self.assertEqual(self.messages(self.wa).mapped("external_id"), ["wamid.CHUNKED"])
        self.assertFalse([answer for answer in self.direct_answers if answer is not None])
        self.env["ir.config_parameter"].set_param("crm_ai_agent.webhook_max_bytes", 64)
        body = meta_body(wa_text("wamid.CHUNKED2", "5511987654321", "x" * 200))
        headers["X-Hub-Signature-256"] = meta_signature(body)
        with self.assertLogs(LOGGER, "WARNING"):
            res = self.url_open(self.path(self.wa), data=iter([body[:25], body[25:]]), headers=headers)
        self.assertEqual(res.status_code, 413)
        self.assertEqual(len(self.messages(self.wa)), 1)


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestWebhookSecurityOdooRoute(TestWebhookSecurity):
    """The same requests with the direct path turned off (``crm_ai_agent_webhook_direct = False``):
    the Odoo route answers them alike."""

    webhook_direct = False
    allow_inherited_tests_method = True
