"""Replies on the lead's channel: composer, send queue, providers over HTTP, windows, retries, opt-out."""

import base64
import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import freeze_time, new_test_user, tagged

from .common_outbound import OUTBOUND_LOGGER, WEBHOOK_LOGGER, OutboundCase

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def meta_event(obj, sender, mid, text, ts_ms):
    return {
        "object": obj,
        "entry": [
            {
                "id": "PAGE1",
                "time": ts_ms,
                "messaging": [
                    {
                        "sender": {"id": sender},
                        "recipient": {"id": "PAGE1"},
                        "timestamp": ts_ms,
                        "message": {"mid": mid, "text": text},
                    }
                ],
            }
        ],
    }


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestOutbound(OutboundCase):
    # ------------------------------------------------------------------
    # WhatsApp Cloud: the whole path
    # ------------------------------------------------------------------

    def test_whatsapp_reply_queued_sent_once_and_status_updates(self):
        lead = self.wa_inbound("wamid.IN1")
        lead.user_id = self.salesman_1
        mails_before = self.env["mail.mail"].search_count([])

        rows = self.reply(lead, "Olá Maria! O Onix 2025 sai por R$ 98.900 à vista.")

        self.assertEqual(len(rows), 1)
        self.assertEqual(rows.delivery_state, "pending")
        self.assertEqual(rows.origin, "manual")
        self.assertEqual(rows.user_id, self.salesman_1)
        self.assertEqual(rows.recipient_key, "5511987654321")
        self.assertFalse(self.fake.requests, "the composer never waits on the provider")
        self.assertTrue(
            self.env["ir.cron.trigger"].search_count(
                [("cron_id", "=", self.env.ref("crm_ai_agent.ir_cron_send_outbound").id)]
            ),
            "the send queue is woken up",
        )
        # The chatter shows the reply as the salesperson, and nothing is e-mailed to the customer.
        posted = rows.mail_message_id
        self.assertEqual(posted.author_id, self.salesman_1.partner_id)
        self.assertEqual(posted.subtype_id, self.env.ref("crm_ai_agent.mt_ai_channel_reply"))
        self.assertIn("R$ 98.900", str(posted.body))
        self.assertFalse(posted.notification_ids.filtered(lambda n: n.res_partner_id == lead.partner_id))
        self.assertEqual(self.env["mail.mail"].search_count([]), mails_before)
        self.assertEqual(posted._ai_delivery_by_message()[posted.id]["state"], "pending")
        # The lead is now with a person.
        self.assertEqual(lead.ai_temperature, "in_service")
        self.assertEqual(lead.ai_service_user_id, self.salesman_1)
        self.assertTrue(lead.ai_first_response_date)
        self.assertFalse(lead.ai_waiting)

        self.send_queue()
        calls = self.sent("/1234567890/messages")
        self.assertEqual(len(calls), 1)
        call = calls[0]
        self.assertEqual(call["method"], "POST")
        self.assertEqual(call["headers"]["authorization"], "Bearer wa-token")
        self.assertEqual(call["body"]["to"], "5511987654321")
        self.assertEqual(call["body"]["type"], "text")
        self.assertEqual(call["body"]["text"]["body"], "Olá Maria! O Onix 2025 sai por R$ 98.900 à vista.")
        self.assertEqual(call["body"]["biz_opaque_callback_data"], f"crm_ai:{rows.id}")
        self.assertEqual(rows.delivery_state, "sent")
        self.assertTrue(rows.external_id.startswith("wamid.OUT"))
        self.assertTrue(rows.sent_date)

        # Never sent twice: the queue again, a retry of a sent message.
        self.Message._cron_send_outbound()
        rows._ai_send_outbound()
        self.assertEqual(len(self.sent("/1234567890/messages")), 1)

        # Status events from the provider move it forward, never back.
        self.post_wa_status(rows.external_id, "delivered")
        self.assertEqual(rows.delivery_state, "delivered")
        self.post_wa_status(rows.external_id, "read")
        self.post_wa_status(rows.external_id, "sent")
        self.assertEqual(rows.delivery_state, "read")
        summary = posted._ai_delivery_by_message()[posted.id]
        self.assertEqual(summary["state"], "read")
        self.assertEqual(summary["channel"], "WhatsApp")

    def test_whatsapp_failed_status_shows_reason_and_alerts_author(self):
        lead = self.wa_inbound("wamid.IN2")
        lead.user_id = self.salesman_1
        rows = self.reply(lead, "Podemos falar amanhã?")
        self.send_queue()
        errors = [{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable"}]
        self.post_wa_status(rows.external_id, "failed", errors=errors)
        self.assertEqual(rows.delivery_state, "failed")
        self.assertIn("131026", rows.error)
        summary = rows.mail_message_id._ai_delivery_by_message()[rows.mail_message_id.id]
        self.assertEqual(summary["state"], "failed")
        self.assertIn("undeliverable", summary["error"])
        alerts = self.bus_messages(self.salesman_1, "simple_notification")
        self.assertTrue(any("undeliverable" in a["message"] for a in alerts))

    def test_whatsapp_attachments_uploaded_then_sent_in_order(self):
        lead = self.wa_inbound("wamid.IN3")
        lead.user_id = self.salesman_1
        Attachment = self.env["ir.attachment"].with_user(self.salesman_1)
        photo = Attachment.create(
            {"name": "onix.png", "raw": PNG, "mimetype": "image/png", "res_model": "crm.ai.reply.wizard", "res_id": 0}
        )
        pdf = Attachment.create(
            {
                "name": "proposta.pdf",
                "raw": b"%PDF-1.4 fake",
                "mimetype": "application/pdf",
                "res_model": "crm.ai.reply.wizard",
                "res_id": 0,
            }
        )
        rows = self.reply(lead, "Segue a foto e a proposta", attachment_ids=[(6, 0, [photo.id, pdf.id])])
        self.assertEqual(len(rows), 3)
        self.assertEqual(rows.mail_message_id.attachment_ids, photo | pdf)
        self.assertEqual(photo.res_model, "crm.lead", "the files move to the lead")
        self.send_queue()
        self.assertEqual(set(rows.mapped("delivery_state")), {"sent"})
        paths = [r["path"] for r in self.fake.requests]
        self.assertEqual(
            paths,
            [
                "/1234567890/messages",
                "/1234567890/media",
                "/1234567890/messages",
                "/1234567890/media",
                "/1234567890/messages",
            ],
        )
        uploads = self.sent("/media")
        self.assertIn(b'filename="onix.png"', uploads[0]["raw"])
        self.assertIn(PNG, uploads[0]["raw"])
        messages = [r["body"] for r in self.sent("/messages")]
        self.assertEqual(messages[0]["type"], "text")
        self.assertEqual(messages[1]["type"], "image")
        self.assertEqual(messages[1]["image"]["id"], "MEDIA2")
        self.assertEqual(messages[2]["type"], "document")
        self.assertEqual(messages[2]["document"]["filename"], "proposta.pdf")

    # ------------------------------------------------------------------
    # Other providers
    # ------------------------------------------------------------------

    def test_evolution_text_and_media(self):
        payload = {
            "event": "messages.upsert",
            "instance": "loja",
            "data": {
                "key": {"remoteJid": "5521976543210@s.whatsapp.net", "fromMe": False, "id": "3EB0EVO1"},
                "pushName": "Bia",
                "message": {"conversation": "Oi, tem disponível?"},
                "messageType": "conversation",
                "messageTimestamp": int(self.ts()),
            },
        }
        self.assertEqual(self.post_evolution(payload).status_code, 200)
        self.process()
        lead = self.messages(self.evo).lead_id
        lead.user_id = self.salesman_1
        photo = (
            self.env["ir.attachment"]
            .with_user(self.salesman_1)
            .create(
                {
                    "name": "foto.png",
                    "raw": PNG,
                    "mimetype": "image/png",
                    "res_model": "crm.ai.reply.wizard",
                    "res_id": 0,
                }
            )
        )
        rows = self.reply(lead, "Tem sim!", attachment_ids=[(6, 0, photo.ids)])
        self.send_queue()
        self.assertEqual(set(rows.mapped("delivery_state")), {"sent"}, rows.mapped("error"))
        text, media = self.sent("/message/sendText/loja"), self.sent("/message/sendMedia/loja")
        self.assertEqual(text[0]["body"], {"number": "5521976543210", "text": "Tem sim!"})
        self.assertEqual(text[0]["headers"]["apikey"], "evo-key")
        self.assertEqual(media[0]["body"]["mediatype"], "image")
        self.assertEqual(base64.b64decode(media[0]["body"]["media"]), PNG)
        self.assertEqual(media[0]["body"]["fileName"], "foto.png")
        self.assertEqual(sorted(rows.mapped("external_id")), ["EVO1", "EVO2"])

    def test_telegram_text_and_document(self):
        update = {
            "update_id": 9001,
            "message": {
                "message_id": 5,
                "date": int(self.ts()),
                "from": {"id": 777001, "is_bot": False, "first_name": "Luísa", "language_code": "pt-br"},
                "chat": {"id": 777001, "first_name": "Luísa", "type": "private"},
                "text": "Vocês entregam em Curitiba?",
            },
        }
        self.assertEqual(self.post_telegram(update).status_code, 200)
        self.process()
        lead = self.messages(self.tg).lead_id
        lead.user_id = self.salesman_1
        pdf = (
            self.env["ir.attachment"]
            .with_user(self.salesman_1)
            .create(
                {
                    "name": "frete.pdf",
                    "raw": b"%PDF fake",
                    "mimetype": "application/pdf",
                    "res_model": "crm.ai.reply.wizard",
                    "res_id": 0,
                }
            )
        )
        rows = self.reply(lead, "Entregamos sim, frete grátis!", attachment_ids=[(6, 0, pdf.ids)])
        self.send_queue()
        self.assertEqual(set(rows.mapped("delivery_state")), {"sent"}, rows.mapped("error"))
        text = self.sent("/bot123:ABC/sendMessage")[0]
        self.assertEqual(text["body"]["chat_id"], "777001")
        self.assertEqual(text["body"]["text"], "Entregamos sim, frete grátis!")
        document = self.sent("/bot123:ABC/sendDocument")[0]
        self.assertIn(b'name="document"; filename="frete.pdf"', document["raw"])
        self.assertEqual(sorted(rows.mapped("external_id")), ["777001:1", "777001:2"])

    def test_telegram_business_chat_is_answered_through_its_connection(self):
        update = {
            "update_id": 9101,
            "business_message": {
                "business_connection_id": "BCONN-42",
                "message_id": 7,
                "date": int(self.ts()),
                "from": {"id": 777002, "is_bot": False, "first_name": "Caio"},
                "chat": {"id": 777002, "first_name": "Caio", "type": "private"},
                "text": "Tem o tênis 42 em estoque?",
            },
        }
        self.assertEqual(self.post_telegram(update).status_code, 200)
        self.process()
        lead = self.messages(self.tg).lead_id
        lead.user_id = self.salesman_1
        rows = self.reply(lead, "Temos sim!")
        self.send_queue()
        self.assertEqual(rows.delivery_state, "sent", rows.error)
        call = self.sent("/bot123:ABC/sendMessage")[0]
        self.assertEqual(call["body"]["chat_id"], "777002")
        self.assertEqual(call["body"]["business_connection_id"], "BCONN-42")

    def test_messenger_and_instagram_send_api(self):
        ts_ms = int(self.ts()) * 1000
        self.post_meta(self.fb, meta_event("page", "PSID9", "m_IN1", "Oi, ainda tem?", ts_ms))
        self.post_meta(self.ig, meta_event("instagram", "IGSID9", "ig_IN1", "Qual o valor?", ts_ms))
        self.process()
        fb_lead, ig_lead = self.messages(self.fb).lead_id, self.messages(self.ig).lead_id
        (fb_lead | ig_lead).user_id = self.salesman_1
        self.fake.requests.clear()
        photo = (
            self.env["ir.attachment"]
            .with_user(self.salesman_1)
            .create(
                {
                    "name": "kit.png",
                    "raw": PNG,
                    "mimetype": "image/png",
                    "res_model": "crm.ai.reply.wizard",
                    "res_id": 0,
                }
            )
        )
        photo_ig = (
            self.env["ir.attachment"]
            .with_user(self.salesman_1)
            .create(
                {
                    "name": "kit.png",
                    "raw": PNG,
                    "mimetype": "image/png",
                    "res_model": "crm.ai.reply.wizard",
                    "res_id": 0,
                }
            )
        )
        fb_rows = self.reply(fb_lead, "Tem sim!", attachment_ids=[(6, 0, photo.ids)])
        ig_rows = self.reply(ig_lead, "R$ 150", attachment_ids=[(6, 0, photo_ig.ids)])
        self.send_queue()
        self.assertEqual(set((fb_rows | ig_rows).mapped("delivery_state")), {"sent"})
        calls = self.sent("/me/messages")
        self.assertEqual(len(calls), 4)
        fb_calls = [c for c in calls if c["headers"]["authorization"] == "Bearer fb-token"]
        ig_calls = [c for c in calls if c["headers"]["authorization"] == "Bearer ig-token"]
        fb_text, fb_media = fb_calls
        self.assertEqual(
            fb_text["body"],
            {"recipient": {"id": "PSID9"}, "messaging_type": "RESPONSE", "message": {"text": "Tem sim!"}},
        )
        self.assertIn(b'name="filedata"; filename="kit.png"', fb_media["raw"], "Messenger gets the file itself")
        self.assertIn(b"PSID9", fb_media["raw"])
        ig_text, ig_media = ig_calls
        self.assertEqual(ig_text["body"]["recipient"], {"id": "IGSID9"})
        self.assertEqual(ig_text["body"]["message"], {"text": "R$ 150"})
        url = ig_media["body"]["message"]["attachment"]["payload"]["url"]
        self.assertIn(f"/web/content/{photo_ig.id}?access_token=", url, "Instagram takes a link to the file")

    def test_webchat_reply_polled_by_the_widget(self):
        key = self.web.webchat_public_key
        answer = self.url_open(
            f"/crm_ai_agent/webchat/{key}/messages",
            data=json.dumps(
                {
                    "visitor_id": "visitor_0001",
                    "message_id": "7d9f2c6e-5b0a-4f0e-9d1e-2b7c1a9e4f10",
                    "text": "Oi, quero um orçamento",
                    "name": "Visitante",
                }
            ),
            headers={"Content-Type": "application/json"},
        ).json()
        token = answer["visitor_token"]
        self.process()
        lead = self.messages(self.web).lead_id
        lead.user_id = self.salesman_1
        rows = self.reply(lead, "Claro! Qual produto?")
        self.send_queue()
        self.assertEqual(rows.delivery_state, "sent")
        self.assertFalse(self.fake.requests, "web chat replies wait for the widget, no HTTP call")
        url = f"/crm_ai_agent/webchat/{key}/messages?visitor_id=visitor_0001&after=0"
        polled = self.url_open(url, headers={"X-Visitor-Token": token})
        self.assertEqual(polled.status_code, 200)
        data = polled.json()
        self.assertEqual([m["text"] for m in data["messages"]], ["Claro! Qual produto?"])
        self.assertEqual(data["messages"][0]["author"], "Salesperson One")
        self.assertEqual(data["last_id"], rows.id)
        self.env.invalidate_all()
        self.assertEqual(rows.delivery_state, "delivered", "the widget got it")
        again = self.url_open(f"{url[:-1]}{rows.id}", headers={"X-Visitor-Token": token}).json()
        self.assertEqual(again["messages"], [])
        with self.assertLogs(WEBHOOK_LOGGER, "WARNING"):
            refused = self.url_open(url, headers={"X-Visitor-Token": "forged"})
        self.assertEqual(refused.status_code, 403)
        with self.assertLogs(WEBHOOK_LOGGER, "WARNING"):
            other = self.url_open(url.replace("visitor_0001", "visitor_0002"), headers={"X-Visitor-Token": token})
        self.assertEqual(other.status_code, 403, "one visitor's token never reads another's replies")

    # ------------------------------------------------------------------
    # WhatsApp 24-hour window (frozen time)
    # ------------------------------------------------------------------

    def _window_lead(self):
        start = fields.Datetime.now().replace(microsecond=0)
        with freeze_time(start):
            lead = self.wa_inbound("wamid.WIN1", when=start)
        lead.user_id = self.salesman_1
        return lead, start

    def test_window_free_text_at_23h59(self):
        lead, start = self._window_lead()
        with freeze_time(start + timedelta(hours=23, minutes=59)):
            wizard = (
                self.env["crm.ai.reply.wizard"]
                .with_user(self.salesman_1)
                .with_context(default_lead_id=lead.id)
                .create({"body": "Ainda dá tempo!"})
            )
            self.assertEqual(wizard.window_mode, "free")
            self.assertIn("free text allowed until", wizard.window_text)
            wizard.action_send()
            self.send_queue()
        rows = self.Message.search([("lead_id", "=", lead.id), ("direction", "=", "out")])
        self.assertEqual(rows.delivery_state, "sent")
        self.assertEqual(self.sent("/messages")[0]["body"]["type"], "text")

    def test_window_template_only_at_24h01(self):
        lead, start = self._window_lead()
        template = self.env["crm.ai.template"].create(
            {
                "name": "retomar_contato",
                "language": "pt_BR",
                "channel_id": self.wa.id,
                "status": "approved",
                "body": "Olá {{1}}, aqui é {{2}} da loja. Ainda tem interesse?",
            }
        )
        template.variable_ids.filtered(lambda v: v.key == "1").source = "contact_first_name"
        template.variable_ids.filtered(lambda v: v.key == "2").source = "user_name"
        with freeze_time(start + timedelta(hours=24, minutes=1)):
            Wizard = self.env["crm.ai.reply.wizard"].with_user(self.salesman_1).with_context(default_lead_id=lead.id)
            wizard = Wizard.create({"body": "Oi, sumiu?"})
            self.assertEqual(wizard.window_mode, "template")
            self.assertIn("only allows an approved template", wizard.window_text)
            with self.assertRaisesRegex(UserError, "approved template"):
                wizard.action_send()
            with self.assertRaisesRegex(UserError, "approved template"):
                lead.with_user(self.salesman_1)._ai_send_reply("Oi, sumiu?")
            self.assertFalse(self.Message.search_count([("lead_id", "=", lead.id), ("direction", "=", "out")]))
            wizard = Wizard.create({"template_id": template.id})
            self.assertEqual(wizard.variable_ids.mapped("value"), ["Maria", "Salesperson One"])
            self.assertEqual(wizard.preview, "Olá Maria, aqui é Salesperson One da loja. Ainda tem interesse?")
            wizard.action_send()
            self.send_queue()
        row = self.Message.search([("lead_id", "=", lead.id), ("direction", "=", "out")])
        self.assertEqual(row.delivery_state, "sent", row.error)
        self.assertEqual(row.body, "Olá Maria, aqui é Salesperson One da loja. Ainda tem interesse?")
        body = self.sent("/messages")[0]["body"]
        self.assertEqual(body["type"], "template")
        self.assertEqual(body["template"]["name"], "retomar_contato")
        self.assertEqual(body["template"]["language"], {"code": "pt_BR"})
        self.assertEqual(
            body["template"]["components"],
            [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Maria"}, {"type": "text", "text": "Salesperson One"}],
                }
            ],
        )

    def test_template_with_image_header_and_url_button(self):
        """Synced from Meta with an IMAGE header and a dynamic URL button: header media and suffix are sent."""
        self.wa.whatsapp_business_account_id = "WABA1"
        self.fake.queue(
            200,
            {
                "data": [
                    {
                        "id": "T9",
                        "name": "oferta_onix",
                        "language": "pt_BR",
                        "status": "APPROVED",
                        "category": "MARKETING",
                        "components": [
                            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://scontent/x"]}},
                            {"type": "BODY", "text": "Olá {{1}}, sua proposta está pronta."},
                            {
                                "type": "BUTTONS",
                                "buttons": [
                                    {"type": "QUICK_REPLY", "text": "Quero"},
                                    {"type": "URL", "text": "Ver proposta", "url": "https://loja.example/p/{{1}}"},
                                ],
                            },
                        ],
                    }
                ]
            },
        )
        self.wa.with_user(self.manager).action_sync_whatsapp_templates()
        template = self.env["crm.ai.template"].search([("channel_id", "=", self.wa.id), ("name", "=", "oferta_onix")])
        self.assertEqual(template.header_format, "image")
        self.assertEqual(template.header_example_url, "https://scontent/x")
        self.assertEqual([(v.component, v.key) for v in template.variable_ids], [("body", "1"), ("button", "1")])
        template.variable_ids.filtered(lambda v: v.component == "body").source = "contact_first_name"
        template.variable_ids.filtered(lambda v: v.component == "button").default_value = "onix-2025"
        lead, start = self._window_lead()
        self.fake.requests.clear()
        with freeze_time(start + timedelta(hours=24, minutes=1)):
            Wizard = self.env["crm.ai.reply.wizard"].with_user(self.salesman_1).with_context(default_lead_id=lead.id)
            wizard = Wizard.create({"template_id": template.id})
            self.assertEqual(wizard.variable_ids.mapped("value"), ["Maria", "onix-2025"])
            with self.assertRaisesRegex(UserError, r"needs a header media \(Image\): set its header file or URL"):
                wizard.action_send()
            self.assertFalse(self.Message.search_count([("lead_id", "=", lead.id), ("direction", "=", "out")]))
            # Set after queueing: still refused before anything reaches Meta.
            template.write({"header_media_file": base64.b64encode(PNG), "header_media_filename": "onix.png"})
            wizard.action_send()
            template.header_media_file = False
            with self.assertLogs(OUTBOUND_LOGGER, "WARNING"):
                self.send_queue()
            row = self.Message.search([("lead_id", "=", lead.id), ("direction", "=", "out")])
            self.assertEqual(row.delivery_state, "failed")
            self.assertIn("set its header file or URL", row.error)
            self.assertFalse(self.fake.requests, "nothing sent to Meta without the header media")
            # By file: uploaded, then referenced by its media id.
            template.write({"header_media_file": base64.b64encode(PNG), "header_media_filename": "onix.png"})
            Wizard.create({"template_id": template.id}).action_send()
            self.send_queue()
            # By URL.
            template.write({"header_media_file": False, "header_media_url": "https://cdn.example.com/onix.jpg"})
            Wizard.create({"template_id": template.id}).action_send()
            self.send_queue()
        self.assertEqual(
            [r["path"] for r in self.fake.requests],
            ["/1234567890/media", "/1234567890/messages", "/1234567890/messages"],
        )
        self.assertIn(PNG, self.sent("/media")[0]["raw"])
        rows = self.Message.search([("lead_id", "=", lead.id), ("direction", "=", "out")], order="id")
        self.assertEqual(rows.mapped("delivery_state"), ["failed", "sent", "sent"])
        sent = [r["body"] for r in self.sent("/messages")]
        media_id = sent[0]["template"]["components"][0]["parameters"][0]["image"].get("id", "")
        self.assertRegex(media_id, r"^MEDIA\d+$", "the uploaded file's id from /media")
        expected = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "5511987654321",
            "type": "template",
            "template": {
                "name": "oferta_onix",
                "language": {"code": "pt_BR"},
                "components": [
                    {"type": "header", "parameters": [{"type": "image", "image": {"id": media_id}}]},
                    {"type": "body", "parameters": [{"type": "text", "text": "Maria"}]},
                    {
                        "type": "button",
                        "sub_type": "url",
                        "index": "1",
                        "parameters": [{"type": "text", "text": "onix-2025"}],
                    },
                ],
            },
            "biz_opaque_callback_data": f"crm_ai:{rows[1].id}",
        }
        self.assertEqual(sent[0], expected)
        expected["template"]["components"][0]["parameters"][0]["image"] = {"link": "https://cdn.example.com/onix.jpg"}
        expected["biz_opaque_callback_data"] = f"crm_ai:{rows[2].id}"
        self.assertEqual(sent[1], expected)

    def test_window_closes_while_queued(self):
        """Written at 23:59, still queued at 24:01 (provider down): not sent as free text, failed visibly."""
        lead, start = self._window_lead()
        with freeze_time(start + timedelta(hours=23, minutes=59)):
            rows = self.reply(lead, "Última chance")
        with freeze_time(start + timedelta(hours=24, minutes=1)):
            self.send_queue()
        self.assertFalse(self.fake.requests)
        self.assertEqual(rows.delivery_state, "failed")
        self.assertIn("approved template", rows.error)

    def test_messenger_window_and_human_agent_tag(self):
        start = fields.Datetime.now().replace(microsecond=0)
        ts_ms = int(self.ts(start)) * 1000
        self.post_meta(self.fb, meta_event("page", "PSID5", "m_W1", "Oi", ts_ms))
        self.process()
        lead = self.messages(self.fb).lead_id
        lead.user_id = self.salesman_1
        with freeze_time(start + timedelta(hours=30)):
            with self.assertRaisesRegex(UserError, "window is closed"):
                lead.with_user(self.salesman_1)._ai_send_reply("Oi?")
            self.fb.meta_human_agent = True
            rows = lead.with_user(self.salesman_1)._ai_send_reply("Oi, ainda posso ajudar?")
            self.send_queue()
        self.assertEqual(rows.delivery_state, "sent", rows.error)
        body = self.sent("/me/messages")[-1]["body"]
        self.assertEqual(body["messaging_type"], "MESSAGE_TAG")
        self.assertEqual(body["tag"], "HUMAN_AGENT")
        with freeze_time(start + timedelta(days=7, minutes=1)):
            with self.assertRaisesRegex(UserError, "window is closed"):
                lead.with_user(self.salesman_1)._ai_send_reply("Oi?")

    # ------------------------------------------------------------------
    # Failures: retries, permanent errors, timeouts
    # ------------------------------------------------------------------

    def test_transient_error_retried_with_backoff(self):
        lead = self.wa_inbound("wamid.R1")
        lead.user_id = self.salesman_1
        rows = self.reply(lead, "Oi!")
        self.fake.queue(503, {"error": {"message": "Service temporarily unavailable", "code": 2}})
        self.fake.queue(429, {"error": {"message": "Rate limit hit", "code": 130429}})
        start = fields.Datetime.now().replace(microsecond=0)
        with freeze_time(start):
            self.send_queue()
            self.assertEqual(rows.delivery_state, "pending")
            self.assertEqual(rows.attempts, 1)
            self.assertIn("503", rows.error)
            self.assertEqual(rows.next_attempt_at, start + timedelta(seconds=30))
            self.Message._cron_send_outbound()  # not due yet
            self.assertEqual(len(self.fake.requests), 1)
        with freeze_time(start + timedelta(seconds=31)):
            self.send_queue()
            self.assertEqual(rows.attempts, 2)
            self.assertEqual(rows.next_attempt_at, start + timedelta(seconds=31 + 60))
        with freeze_time(start + timedelta(seconds=92)):
            self.send_queue()
        self.assertEqual(len(self.fake.requests), 3)
        self.assertEqual(rows.delivery_state, "sent")
        self.assertFalse(rows.error)

    def test_gives_up_after_max_attempts(self):
        lead = self.wa_inbound("wamid.R2")
        lead.user_id = self.salesman_1
        rows = self.reply(lead, "Oi!")
        for __ in range(5):
            self.fake.queue(500, {"error": {"message": "Internal error"}})
        now = fields.Datetime.now()
        with self.assertLogs(OUTBOUND_LOGGER, "WARNING") as logs:
            for minute in range(0, 60, 5):
                with freeze_time(now + timedelta(minutes=minute)):
                    self.send_queue()
        self.assertEqual(len(self.fake.requests), 5)
        self.assertEqual(rows.delivery_state, "failed")
        self.assertEqual(rows.state, "failed")
        self.assertIn("Internal error", rows.error)
        self.assertIn("after 5 attempt", logs.output[0])

    def test_permanent_error_fails_at_once_and_can_be_retried(self):
        lead = self.wa_inbound("wamid.R3")
        lead.user_id = self.salesman_1
        rows = self.reply(lead, "Oi!")
        self.fake.queue(
            400, {"error": {"message": "(#131030) Recipient phone number not in allowed list", "code": 131030}}
        )
        with self.assertLogs(OUTBOUND_LOGGER, "WARNING"):
            self.send_queue()
        self.assertEqual(len(self.fake.requests), 1)
        self.assertEqual(rows.delivery_state, "failed")
        self.assertIn("131030", rows.error)
        alerts = self.bus_messages(self.salesman_1, "simple_notification")
        self.assertTrue(any("131030" in a["message"] for a in alerts), "the author is told at once")
        # The salesperson sends it again from the message.
        rows.with_user(self.salesman_1).action_retry_outbound()
        self.assertEqual(rows.delivery_state, "pending")
        self.send_queue()
        self.assertEqual(rows.delivery_state, "sent")
        self.assertEqual(len(self.fake.requests), 2)
        # Someone else's lead: no.
        with self.assertRaises(AccessError):
            rows.with_user(self.salesman_2).action_retry_outbound()

    def test_timeout_is_failed_never_resent_and_reconciled_by_status(self):
        lead = self.wa_inbound("wamid.R4")
        lead.user_id = self.salesman_1
        rows = self.reply(lead, "Oi!")
        self.fake.queue(200, {"messages": [{"id": "wamid.LATE"}]}, delay=11)
        with self.assertLogs(OUTBOUND_LOGGER, "WARNING"):
            self.send_queue()
        self.assertEqual(rows.delivery_state, "failed")
        self.assertIn("may still have reached the customer", rows.error)
        with freeze_time(fields.Datetime.now() + timedelta(hours=1)):
            self.send_queue()
        self.assertEqual(len(self.sent("/messages")), 1, "an unanswered send is never repeated behind anyone's back")
        # WhatsApp reports the message: it did go out, and the status finds it by our id.
        self.post_wa_status("wamid.LATE", "delivered", opaque=f"crm_ai:{rows.id}")
        self.assertEqual(rows.external_id, "wamid.LATE")
        self.assertEqual(rows.delivery_state, "delivered")

    # ------------------------------------------------------------------
    # Auto-acknowledgement, opt-out, automations
    # ------------------------------------------------------------------

    def _ack_channel(self):
        calendar = self.env["resource.calendar"].create({"name": "Loja", "tz": "UTC"})  # Mon-Fri 8-12, 13-17
        self.wa.write(
            {
                "ai_ack_enabled": True,
                "ai_ack_calendar_id": calendar.id,
                "ai_ack_text": "Oi {name}! Recebemos sua mensagem, já te respondemos.",
                "ai_ack_out_of_hours_text": "Oi {name}! Estamos fechados agora; respondemos às 8h.",
            }
        )

    def test_auto_ack_once_per_conversation_with_business_hours(self):
        self._ack_channel()
        wednesday_10h = fields.Datetime.to_datetime("2026-11-25 10:00:00")
        with freeze_time(wednesday_10h):
            lead = self.wa_inbound("wamid.A1", when=wednesday_10h)
            self.wa_inbound("wamid.A2", text="Alguém aí?", when=wednesday_10h + timedelta(minutes=1))
            self.send_queue()
        acks = self.Message.search([("lead_id", "=", lead.id), ("direction", "=", "out")])
        self.assertEqual(len(acks), 1, "one acknowledgement per conversation")
        self.assertEqual(acks.origin, "auto_ack")
        self.assertEqual(acks.delivery_state, "sent")
        self.assertEqual(
            self.sent("/messages")[0]["body"]["text"]["body"], "Oi Maria! Recebemos sua mensagem, já te respondemos."
        )
        self.assertEqual(acks.mail_message_id.author_id, self.env.ref("base.partner_root"))
        self.assertTrue(lead.ai_waiting, "an acknowledgement is not an answer")
        self.assertNotEqual(lead.ai_temperature, "in_service")
        saturday = fields.Datetime.to_datetime("2026-11-28 10:00:00")
        with freeze_time(saturday):
            other = self.wa_inbound("wamid.A3", wa_id="5511911112222", name="João Pedro", when=saturday)
            self.send_queue()
        ack = self.Message.search([("lead_id", "=", other.id), ("direction", "=", "out")])
        self.assertEqual(ack.body, "Oi João! Estamos fechados agora; respondemos às 8h.")

    def test_opted_out_contact_receives_nothing(self):
        self._ack_channel()
        # Someone who opted out earlier writes again: no acknowledgement.
        self.env["crm.ai.identity"].create(
            {"channel_id": self.wa.id, "key": "5511933330000", "name": "Quieto", "opt_out": True}
        )
        quiet_lead = self.wa_inbound("wamid.O0", wa_id="5511933330000", name="Quieto")
        self.assertFalse(quiet_lead.ai_ack_date)
        self.assertFalse(self.Message.search_count([("lead_id", "=", quiet_lead.id), ("direction", "=", "out")]))
        # Someone who opts out while messages to them are queued.
        lead = self.wa_inbound("wamid.O1")
        lead.user_id = self.salesman_1
        identity = self.messages(self.wa).filtered(lambda m: m.external_id == "wamid.O1").identity_id
        self.reply(lead, "Temos novidades!")
        identity.opt_out = True
        self.wa_inbound("wamid.O2", text="Pare de me mandar mensagens")
        for target in (lead, quiet_lead):
            wizard = self.env["crm.ai.reply.wizard"].with_context(default_lead_id=target.id).create({"body": "Oi?"})
            self.assertTrue(wizard.opt_out)
            with self.assertRaisesRegex(UserError, "no more messages"):
                wizard.action_send()
            self.assertFalse(target._ai_queue_automated("Promoção!"))
        self.send_queue()
        queued = self.Message.search([("lead_id", "=", lead.id), ("direction", "=", "out")])
        self.assertEqual(set(queued.mapped("origin")), {"auto_ack", "manual"})
        self.assertEqual(set(queued.mapped("delivery_state")), {"cancelled"})
        self.assertIn("opted out", queued[0].error)
        self.assertFalse(self.fake.requests, "an opted-out contact receives nothing at all")

    def test_automations_stop_once_a_salesperson_replies(self):
        lead = self.wa_inbound("wamid.S1")
        lead.user_id = self.salesman_1
        self.assertTrue(lead._ai_can_auto_send())
        automated = lead._ai_queue_automated("Posso ajudar em algo mais?")
        self.assertEqual(automated.origin, "automation")
        self.reply(lead, "Oi, sou a Ana, vou te atender.")
        self.assertFalse(lead._ai_can_auto_send())
        self.send_queue()
        self.assertEqual(automated.delivery_state, "cancelled")
        self.assertEqual(
            [r["body"]["text"]["body"] for r in self.sent("/messages")], ["Oi, sou a Ana, vou te atender."]
        )

    # ------------------------------------------------------------------
    # Templates, access
    # ------------------------------------------------------------------

    def test_template_sync_from_graph_api(self):
        self.wa.whatsapp_business_account_id = "WABA1"
        page1 = {
            "data": [
                {
                    "id": "T1",
                    "name": "retomar_contato",
                    "language": "pt_BR",
                    "status": "APPROVED",
                    "category": "UTILITY",
                    "components": [
                        {"type": "HEADER", "format": "TEXT", "text": "Oi {{1}}"},
                        {"type": "BODY", "text": "Sua proposta {{1}} vence em {{2}}."},
                        {"type": "FOOTER", "text": "Loja"},
                    ],
                },
            ],
            "paging": {"cursors": {"after": "CUR1"}, "next": "https://graph.facebook.com/next"},
        }
        page2 = {
            "data": [
                {
                    "id": "T2",
                    "name": "promo",
                    "language": "en_US",
                    "status": "REJECTED",
                    "category": "MARKETING",
                    "components": [{"type": "BODY", "text": "Hi {{first_name}}!"}],
                },
            ],
            "paging": {"cursors": {"after": "CUR2"}},
        }
        self.fake.queue(200, page1)
        self.fake.queue(200, page2)
        self.wa.with_user(self.manager).action_sync_whatsapp_templates()
        templates = self.env["crm.ai.template"].search([("channel_id", "=", self.wa.id)])
        self.assertEqual(sorted(templates.mapped("name")), ["promo", "retomar_contato"])
        first = templates.filtered(lambda t: t.name == "retomar_contato")
        self.assertEqual(first.status, "approved")
        self.assertEqual(
            [(v.component, v.key) for v in first.variable_ids], [("header", "1"), ("body", "1"), ("body", "2")]
        )
        promo = templates - first
        self.assertEqual(promo.status, "rejected")
        self.assertEqual(promo.variable_ids.key, "first_name")
        self.assertIn("after=CUR1", self.fake.requests[1]["path"])
        self.assertTrue(self.fake.requests[0]["path"].startswith("/WABA1/message_templates"))
        self.assertEqual(self.fake.requests[0]["headers"]["authorization"], "Bearer wa-token")
        components = first._ai_components({("header", "1"): "Ana", ("body", "1"): "#12", ("body", "2"): "sexta"})
        self.assertEqual(components[0], {"type": "header", "parameters": [{"type": "text", "text": "Ana"}]})
        self.assertEqual(
            promo._ai_components({("body", "first_name"): "Bo"})[0]["parameters"][0]["parameter_name"], "first_name"
        )
        with self.assertRaises(AccessError):
            self.wa.with_user(self.salesman_1).action_sync_whatsapp_templates()
        # Deleted at Meta: archived here.
        self.fake.queue(200, {"data": [page1["data"][0]]})
        self.wa.with_user(self.manager).action_sync_whatsapp_templates()
        self.assertFalse(promo.active)

    def test_salesperson_cannot_reply_on_someone_elses_lead_or_write_messages(self):
        lead = self.wa_inbound("wamid.X1")
        lead.user_id = self.salesman_2
        with self.assertRaises(AccessError):
            lead.with_user(self.salesman_1)._ai_send_reply("Oi")
        with self.assertRaises(AccessError):
            self.Message.with_user(self.salesman_1).create(
                {"channel_id": self.wa.id, "direction": "out", "kind": "message", "recipient_key": "5511"}
            )
        portal = new_test_user(self.env, login="crm_ai_portal", groups="base.group_portal")
        with self.assertRaises(AccessError):
            self.env["crm.ai.reply.wizard"].with_user(portal).create({"lead_id": lead.id})
