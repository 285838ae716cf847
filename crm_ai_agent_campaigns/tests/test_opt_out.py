"""An opt-out on one channel, or on the unsubscribe page, applies to the whole person (LGPD)."""

from urllib.parse import parse_qs, urlparse

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CampaignsCase

WA_ID = "5511944440001"
TG_ID = 880001
EMAIL = "paula@cliente.example"
OPT_OUT = "Não quero mais receber mensagens, obrigada."


@tagged("post_install", "-at_install", "crm_ai_agent_campaigns")
class TestPersonWideOptOut(CampaignsCase):
    def tg_inbound(self, message_id, text):
        update = {
            "update_id": 70000 + message_id,
            "message": {
                "message_id": message_id,
                "date": int(self.ts()),
                "from": {"id": TG_ID, "is_bot": False, "first_name": "Paula", "language_code": "pt-br"},
                "chat": {"id": TG_ID, "first_name": "Paula", "type": "private"},
                "text": text,
            },
        }
        self.assertEqual(self.post_telegram(update).status_code, 200)
        self.process()
        message = self.Message.search(
            [("channel_id", "=", self.tg.id), ("direction", "=", "in")], order="id desc", limit=1
        )
        self.assertEqual(message.state, "processed", message.error)
        return message.lead_id

    def person(self):
        """Paula: a WhatsApp conversation and, on another lead, a Telegram one, both on her contact."""
        lead_wa = self.wa_inbound("wamid.P1", wa_id=WA_ID, name="Paula Reis", text="Olá, quero saber o preço")
        partner = lead_wa.partner_id
        partner.email = EMAIL
        lead_tg = self.tg_inbound(1, "Vocês entregam em Curitiba?")
        self.assertNotEqual(lead_tg, lead_wa)
        tg_identity = self.env["crm.ai.identity"].search([("channel_id", "=", self.tg.id), ("key", "=", str(TG_ID))])
        # A salesperson recognised her: both conversations belong to the same contact.
        tg_identity.partner_id = partner
        lead_tg.partner_id = partner
        wa_identity = self.env["crm.ai.identity"].search([("channel_id", "=", self.wa.id), ("key", "=", WA_ID)])
        self.env["crm.ai.consent"].create(
            {"partner_id": partner.id, "proof": "Respondeu SIM: quer receber ofertas pelo WhatsApp."}
        )
        return partner, lead_wa, lead_tg, wa_identity, tg_identity

    def sequence(self):
        return self.make_sequence(
            auto_enroll=False,
            steps=[
                {"delay": 1, "delay_unit": "days", "body": "Oi {name}, ainda quer a entrega?"},
                {"delay": 1, "delay_unit": "days", "channel_kind": "email", "subject": "Entrega", "body": "Oi {name}"},
            ],
        )

    def campaign(self, lead, **vals):
        values = {
            "name": "Ofertas",
            "channel_kind": "channel",
            "channel_id": self.tg.id,
            "segment_domain": repr([("id", "=", lead.id)]),
            "subject": "Ofertas",
            "body": "Oi {name}! Temos novidades.",
        }
        values.update(vals)
        campaign = self.Campaign.create(values)
        campaign.action_compute_recipients()
        if campaign.to_send_count:
            campaign.action_send_now()
            self.Campaign._cron_send_campaigns()
        return campaign

    def assert_opted_out(self, partner, identities, channel):
        self.assertTrue(all(identities.mapped("opt_out")), "every channel identity of the person")
        self.assertTrue(self.env["phone.blacklist"].search_count([("number", "=", f"+{WA_ID}")]))
        self.assertTrue(self.env["mail.blacklist"].search_count([("email", "=", EMAIL)]))
        self.assertFalse(partner.ai_whatsapp_marketing_consent, "the consents in force are revoked")
        revoked = partner.ai_consent_ids.filtered(lambda c: c.kind == "opt_in")
        self.assertTrue(revoked.revoked)
        self.assertTrue(revoked.revoked_date)
        event = partner.ai_consent_ids.filtered(lambda c: c.kind == "opt_out")
        self.assertEqual(len(event), 1, "the opt-out is recorded once, as evidence")
        self.assertEqual(event.channel, channel)
        self.assertTrue(event.consent_date)
        self.assertFalse(event.active_consent)
        return event

    # ------------------------------------------------------------------

    def test_opt_out_on_whatsapp_stops_telegram_and_email(self):
        partner, lead_wa, lead_tg, wa_identity, tg_identity = self.person()
        sequence = self.sequence()
        enrollment = self.Enrollment._ai_enroll(sequence, lead_tg, manual=True)
        self.make_due(enrollment)
        self.run_followups()
        queued = self.followup_rows(lead_tg)
        self.assertEqual(queued.channel_id, self.tg)
        self.assertEqual(queued.delivery_state, "pending")

        # She opts out on WhatsApp only.
        self.wa_inbound("wamid.P2", wa_id=WA_ID, name="Paula Reis", text=OPT_OUT)

        event = self.assert_opted_out(partner, wa_identity | tg_identity, "whatsapp")
        self.assertIn(OPT_OUT, event.proof)
        self.assertIn(self.wa.name, event.proof)
        self.assertEqual(enrollment.state, "stopped")
        self.assertEqual(enrollment.stop_reason, "opt_out")

        # What was queued on Telegram before never leaves.
        self.send_queue()
        self.assertEqual(queued.delivery_state, "cancelled")
        self.assertFalse(self.sent("/bot123:ABC/sendMessage"))

        # No campaign on Telegram, no campaign by e-mail.
        on_telegram = self.campaign(lead_tg)
        self.assertEqual(on_telegram.recipient_ids.exclusion_reason, "opt_out")
        by_email = self.campaign(lead_tg, channel_kind="email", channel_id=False)
        self.assertEqual(by_email.recipient_ids.exclusion_reason, "opt_out")
        self.assertFalse(by_email.recipient_ids.mail_id)
        self.assertFalse(self.Message.search_count([("origin", "=", "campaign")]))

        # No follow-up either, on the channel or by e-mail, from any of her leads.
        other = self.Enrollment._ai_enroll(self.sequence(), lead_tg | lead_wa, manual=True)
        for each in other:
            self.make_due(each)
        self.run_followups()
        self.assertEqual(set(other.mapped("stop_reason")), {"opt_out"})
        self.assertEqual(self.Message.search_count([("origin", "=", "followup")]), 1, "only the cancelled one")
        self.assertFalse(self.env["mail.mail"].search_count([("ai_followup_enrollment_id", "in", other.ids)]))

        # Asking again records nothing new.
        self.wa_inbound("wamid.P3", wa_id=WA_ID, name="Paula Reis", text="Parem de me mandar mensagens!")
        self.assertEqual(len(partner.ai_consent_ids.filtered(lambda c: c.kind == "opt_out")), 1)

    def test_consent_given_again_lifts_the_opt_out(self):
        partner, lead_wa, lead_tg, wa_identity, tg_identity = self.person()
        self.tg_inbound(2, OPT_OUT)
        self.assert_opted_out(partner, wa_identity | tg_identity, "telegram")

        again = {"partner_id": partner.id, "proof": "Ligou pedindo para voltar a receber as ofertas (25/11)."}
        with self.assertRaises(AccessError):
            self.env["crm.ai.consent"].with_user(self.salesman_1).create(again)
        consent = self.env["crm.ai.consent"].with_user(self.manager).create(again)

        self.assertTrue(consent.active_consent)
        self.assertTrue(partner.ai_whatsapp_marketing_consent)
        self.assertFalse(any((wa_identity | tg_identity).mapped("opt_out")))
        self.assertFalse(self.env["phone.blacklist"].search_count([("number", "=", f"+{WA_ID}")]))
        self.assertFalse(self.env["mail.blacklist"].search_count([("email", "=", EMAIL)]))
        self.assertFalse(lead_tg._ai_opted_out())

        on_telegram = self.campaign(lead_tg)
        self.assertFalse(on_telegram.recipient_ids.exclusion_reason)
        self.assertEqual(on_telegram.recipient_ids.message_id.channel_id, self.tg)
        by_email = self.campaign(lead_wa, channel_kind="email", channel_id=False)
        self.assertEqual(by_email.recipient_ids.mail_id.email_to, EMAIL)

    def test_a_bare_word_after_earlier_messages_opts_the_person_out(self):
        partner, lead_wa, __, wa_identity, tg_identity = self.person()
        self.wa_inbound("wamid.P2", wa_id=WA_ID, name="Paula Reis", text="Tem na cor azul?")
        self.assertFalse(wa_identity.opt_out)

        # The conversation reads "Olá, quero saber o preço / Tem na cor azul? / SAIR": the word alone is
        # the whole of her newest message.
        self.assertEqual(self.wa_inbound("wamid.P3", wa_id=WA_ID, name="Paula Reis", text="SAIR"), lead_wa)

        event = self.assert_opted_out(partner, wa_identity | tg_identity, "whatsapp")
        self.assertIn("“SAIR”", event.proof)
        self.assertEqual((lead_wa.ai_score, lead_wa.ai_temperature), (0, "cold"))

    def test_parar_alone_opts_the_person_out(self):
        partner, __, lead_tg, wa_identity, tg_identity = self.person()
        self.assertEqual(self.tg_inbound(2, "PARAR"), lead_tg)
        event = self.assert_opted_out(partner, wa_identity | tg_identity, "telegram")
        self.assertIn("“PARAR”", event.proof)

    def test_only_an_explicit_request_in_the_newest_message_opts_out(self):
        partner, __, __, wa_identity, tg_identity = self.person()
        for wamid, text in (
            ("wamid.N1", "Quero sair de casa cedo, vocês entregam antes das 8h?"),
            ("wamid.N2", "Como faço pra cancelar meu pedido?"),
            ("wamid.N3", "Não quero parar de receber as promoções!"),
            ("wamid.N4", "Cancelar?"),
        ):
            self.wa_inbound(wamid, wa_id=WA_ID, name="Paula Reis", text=text)
            self.assertFalse(wa_identity.opt_out, text)
        self.assertFalse(partner.ai_consent_ids.filtered(lambda c: c.kind == "opt_out"))

        self.wa_inbound("wamid.N5", wa_id=WA_ID, name="Paula Reis", text="Pare, por favor 🙏")
        self.assert_opted_out(partner, wa_identity | tg_identity, "whatsapp")

        # She gives her consent again; her next message does not read the old "Pare" once more.
        self.env["crm.ai.consent"].with_user(self.manager).create(
            {"partner_id": partner.id, "proof": "Pediu para voltar a receber as ofertas (25/11)."}
        )
        self.assertFalse(wa_identity.opt_out)
        self.wa_inbound("wamid.N6", wa_id=WA_ID, name="Paula Reis", text="Oi, qual o preço do sofá?")
        self.assertFalse(any((wa_identity | tg_identity).mapped("opt_out")))
        self.assertEqual(len(partner.ai_consent_ids.filtered(lambda c: c.kind == "opt_out")), 1)
        self.assertTrue(partner.ai_whatsapp_marketing_consent)

    def test_unsubscribe_page_opts_the_person_out_everywhere(self):
        partner, lead_wa, __, wa_identity, tg_identity = self.person()
        url = urlparse(self.env["mail.mail"]._ai_unsubscribe_url(EMAIL))
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        response = self.url_open(url.path, data=params)
        self.assertEqual(response.status_code, 200)

        event = self.assert_opted_out(partner, wa_identity | tg_identity, "email")
        self.assertIn(EMAIL, event.proof)
        on_whatsapp = self.campaign(lead_wa, channel_id=self.wa.id)
        self.assertEqual(on_whatsapp.recipient_ids.exclusion_reason, "opt_out")
        self.assertFalse(self.Message.search_count([("origin", "=", "campaign")]))
