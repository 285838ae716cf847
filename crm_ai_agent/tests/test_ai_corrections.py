from odoo.exceptions import AccessError
from odoo.tests import tagged

from .test_ai_enrichment import AiCase


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestAiCorrections(AiCase):
    def setUp(self):
        super().setUp()
        self.lead = self.send("wamid.C1", "qual o preço do onix?", wa_id="5521991236001", name="Caio")
        self.assertEqual(self.lead.ai_temperature, "warm")

    def corrections(self, lead=None):
        return self.env["crm.ai.correction"].search([("lead_id", "=", (lead or self.lead).id)], order="id")

    def test_temperature_correction_is_logged_and_locked(self):
        ai_score = self.lead.ai_score
        self.lead.with_user(self.salesman_1).write({"ai_temperature": "cold", "ai_score": 20})
        corrections = self.corrections()
        self.assertEqual(corrections.mapped("field_name"), ["ai_temperature", "ai_score"])
        temperature = corrections[0]
        self.assertEqual(temperature.user_id, self.salesman_1, "who")
        self.assertTrue(temperature.create_date, "when")
        self.assertEqual((temperature.old_value, temperature.new_value), ("Warm", "Cold"), "before / after")
        self.assertEqual(temperature.ai_value, "Warm", "what the AI had said")
        self.assertEqual((corrections[1].old_value, corrections[1].new_value), (str(ai_score), "20"))
        self.assertEqual(self.lead.ai_locked_fields, "ai_temperature,ai_score")
        self.assertIn("Temperature", self.lead.ai_locked_labels)

        self.send("wamid.C2", "quero fechar hoje, pago à vista", wa_id="5521991236001", name="Caio")
        self.assertEqual(self.lead.ai_temperature, "cold", "the correction is locked against the AI")
        self.assertEqual(self.lead.ai_score, 20)
        self.assertEqual(self.lead.ai_intent, "purchase", "fields nobody corrected still follow the conversation")
        self.assertEqual(len(self.corrections()), 2, "the AI's own updates are not corrections")

    def test_extracted_field_correction_is_locked(self):
        self.lead.with_user(self.salesman_1).write({"ai_interest": "Onix Plus Premier"})
        self.send("wamid.C3", "e o tracker, quanto fica?", wa_id="5521991236001", name="Caio")
        self.assertEqual(self.lead.ai_interest, "Onix Plus Premier")
        correction = self.corrections()
        self.assertEqual(correction.field_name, "ai_interest")
        self.assertEqual(correction.new_value, "Onix Plus Premier")

    def test_contact_data_a_person_changed_is_not_refilled(self):
        self.send("wamid.C4", "meu email é caio@exemplo.com", wa_id="5521991236001", name="Caio")
        self.assertEqual(self.lead.email_from, "caio@exemplo.com")
        self.lead.with_user(self.salesman_1).write({"email_from": False})
        correction = self.corrections()
        self.assertEqual(
            (correction.field_name, correction.old_value, correction.new_value), ("email_from", "caio@exemplo.com", "")
        )
        self.assertEqual(correction.ai_value, "caio@exemplo.com")
        self.send("wamid.C5", "repito: caio@exemplo.com", wa_id="5521991236001", name="Caio")
        self.assertFalse(self.lead.email_from, "a value a person removed is not written back")

    def test_unlock_lets_the_ai_update_again(self):
        self.lead.with_user(self.salesman_1).write({"ai_temperature": "cold"})
        self.lead.with_user(self.manager).action_ai_unlock()
        self.assertFalse(self.lead.ai_locked_fields)
        self.send("wamid.C6", "quero fechar hoje, pago à vista", wa_id="5521991236001", name="Caio")
        self.assertEqual(self.lead.ai_temperature, "hot")

    def test_taking_over_is_routing_not_a_correction(self):
        self.lead.with_user(self.salesman_1).write({"ai_temperature": "in_service"})
        self.assertFalse(self.corrections())
        self.assertFalse(self.lead.ai_locked_fields)
        self.send("wamid.C7", "quero fechar hoje", wa_id="5521991236001", name="Caio")
        self.assertEqual(self.lead.ai_temperature, "in_service")

    def test_values_typed_at_creation_are_kept(self):
        lead = (
            self.env["crm.lead"]
            .with_user(self.salesman_1)
            .with_context(mail_auto_subscribe_no_notify=True)
            .create(
                {
                    "name": "Manual lead",
                    "phone": "+5521991236002",
                    "ai_temperature": "hot",
                    "ai_score": 90,
                    "user_id": self.salesman_1.id,
                    "team_id": self.team.id,
                }
            )
        )
        self.assertEqual(lead.ai_locked_fields, "ai_temperature,ai_score")
        lead.sudo().action_ai_reclassify()  # no channel message yet: nothing to classify
        self.assertEqual((lead.ai_temperature, lead.ai_score), ("hot", 90))

    def test_system_writes_are_not_corrections(self):
        self.lead.sudo().write({"ai_temperature": "cold"})
        self.assertFalse(self.corrections())

    def test_correction_log_access(self):
        self.lead.with_user(self.salesman_1).write({"ai_score": 10})
        with self.assertRaises(AccessError):
            self.env["crm.ai.correction"].with_user(self.salesman_1).search([])
        self.assertEqual(
            len(self.env["crm.ai.correction"].with_user(self.manager).search([("lead_id", "=", self.lead.id)])), 1
        )
        self.assertEqual(
            self.lead.with_user(self.manager).action_view_ai_corrections()["res_model"], "crm.ai.correction"
        )
