import json
from datetime import timedelta

from markupsafe import escape

from odoo import fields
from odoo.tests import tagged

from .common import CrmAiCase, wa_text


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestCapture(CrmAiCase):
    def test_first_contact_creates_contact_lead_and_chatter(self):
        res = self.post_meta(
            self.wa, wa_text("wamid.HBgN1", "5511987654321", "Quero um Onix 2025, tem à vista?", name="Maria José")
        )
        self.assertEqual(res.status_code, 200)
        message = self.messages(self.wa)
        self.assertEqual(message.state, "received", "the webhook only stores")
        self.assertFalse(message.lead_id)
        self.process()
        self.assertEqual(message.state, "processed", message.error)
        partner = message.partner_id
        self.assertEqual(partner.name, "Maria José")
        self.assertEqual(partner.phone_sanitized, "+5511987654321")
        lead = message.lead_id
        self.assertEqual(lead.ai_channel_id, self.wa)
        self.assertEqual(lead.team_id, self.team)
        self.assertEqual(lead.partner_id, partner)
        self.assertEqual(lead.phone, "+5511987654321")
        self.assertEqual(lead.source_id, self.wa.source_id)
        self.assertTrue(lead.medium_id)
        self.assertIn(message, lead.ai_message_ids)
        posted = message.mail_message_id
        self.assertEqual(posted.author_id, partner, "the customer is the author")
        self.assertEqual(posted.model, "crm.lead")
        self.assertEqual(posted.res_id, lead.id)
        self.assertIn("Quero um Onix 2025", str(posted.body))
        self.assertEqual(message.identity_id.key, "5511987654321")

    def test_redelivery_is_a_noop(self):
        payload = wa_text("wamid.DUP", "5511987654321", "oi")
        first = self.post_meta(self.wa, payload)
        self.assertEqual(first.json(), {"ok": True, "stored": 1, "duplicates": 0})
        for __ in range(4):
            again = self.post_meta(self.wa, payload)
            self.assertEqual(again.status_code, 200)
            self.assertEqual(again.json()["duplicates"], 1)
        self.process()
        self.assertEqual(len(self.messages(self.wa)), 1)
        self.assertEqual(self.env["crm.lead"].search_count([("ai_channel_id", "=", self.wa.id)]), 1)

    def test_batched_payload_all_messages(self):
        payload = wa_text("wamid.B1", "5511911110001", "primeira", name="Ana")
        value = payload["entry"][0]["changes"][0]["value"]
        value["contacts"].append({"profile": {"name": "Beto"}, "wa_id": "5521922220002"})
        value["messages"].append(
            {
                "from": "5521922220002",
                "id": "wamid.B2",
                "timestamp": "1732550001",
                "type": "text",
                "text": {"body": "segunda"},
            }
        )
        second_entry = wa_text("wamid.B3", "5511911110001", "terceira", name="Ana")["entry"][0]
        payload["entry"].append(second_entry)
        res = self.post_meta(self.wa, payload)
        self.assertEqual(res.json()["stored"], 3)
        self.process()
        messages = self.messages(self.wa)
        self.assertEqual(set(messages.mapped("state")), {"processed"})
        ana = messages.filtered(lambda m: m.external_id in ("wamid.B1", "wamid.B3"))
        self.assertEqual(len(ana.lead_id), 1, "both messages of Ana land on her one lead")
        beto = messages.filtered(lambda m: m.external_id == "wamid.B2")
        self.assertEqual(beto.partner_id.name, "Beto")
        self.assertNotEqual(beto.lead_id, ana.lead_id)

    def test_many_messages_same_new_person_one_contact_one_lead(self):
        for i in range(20):
            self.post_meta(self.wa, wa_text(f"wamid.SAME{i}", "5511933334444", f"mensagem {i}", name="Caio"))
        self.process()
        messages = self.messages(self.wa)
        self.assertEqual(len(messages), 20)
        self.assertEqual(len(messages.partner_id), 1)
        self.assertEqual(len(messages.lead_id), 1)
        self.assertEqual(self.env["res.partner"].search_count([("phone_sanitized", "=", "+5511933334444")]), 1)
        self.assertEqual(messages.lead_id.ai_message_count, 20)

    def test_brazilian_ninth_digit_matches_existing_contact(self):
        partner = self.env["res.partner"].create({"name": "Cliente Antigo", "mobile": "+55 11 98765-4321"})
        # WhatsApp id of an old number registration: no ninth digit.
        self.post_meta(self.wa, wa_text("wamid.NINE", "551187654321", "voltei", name="Antigo"))
        self.process()
        message = self.messages(self.wa)
        self.assertEqual(message.partner_id, partner)
        self.assertEqual(partner.name, "Cliente Antigo", "what a person typed is never overwritten")

    def test_same_person_two_channels_one_contact(self):
        self.post_meta(self.wa, wa_text("wamid.X1", "5511955556666", "oi pelo whats", name="Duda"))
        self.process()
        wa_partner = self.messages(self.wa).partner_id
        url = f"/crm_ai_agent/webchat/{self.web.webchat_public_key}/messages"
        body = json.dumps(
            {
                "visitor_id": "visitor-abc123",
                "message_id": "0b9f3f54-2c55-4a43-8f6c-5a1d0c9e2b11",
                "text": "oi pelo site",
                "name": "Duda",
                "phone": "(11) 95555-6666",
            }
        ).encode()
        res = self.url_open(url, data=body, headers={"Content-Type": "application/json"})
        self.assertEqual(res.status_code, 200, res.text)
        self.process()
        web_message = self.messages(self.web)
        self.assertEqual(web_message.partner_id, wa_partner)
        self.assertEqual(web_message.lead_id, self.messages(self.wa).lead_id, "the open lead is reused")

    def test_won_or_lost_lead_gets_a_new_one(self):
        self.post_meta(self.wa, wa_text("wamid.W1", "5511977778888", "quero comprar", name="Eva"))
        self.process()
        lead = self.messages(self.wa).lead_id
        lead.action_set_won()
        self.post_meta(self.wa, wa_text("wamid.W2", "5511977778888", "quero outro", name="Eva"))
        self.process()
        second = self.messages(self.wa).filtered(lambda m: m.external_id == "wamid.W2").lead_id
        self.assertNotEqual(second, lead)
        second.action_set_lost()
        self.post_meta(self.wa, wa_text("wamid.W3", "5511977778888", "e agora?", name="Eva"))
        self.process()
        third = self.messages(self.wa).filtered(lambda m: m.external_id == "wamid.W3").lead_id
        self.assertNotIn(third, lead | second)
        self.assertEqual(len((lead | second | third).partner_id), 1)

    def test_stored_message_survives_and_failed_processing_is_retried(self):
        """Crash between store and processing: the row waits; a failure is recorded, then retried."""
        other_company = self.env["res.company"].create({"name": "Other Co"})
        foreign_team = self.env["crm.team"].create({"name": "Foreign", "company_id": other_company.id})
        self.wa.team_id = foreign_team  # misconfiguration: processing will fail
        self.post_meta(self.wa, wa_text("wamid.CRASH", "5511966667777", "olá", name="Gil"))
        message = self.messages(self.wa)
        self.assertEqual(message.state, "received")
        with self.assertLogs("odoo.addons.crm_ai_agent.models.crm_ai_message", "WARNING"):
            self.env["crm.ai.message"]._cron_process_inbox()
        self.assertEqual(message.state, "received")
        self.assertEqual(message.attempts, 1)
        self.assertTrue(message.error)
        self.assertFalse(message.lead_id)
        self.assertFalse(
            self.env["crm.lead"].search_count([("ai_channel_id", "=", self.wa.id)]),
            "a failed attempt leaves nothing half done",
        )
        self.wa.team_id = self.team
        message.action_retry()
        self.assertEqual(message.state, "processed")
        self.assertEqual(self.env["crm.lead"].search_count([("ai_channel_id", "=", self.wa.id)]), 1)

    def test_html_and_rtl_names_are_escaped(self):
        nasty = "<img src=x onerror=alert(1)>"
        self.post_meta(self.wa, wa_text("wamid.XSS", "5511944445555", "<b>oi</b> مرحبا", name=nasty))
        self.process()
        message = self.messages(self.wa)
        self.assertEqual(message.partner_id.name, nasty)
        body = str(message.mail_message_id.body)
        self.assertNotIn("<b>oi</b>", body)
        self.assertIn(str(escape("<b>oi</b>")), body)
        self.assertIn("مرحبا", body)

    def test_status_event_updates_outbound_message(self):
        out = self.env["crm.ai.message"].create(
            {
                "channel_id": self.wa.id,
                "direction": "out",
                "external_id": "wamid.OUT1",
                "company_id": self.company.id,
                "state": "processed",
                "delivery_state": "sent",
            }
        )
        status = {
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
                                "statuses": [
                                    {
                                        "id": "wamid.OUT1",
                                        "status": "read",
                                        "timestamp": "1732550100",
                                        "recipient_id": "5511987654321",
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
        self.assertEqual(self.post_meta(self.wa, status).status_code, 200)
        self.process()
        self.assertEqual(out.delivery_state, "read")
        self.assertFalse(self.env["crm.lead"].search_count([("ai_channel_id", "=", self.wa.id)]))

    def test_unsupported_event_stored_and_skipped(self):
        payload = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "message_template_status_update",
                            "value": {
                                "event": "APPROVED",
                                "message_template_id": 123,
                                "message_template_name": "boas_vindas",
                            },
                        }
                    ],
                }
            ],
        }
        res = self.post_meta(self.wa, payload)
        self.assertEqual(res.status_code, 200)
        self.process()
        message = self.messages(self.wa)
        self.assertEqual(len(message), 1)
        self.assertEqual(message.state, "skipped")

    def test_anonymous_webchat_visitor_keeps_one_lead(self):
        url = f"/crm_ai_agent/webchat/{self.web.webchat_public_key}/messages"
        for i in range(2):
            body = json.dumps(
                {
                    "visitor_id": "visitor-anon-01",
                    "message_id": f"3d2c1b0a-0000-4000-8000-00000000000{i}",
                    "text": f"pergunta {i}",
                }
            )
            self.url_open(url, data=body.encode(), headers={"Content-Type": "application/json"})
        self.process()
        messages = self.messages(self.web)
        self.assertEqual(len(messages.lead_id), 1)
        self.assertFalse(messages.partner_id, "no contact for a visitor who gave nothing")
        self.assertEqual(messages.lead_id.ai_message_count, 2)

    def test_inactive_leads_archived_and_old_payloads_purged(self):
        self.post_meta(self.wa, wa_text("wamid.OLD1", "5511922223333", "oi", name="Iara"))
        self.process()
        message = self.messages(self.wa)
        lead = message.lead_id
        old = fields.Datetime.now() - timedelta(days=40)
        lead.write({"ai_last_inbound_date": old, "ai_last_outbound_date": False})
        self.env["ir.config_parameter"].set_param("crm_ai_agent.archive_after_days", 0)
        self.env["crm.lead"]._cron_archive_inactive()
        self.assertTrue(lead.active, "0 days disables archiving")
        self.env["ir.config_parameter"].set_param("crm_ai_agent.archive_after_days", 30)
        self.env["crm.lead"]._cron_archive_inactive()
        self.assertFalse(lead.active)
        self.assertIn("Archived after 30 days", lead.message_ids[0].body)
        # The next message of the same person opens a new lead.
        self.post_meta(self.wa, wa_text("wamid.OLD2", "5511922223333", "voltei", name="Iara"))
        self.process()
        self.assertNotEqual(self.messages(self.wa).filtered(lambda m: m.external_id == "wamid.OLD2").lead_id, lead)
        # Raw payloads of processed messages are dropped after the retention period, the rest stays.
        self.env.cr.execute(
            "UPDATE crm_ai_message SET create_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(days=100), message.id],
        )
        self.env["crm.ai.message"]._cron_purge_payloads()
        message.invalidate_recordset()
        self.assertFalse(message.sudo().payload)
        self.assertEqual(message.body, "oi")

    def test_customer_without_email_notifies_followers_cleanly(self):
        """Followers get their notification even when neither the customer nor the company has an address."""
        self.wa.user_id = self.salesman_1  # a follower of the new lead
        self.company.write({"email": False, "alias_domain_id": False})
        for i in range(2):
            self.post_meta(self.wa, wa_text(f"wamid.NOMAIL{i}", "5511955550000", f"mensagem {i}", name="Sem Email"))
            self.process()
        messages = self.messages(self.wa)
        self.assertEqual(set(messages.mapped("state")), {"processed"}, messages.mapped("error"))
        self.assertEqual(len(messages.lead_id), 1)
        self.assertIn("Sem Email", messages[0].mail_message_id.email_from)

    def test_changed_whatsapp_number_keeps_the_contact_and_lead(self):
        self.post_meta(self.wa, wa_text("wamid.N1", "5511987650001", "Oi, quero o Onix", name="Davi"))
        self.process()
        lead = self.messages(self.wa).lead_id
        partner = lead.partner_id
        # Meta's system message: the customer now uses another number
        system = wa_text("wamid.N2", "5511987650001", "", name="Davi")
        message = system["entry"][0]["changes"][0]["value"]["messages"][0]
        message.pop("text")
        message.update(
            {
                "type": "system",
                "system": {
                    "body": "User Davi changed from 5511987650001 to 5511912340009",
                    "wa_id": "5511912340009",
                    "type": "user_changed_number",
                },
            }
        )
        self.assertEqual(self.post_meta(self.wa, system).status_code, 200)
        self.process()
        self.post_meta(self.wa, wa_text("wamid.N3", "5511912340009", "Ainda tem o Onix?", name="Davi"))
        self.process()
        newest = self.messages(self.wa).filtered(lambda m: m.external_id == "wamid.N3")
        self.assertEqual(newest.lead_id, lead, "the same lead")
        self.assertEqual(newest.partner_id, partner, "the same contact")
        self.assertEqual(lead.phone, "+5511912340009")
        self.assertTrue(any("+5511912340009" in (body or "") for body in lead.message_ids.mapped("body")))
        self.assertEqual(partner.phone_sanitized, "+5511912340009")
