import json

from odoo.tests import tagged

from .common import CrmAiCase, wa_text


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestReferral(CrmAiCase):
    """The ad, post or link a customer came from reaches the lead's UTM campaign and its chatter."""

    def test_click_to_whatsapp_ad_sets_the_campaign(self):
        # Meta's click-to-WhatsApp ad referral on the first message
        payload = wa_text("wamid.AD1", "5511912340001", "Oi, vi o anúncio do Onix", name="Bia")
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["referral"] = {
            "source_url": "https://fb.me/3cr4Wqqkv",
            "source_id": "120212345678901234",
            "source_type": "ad",
            "headline": "Onix 2025 com taxa zero",
            "body": "Fale com a gente no WhatsApp",
            "media_type": "image",
            "image_url": "https://scontent.xx.fbcdn.net/v/anuncio.jpg",
            "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ",
        }
        self.assertEqual(self.post_meta(self.wa, payload).status_code, 200)
        self.process()
        lead = self.messages(self.wa).lead_id
        self.assertEqual(lead.campaign_id.title, "Onix 2025 com taxa zero")
        self.assertEqual(lead.source_id, self.wa.source_id, "the channel stays the source")
        self.assertIn("120212345678901234", lead.ai_referral)
        self.assertIn("https://fb.me/3cr4Wqqkv", lead.ai_referral)
        chatter = lead.message_ids.filtered(lambda m: "vi o anúncio" in (m.body or ""))
        self.assertIn("Onix 2025 com taxa zero", chatter.body)

        # the same ad again: one campaign, not one per lead
        payload = wa_text("wamid.AD2", "5511912340002", "Quero saber do Onix", name="Caio")
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["referral"] = {
            "source_type": "ad",
            "source_id": "120212345678901234",
            "headline": "Onix 2025 com taxa zero",
        }
        self.post_meta(self.wa, payload)
        self.process()
        self.assertEqual(self.messages(self.wa).lead_id.campaign_id, lead.campaign_id)

    def test_messenger_ad_referral_without_title_names_the_ad(self):
        event = {
            "object": "page",
            "entry": [
                {
                    "id": "PAGE1",
                    "time": 1732550000000,
                    "messaging": [
                        {
                            "sender": {"id": "PSID-REF-1"},
                            "recipient": {"id": "PAGE1"},
                            "timestamp": 1732550000000,
                            "message": {"mid": "m_REF1", "text": "Oi, quero saber mais"},
                            "referral": {"ref": "promo-verao", "ad_id": "6045246247433", "source": "ADS",
                                         "type": "OPEN_THREAD"},
                        }
                    ],
                }
            ],
        }  # fmt: skip
        self.assertEqual(self.post_meta(self.fb, event).status_code, 200)
        self.process()
        lead = self.messages(self.fb).lead_id
        self.assertEqual(lead.campaign_id.title, "Ad 6045246247433")
        self.assertIn("promo-verao", lead.ai_referral)

    def test_webchat_page_utm_parameters(self):
        url = f"/crm_ai_agent/webchat/{self.web.webchat_public_key}/messages"
        body = json.dumps(
            {
                "visitor_id": "visitor-utm-001",
                "message_id": "6a0f1c1e-8a55-4f3e-9d4b-2f3c1d9e7b10",
                "text": "Vocês fazem clareamento?",
                "page_url": "https://www.loja.example/clareamento?utm_source=google&utm_medium=cpc"
                "&utm_campaign=clareamento-nov",
            }
        ).encode()
        res = self.url_open(url, data=body, headers={"Content-Type": "application/json"})
        self.assertEqual(res.status_code, 200, res.text)
        self.process()
        lead = self.messages(self.web).lead_id
        self.assertEqual(lead.campaign_id.title, "clareamento-nov")
        self.assertEqual(lead.source_id.name, "google")
        self.assertEqual(lead.medium_id.name, "cpc")

    def test_telegram_start_parameter_on_an_open_lead(self):
        def update(update_id, message_id, text):
            return {
                "update_id": update_id,
                "message": {
                    "message_id": message_id,
                    "date": 1732550000 + message_id,
                    "from": {"id": 880001, "is_bot": False, "first_name": "Rui"},
                    "chat": {"id": 880001, "first_name": "Rui", "type": "private"},
                    "text": text,
                },
            }

        self.post_telegram(update(7001, 1, "Oi, tem bicicleta aro 29?"))
        self.process()
        lead = self.messages(self.tg).lead_id
        self.assertFalse(lead.ai_referral)
        self.post_telegram(update(7002, 2, "/start black-friday"))
        self.process()
        self.assertEqual(self.messages(self.tg).lead_id, lead)
        self.assertEqual(lead.campaign_id.title, "black-friday", "an open lead without a campaign gets it")
        self.assertIn("black-friday", lead.ai_referral)

    def test_edited_message_is_marked_in_the_chatter(self):
        self.post_meta(self.wa, wa_text("wamid.ED1", "5511912340003", "quero 2 pizzas", name="Lia"))
        edit = wa_text("wamid.ED2", "5511912340003", "", name="Lia")
        message = edit["entry"][0]["changes"][0]["value"]["messages"][0]
        message.pop("text")
        new_text = {"type": "text", "text": {"body": "quero 3 pizzas"}}
        message.update({"type": "edit", "edit": {"original_message_id": "wamid.ED1", "message": new_text}})
        self.post_meta(self.wa, edit)
        self.process()
        lead = self.messages(self.wa).lead_id
        edited = lead.message_ids.filtered(lambda m: "quero 3 pizzas" in (m.body or ""))
        self.assertIn("Edited message", edited.body)
