"""The forms, filled the way a user fills them (server-side Form: modifiers, required fields, onchanges)."""

from odoo.tests import Form, tagged

from .common import CampaignsCase


@tagged("post_install", "-at_install", "crm_ai_agent_campaigns")
class TestViews(CampaignsCase):
    def test_sequence_form_with_steps(self):
        with Form(self.Sequence.with_user(self.manager)) as form:
            form.name = "Lembretes"
            form.trigger_domain = "[('ai_temperature', '=', 'warm')]"
            with form.step_ids.new() as step:
                step.delay = 1
                step.delay_unit = "days"
                step.body = "Olá {name}!"
            with form.step_ids.new() as step:
                step.delay = 3
                step.channel_kind = "email"
                step.subject = "Novidades"
                step.body = "Olá {name}, novidades para você."
        sequence = form.record
        self.assertEqual(len(sequence.step_ids), 2)
        self.assertEqual(sequence._ai_first_step().delay, 1)

    def test_campaign_form_and_buttons(self):
        lead = self.wa_inbound("wamid.V1", wa_id="5511955556666", name="Vera Lúcia")
        self.env["crm.ai.consent"].create({"partner_id": lead.partner_id.id, "proof": "Respondeu SIM"})
        with Form(self.Campaign.with_user(self.manager)) as form:
            form.name = "Teste"
            form.channel_id = self.wa
            form.segment_domain = repr([("id", "=", lead.id)])
            form.body = "Oi {name}"
            self.assertEqual(form.segment_count, 1)
        campaign = form.record
        campaign.action_compute_recipients()
        self.assertEqual(campaign.recipient_count, 1)
        action = campaign.action_view_recipients()
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]), campaign.recipient_ids)
        campaign.action_send_now()
        self.assertEqual(campaign.state, "sending")
        with Form(campaign) as form:
            form.wave_size = 10

    def test_partner_consent_tab_and_lead_page(self):
        lead = self.wa_inbound("wamid.V2", wa_id="5511977778888", name="Rui Costa")
        with Form(lead.partner_id.with_user(self.salesman_1)) as form:
            with form.ai_consent_ids.new() as consent:
                consent.channel = "whatsapp"
                consent.purpose = "marketing"
                consent.proof = "Mensagem de 25/11: 'pode me mandar promoções'"
        self.assertTrue(lead.partner_id.ai_whatsapp_marketing_consent)
        self.make_sequence(auto_enroll=False)
        wizard_action = lead.action_ai_followup_enroll()
        self.assertEqual(wizard_action["res_model"], "crm.ai.followup.enroll.wizard")
        Form(lead)  # the lead form with the Follow-ups page
