"""Each channel type end to end: documented payload in, contact + lead + chatter out."""

from odoo.tests import tagged

from .common import CrmAiCase, wa_text


def tg_update(update_id, message_id, user_id, text=None, **extra):
    message = {
        "message_id": message_id,
        "date": 1732550000,
        "from": {
            "id": user_id,
            "is_bot": False,
            "first_name": "Luísa",
            "last_name": "Prado",
            "username": "luprado",
            "language_code": "pt-br",
        },
        "chat": {"id": user_id, "first_name": "Luísa", "type": "private"},
    }
    if text is not None:
        message["text"] = text
    message.update(extra)
    return {"update_id": update_id, "message": message}


def evo_upsert(key, message, push_name="Zé Carlos", **data):
    return {
        "event": "messages.upsert",
        "instance": "loja",
        "data": {
            "key": key,
            "pushName": push_name,
            "message": message,
            "messageType": "conversation",
            "messageTimestamp": 1732550000,
            **data,
        },
        "destination": "https://crm.example/crm_ai_agent/webhook/x",
        "date_time": "2024-11-25T15:53:20.000Z",
        "sender": "5511900000000@s.whatsapp.net",
        "server_url": "http://localhost:8080",
        "apikey": "evo-key",
    }


def meta_messaging(obj, event):
    return {"object": obj, "entry": [{"id": "17841400000000000", "time": 1732550000000, "messaging": [event]}]}


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestProviders(CrmAiCase):
    def test_telegram_message_contact_and_edit(self):
        self.assertEqual(
            self.post_telegram(tg_update(1001, 10, 555001, "Oi! Vocês entregam em Curitiba?")).status_code, 200
        )
        self.process()
        message = self.messages(self.tg)
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual(message.partner_id.name, "Luísa Prado")
        self.assertEqual(message.identity_id.key, "555001")
        self.assertEqual(message.identity_id.username, "luprado")
        lead = message.lead_id
        self.assertEqual(lead.ai_channel_id, self.tg)
        # The customer shares her own phone: the contact gets it.
        share = tg_update(
            1002, 11, 555001, contact={"phone_number": "5541988887777", "first_name": "Luísa", "user_id": 555001}
        )
        self.post_telegram(share)
        # An edit of the first message is stored as its own item, on the same lead.
        edit = {
            "update_id": 1003,
            "edited_message": {
                **tg_update(0, 10, 555001, "Oi! Entregam em Curitiba e Joinville?")["message"],
                "edit_date": 1732550100,
            },
        }
        self.post_telegram(edit)
        self.process()
        messages = self.messages(self.tg)
        self.assertEqual(len(messages), 3)
        self.assertEqual(set(messages.mapped("state")), {"processed"})
        self.assertEqual(len(messages.lead_id), 1)
        self.assertEqual(message.partner_id.phone_sanitized, "+5541988887777")
        # Redelivery of the same update: nothing new.
        self.assertEqual(self.post_telegram(tg_update(1001, 10, 555001, "Oi!")).json()["duplicates"], 1)

    def test_telegram_group_is_stored_but_skipped(self):
        update = tg_update(2001, 20, 555002, "oi grupo")
        update["message"]["chat"] = {"id": -100123, "title": "Grupo", "type": "supergroup"}
        self.post_telegram(update)
        self.process()
        message = self.messages(self.tg)
        self.assertEqual(message.state, "skipped")
        self.assertFalse(message.lead_id)

    def test_evolution_text_lid_and_skips(self):
        self.post_evolution(
            evo_upsert(
                {"remoteJid": "5511987651234@s.whatsapp.net", "fromMe": False, "id": "3EB0A1"},
                {"conversation": "Bom dia, o sofá cinza ainda tem?"},
            )
        )
        # A @lid sender: the phone comes from remoteJidAlt.
        self.post_evolution(
            evo_upsert(
                {
                    "remoteJid": "123456789012345@lid",
                    "remoteJidAlt": "5521976543210@s.whatsapp.net",
                    "fromMe": False,
                    "id": "3EB0A2",
                },
                {"extendedTextMessage": {"text": "Quero o orçamento da mesa"}},
                push_name="Bia",
            )
        )
        # Our own message, a group and a status broadcast: stored, never processed into leads.
        self.post_evolution(
            evo_upsert(
                {"remoteJid": "5511987651234@s.whatsapp.net", "fromMe": True, "id": "3EB0A3"},
                {"conversation": "Temos sim!"},
            )
        )
        self.post_evolution(
            evo_upsert(
                {
                    "remoteJid": "120363000000000000@g.us",
                    "fromMe": False,
                    "id": "3EB0A4",
                    "participant": "5511911112222@s.whatsapp.net",
                },
                {"conversation": "oi grupo"},
            )
        )
        self.post_evolution(
            evo_upsert({"remoteJid": "status@broadcast", "fromMe": False, "id": "3EB0A5"}, {"conversation": "status"})
        )
        self.process()
        messages = self.messages(self.evo)
        self.assertEqual(len(messages), 5)
        processed = messages.filtered(lambda m: m.state == "processed")
        self.assertEqual(sorted(processed.mapped("external_id")), ["3EB0A1", "3EB0A2"])
        self.assertEqual(
            set(messages.filtered(lambda m: m.state == "skipped").mapped("external_id")), {"3EB0A3", "3EB0A4", "3EB0A5"}
        )
        ze = processed.filtered(lambda m: m.external_id == "3EB0A1")
        self.assertEqual(ze.partner_id.phone_sanitized, "+5511987651234")
        self.assertEqual(ze.partner_id.name, "Zé Carlos")
        bia = processed.filtered(lambda m: m.external_id == "3EB0A2")
        self.assertEqual(bia.partner_id.phone_sanitized, "+5521976543210")
        self.assertNotEqual(bia.partner_id.name, "5511900000000", "the instance's own number is never the customer")

    def test_instagram_profile_lookup_and_echo(self):
        self.fake.default = lambda req: (200, {"name": "Renata Alves", "username": "renata.alves", "id": "IGSID1"})
        event = {
            "sender": {"id": "IGSID1"},
            "recipient": {"id": "17841400000000000"},
            "timestamp": 1732550000123,
            "message": {"mid": "aWdfZAG1", "text": "Qual o preço do kit? 😍"},
        }
        self.assertEqual(self.post_meta(self.ig, meta_messaging("instagram", event)).status_code, 200)
        echo = {
            "sender": {"id": "17841400000000000"},
            "recipient": {"id": "IGSID1"},
            "timestamp": 1732550000999,
            "message": {"mid": "aWdfZAG2", "text": "Oi Renata!", "is_echo": True},
        }
        self.post_meta(self.ig, meta_messaging("instagram", echo))
        self.process()
        messages = self.messages(self.ig)
        received = messages.filtered(lambda m: m.external_id == "aWdfZAG1")
        self.assertEqual(received.state, "processed", received.error)
        self.assertEqual(received.partner_id.name, "Renata Alves")
        self.assertEqual(messages.filtered(lambda m: m.external_id == "aWdfZAG2").state, "skipped")
        profile_calls = [r for r in self.fake.requests if r["path"].startswith("/IGSID1")]
        self.assertTrue(profile_calls, "the name comes from the profile API")
        self.assertEqual(profile_calls[0]["headers"]["authorization"], "Bearer ig-token")

    def test_messenger_postback_and_profile_failure(self):
        self.fake.queue(500, {"error": {"message": "temporarily unavailable"}})
        event = {
            "sender": {"id": "PSID77"},
            "recipient": {"id": "PAGE1"},
            "timestamp": 1732550000123,
            "postback": {"mid": "m_POSTBACK1", "title": "Ver ofertas", "payload": "OFERTAS"},
        }
        self.post_meta(self.fb, meta_messaging("page", event))
        self.process()
        message = self.messages(self.fb)
        self.assertEqual(message.state, "processed", message.error)
        self.assertTrue(message.lead_id, "a failing profile API never blocks capture")
        self.assertIn("Ver ofertas", str(message.mail_message_id.body))

    def test_whatsapp_image_downloaded_later(self):
        payload = wa_text("wamid.IMG1", "5511987650000", "", name="Foto")
        msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        msg.pop("text")
        msg.update(
            {
                "type": "image",
                "image": {
                    "id": "MEDIA123",
                    "mime_type": "image/jpeg",
                    "sha256": "abc",
                    "caption": "Esse modelo tem em azul?",
                },
            }
        )
        fake = self.fake

        def graph(req):
            if req["path"].startswith("/MEDIA123"):
                return 200, {"url": f"{fake.url}/download/MEDIA123", "mime_type": "image/jpeg", "id": "MEDIA123"}
            if req["path"].startswith("/download/MEDIA123"):
                return 200, b"\xff\xd8\xff\xe0fakejpeg"
            return 404, {"error": "not found"}

        self.fake.default = graph
        self.post_meta(self.wa, payload)
        self.process()
        message = self.messages(self.wa)
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual(message.media_state, "pending")
        self.assertIn("Esse modelo tem em azul?", str(message.mail_message_id.body))
        self.env["crm.ai.message"]._cron_fetch_media()
        self.assertEqual(message.media_state, "done", message.error)
        self.assertEqual(len(message.attachment_ids), 1)
        self.assertEqual(message.attachment_ids.raw, b"\xff\xd8\xff\xe0fakejpeg")
        self.assertEqual(message.mail_message_id.attachment_ids, message.attachment_ids)
        download = next(r for r in self.fake.requests if r["path"].startswith("/download/"))
        self.assertEqual(download["headers"]["authorization"], "Bearer wa-token")
