import json

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import CrmAiCase, wa_text


class AiCase(CrmAiCase):
    """Channel leads classified by the rules engine (the default provider)."""

    def send(self, wamid, text, wa_id="5521991234001", name="Carla", channel=None):
        res = self.post_meta(channel or self.wa, wa_text(wamid, wa_id, text, name=name))
        self.assertEqual(res.status_code, 200, res.text)
        self.process()
        message = self.env["crm.ai.message"].search([("external_id", "=", wamid)])
        self.assertEqual(message.state, "processed", message.error)
        return message.lead_id

    def set_param(self, key, value):
        self.env["ir.config_parameter"].sudo().set_param(key, value)

    def decisions(self, lead, **domain):
        return self.env["crm.ai.decision"].search(
            [("lead_id", "=", lead.id), *((k, "=", v) for k, v in domain.items())], order="id"
        )


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestAiEnrichment(AiCase):
    def test_rules_engine_fills_the_lead_at_once(self):
        lead = self.send(
            "wamid.E1",
            "Oi, meu nome é Carla Mendes, quero comprar um Onix hoje, pago à vista no pix. "
            "Meu email: carla.mendes@exemplo.com.br",
        )
        self.assertEqual(lead.ai_temperature, "hot")
        self.assertGreaterEqual(lead.ai_score, 70)
        self.assertEqual(lead.ai_intent, "purchase")
        self.assertIn("Onix", lead.ai_interest)
        self.assertIn("quero comprar", lead.ai_reason, "the reason quotes the customer")
        self.assertTrue(lead.ai_needs_human)
        self.assertEqual(lead.ai_state, "rules")
        self.assertEqual(lead.ai_language, "pt")
        self.assertEqual(lead.email_from, "carla.mendes@exemplo.com.br", "e-mail extracted from the text")
        self.assertEqual(lead.partner_id.email, "carla.mendes@exemplo.com.br", "the contact is completed")
        self.assertIn("Onix", str(lead.description))
        decision = self.decisions(lead)
        self.assertEqual(len(decision), 1)
        self.assertEqual(decision.provider, "rules")
        self.assertTrue(decision.applied)
        self.assertEqual(decision.temperature, "hot")
        self.assertEqual(decision.result["intent"], "purchase")
        self.assertFalse(
            self.env["crm.ai.decision"].search_count([("state", "=", "queued")]),
            "rules only: nothing is queued for a model",
        )

    def test_reclassified_as_messages_arrive(self):
        lead = self.send("wamid.R1", "oi, boa tarde", wa_id="5521991234002")
        self.assertEqual(lead.ai_temperature, "cold")
        self.assertEqual(lead.ai_intent, "other")
        first_score = lead.ai_score
        self.assertEqual(self.send("wamid.R2", "qual o preço do onix?", wa_id="5521991234002"), lead)
        self.assertEqual(lead.ai_temperature, "warm")
        self.assertEqual(lead.ai_intent, "price")
        self.assertEqual(self.send("wamid.R3", "quero fechar hoje, pago à vista", wa_id="5521991234002"), lead)
        self.assertEqual(lead.ai_temperature, "hot")
        self.assertGreater(lead.ai_score, first_score)
        self.assertEqual(len(self.decisions(lead)), 3, "one decision per message")
        tracked = lead.message_ids.tracking_value_ids.filtered(lambda t: t.field_id.name == "ai_temperature")
        self.assertEqual(
            tracked.sorted("id").mapped("new_value_char"), ["Cold", "Warm", "Hot"], "changes are tracked in the chatter"
        )

    def test_never_overwrites_what_a_person_typed(self):
        lead = self.send("wamid.T1", "oi, quero saber o preço do HB20", wa_id="5521991234003", name="Tito")
        lead.with_user(self.salesman_1).write(
            {
                "email_from": "tito.typed@empresa.com",
                "contact_name": "Tito Typed",
                "partner_name": "Typed Ltda",
            }
        )
        lead = self.send(
            "wamid.T2",
            "Meu nome é Roberto Silva, trabalho na Transportes Rápidos Ltda, email roberto@outro.com.br",
            wa_id="5521991234003",
            name="Tito",
        )
        self.assertEqual(lead.email_from, "tito.typed@empresa.com")
        self.assertEqual(lead.contact_name, "Tito Typed")
        self.assertEqual(lead.partner_name, "Typed Ltda")

    def test_ai_values_update_but_typed_notes_stay(self):
        lead = self.send("wamid.N1", "qual o preço do corolla?", wa_id="5521991234004")
        self.assertIn("corolla", str(lead.description).lower(), "the AI summary fills empty notes")
        self.send("wamid.N2", "e do compass?", wa_id="5521991234004")
        lead.with_user(self.salesman_1).write({"description": "<p>Ligar depois das 18h</p>"})
        self.send("wamid.N3", "quero comprar o compass hoje", wa_id="5521991234004")
        self.assertIn("Ligar depois das 18h", str(lead.description))

    def test_scoring_rules_add_points_and_are_listed_in_the_reason(self):
        baseline = self.send("wamid.S0", "qual o preço do onix?", wa_id="5521991234005")
        self.assertEqual(baseline.ai_temperature, "warm")
        self.env["crm.ai.scoring.rule"].create(
            {
                "name": "Frota",
                "condition": "keywords",
                "keywords": "frota, frotista",
                "points": 30,
            }
        )
        self.env["crm.ai.scoring.rule"].create(
            {
                "name": "WhatsApp",
                "condition": "field",
                "field_name": "known.channel_type",
                "operator": "=",
                "value": "whatsapp_cloud",
                "points": -2,
            }
        )
        lead = self.send("wamid.S1", "qual o preço do onix pra frota da empresa?", wa_id="5521991234006")
        self.assertEqual(lead.ai_temperature, "hot")
        self.assertGreaterEqual(lead.ai_score, baseline.ai_score + 28)
        self.assertIn("Frota", lead.ai_reason)
        self.assertIn("WhatsApp", lead.ai_reason)

    def test_invalid_scoring_rule_is_refused(self):
        with self.assertRaises(ValidationError):
            self.env["crm.ai.scoring.rule"].create(
                {
                    "name": "Broken",
                    "condition": "field",
                    "field_name": "budget_amount",
                    "operator": ">",
                    "value": "lots",
                    "points": 5,
                }
            )

    def test_thresholds_come_from_the_settings(self):
        self.set_param("crm_ai_agent.threshold_hot", "50")
        self.set_param("crm_ai_agent.threshold_warm", "20")
        lead = self.send("wamid.H1", "qual o preço do onix?", wa_id="5521991234007")
        self.assertEqual(lead.ai_temperature, "hot", "53 points are hot with a threshold of 50")
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.crm_ai_threshold_hot, 50)
        self.assertEqual(settings.crm_ai_llm_provider, "rules", "rules only by default")
        self.assertTrue(settings.crm_ai_llm_mask_pii, "masking is on by default")

    def test_opt_out_flags_identity_and_blacklists(self):
        lead = self.send("wamid.O1", "oi, meu email é olga@exemplo.com", wa_id="5521991234008", name="Olga")
        message = self.send(
            "wamid.O2",
            "Por favor, não quero mais receber mensagens, pare de me mandar",
            wa_id="5521991234008",
            name="Olga",
        )
        self.assertEqual(message, lead)
        identity = self.env["crm.ai.identity"].search([("channel_id", "=", self.wa.id), ("key", "=", "5521991234008")])
        self.assertTrue(identity.opt_out)
        self.assertTrue(self.env["phone.blacklist"].search_count([("number", "=", "+5521991234008")]))
        self.assertTrue(self.env["mail.blacklist"].search_count([("email", "=", "olga@exemplo.com")]))
        self.assertEqual(lead.ai_temperature, "cold")
        self.assertEqual(lead.ai_score, 0)
        self.assertTrue(any("no more messages" in str(body) for body in lead.message_ids.mapped("body")))

    def test_in_service_is_left_to_routing(self):
        lead = self.send("wamid.I1", "qual o preço do onix?", wa_id="5521991234009")
        lead.write({"ai_temperature": "in_service"})  # routing, when a salesperson takes the conversation
        self.send("wamid.I2", "quero fechar hoje, pago à vista", wa_id="5521991234009")
        self.assertEqual(lead.ai_temperature, "in_service", "the classifier never leaves In Service")
        self.assertGreaterEqual(lead.ai_score, 70, "the score still follows the conversation")
        self.assertFalse(self.env["crm.ai.correction"].search_count([("lead_id", "=", lead.id)]))

    def test_contact_created_from_an_anonymous_visitor_who_leaves_an_email(self):
        url = f"/crm_ai_agent/webchat/{self.web.webchat_public_key}/messages"
        for i, text in enumerate(["oi, vcs fazem entrega?", "meu email é visitante.anonimo@exemplo.com"]):
            body = json.dumps(
                {
                    "visitor_id": "visitor-ai-01",
                    "message_id": f"5d2c1b0a-0000-4000-8000-00000000000{i}",
                    "text": text,
                }
            ).encode()
            res = self.url_open(url, data=body, headers={"Content-Type": "application/json"})
            self.assertEqual(res.status_code, 200, res.text)
            self.process()
        lead = self.messages(self.web).lead_id
        self.assertEqual(len(lead), 1)
        self.assertEqual(lead.email_from, "visitante.anonimo@exemplo.com")
        self.assertEqual(lead.partner_id.email, "visitante.anonimo@exemplo.com")
        self.assertEqual(self.messages(self.web).identity_id.partner_id, lead.partner_id)

    def test_classify_again_button_and_salesperson_access(self):
        lead = self.send("wamid.B1", "qual o preço do onix?", wa_id="5521991234010")
        lead.with_user(self.salesman_1).action_ai_reclassify()
        self.assertEqual(len(self.decisions(lead)), 2)
        with self.assertRaises(AccessError):
            self.env["crm.ai.decision"].with_user(self.salesman_1).search([])

    def test_existing_tags_the_customer_names_are_added(self):
        tag = self.env["crm.tag"].create({"name": "Seminovos"})
        lead = self.send("wamid.G1", "vocês têm seminovos até 60 mil?", wa_id="5521991234011")
        self.assertIn(tag, lead.tag_ids)
        self.assertEqual(self.env["crm.tag"].search_count([("name", "=ilike", "seminovos")]), 1, "no tag created")
        lead.with_user(self.salesman_1).write({"tag_ids": [Command.unlink(tag.id)]})
        self.send("wamid.G2", "procuro seminovos mesmo", wa_id="5521991234011")
        self.assertNotIn(tag, lead.tag_ids, "a tag a person removed is not added back")

    def test_views_load_for_salespeople_and_admins(self):
        form = self.env["crm.lead"].with_user(self.salesman_1).get_views([(False, "form")])["views"]["form"]["arch"]
        for field in ("ai_state", "ai_budget", "ai_timeframe", "ai_needs_human", "action_ai_reclassify"):
            self.assertIn(field, form)
        self.assertNotIn("ai_decision_ids", form, "the decision log is for administrators")
        settings = self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        for field in ("crm_ai_llm_provider", "crm_ai_llm_api_key", "crm_ai_threshold_hot", "crm_ai_llm_mask_pii"):
            self.assertIn(field, settings)
        for model in ("crm.ai.scoring.rule", "crm.ai.decision", "crm.ai.correction"):
            self.env[model].get_views([(False, "list"), (False, "form"), (False, "search")])
