"""Campaigns: recipients and exclusions, consent, waves, per-recipient results, e-mail."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import CampaignsCase


@tagged("post_install", "-at_install", "crm_ai_agent_campaigns")
class TestCampaign(CampaignsCase):
    def consent(self, partner, channel="whatsapp"):
        return self.env["crm.ai.consent"].create(
            {
                "partner_id": partner.id,
                "channel": channel,
                "purpose": "marketing",
                "legal_basis": "consent",
                "proof": "Respondeu SIM à pergunta: quer receber nossas ofertas pelo WhatsApp?",
            }
        )

    def make_campaign(self, leads, **vals):
        return self.Campaign.create(
            {
                "name": "Ofertas de novembro",
                "channel_kind": "channel",
                "channel_id": self.wa.id,
                "segment_domain": repr([("id", "in", leads.ids)]),
                "body": "Oi {name}! Esta semana, 10% de desconto no {interest}.",
                **vals,
            }
        )

    def whatsapp_segment(self):
        ana = self.wa_inbound("wamid.A", wa_id="5511900000001", name="Ana Souza")
        bruno = self.wa_inbound("wamid.B", wa_id="5511900000002", name="Bruno Lima")
        carla = self.wa_inbound("wamid.C", wa_id="5511900000003", name="Carla Dias")
        davi = self.wa_inbound("wamid.D", wa_id="5511900000004", name="Davi Reis")
        gabi = self.wa_inbound("wamid.G", wa_id="5511900000007", name="Gabi Nunes")
        Lead = self.env["crm.lead"]
        ana_again = Lead.create({"name": "Ana, outro pedido", "partner_id": ana.partner_id.id})
        nobody = Lead.create({"name": "Lead sem conversa", "contact_name": "Fulano"})
        for lead in ana | bruno | carla | davi | gabi:
            self.consent(lead.partner_id) if lead not in bruno else None
        (ana | gabi).write({"ai_interest": "Onix"})
        carla.ai_reply_identity_id.sudo().opt_out = True
        self.env["phone.blacklist"].sudo()._add(["+5511900000004"])
        return {
            "ana": ana,
            "bruno": bruno,
            "carla": carla,
            "davi": davi,
            "gabi": gabi,
            "ana_again": ana_again,
            "nobody": nobody,
        }

    def recipient(self, campaign, lead):
        return campaign.recipient_ids.filtered(lambda r: r.lead_id == lead)

    # ------------------------------------------------------------------

    def test_recipients_and_exclusions_are_counted_before_sending(self):
        leads = self.whatsapp_segment()
        campaign = self.make_campaign(self.env["crm.lead"].union(*leads.values()))
        self.assertEqual(campaign.segment_count, 7)

        preview = campaign.action_preview()
        self.assertEqual(preview["params"]["message"], "Oi Ana! Esta semana, 10% de desconto no Onix.")
        campaign.action_compute_recipients()
        self.assertEqual(campaign.state, "draft")
        self.assertEqual(campaign.recipient_count, 2)
        self.assertEqual(campaign.excluded_count, 5)
        expected = {
            "ana": False,
            "gabi": False,
            "bruno": "no_consent",
            "carla": "opt_out",
            "davi": "blacklisted",
            "ana_again": "duplicate",
            "nobody": "no_address",
        }
        for key, reason in expected.items():
            self.assertEqual(self.recipient(campaign, leads[key]).exclusion_reason, reason, key)
        self.assertEqual(campaign.excluded_no_consent_count, 1)
        self.assertEqual(campaign.excluded_opt_out_count, 1)
        self.assertEqual(campaign.excluded_blacklisted_count, 1)
        self.assertEqual(campaign.excluded_duplicate_count, 1)
        self.assertEqual(campaign.excluded_no_address_count, 1)
        self.assertEqual(campaign.to_send_count, 2)
        self.assertFalse(self.Message.search_count([("origin", "=", "campaign")]), "nothing sent yet")

        # A revoked consent counts as none.
        leads["gabi"].partner_id.ai_consent_ids.action_revoke()
        self.assertFalse(leads["gabi"].partner_id.ai_whatsapp_marketing_consent)
        campaign.action_compute_recipients()
        self.assertEqual(self.recipient(campaign, leads["gabi"]).exclusion_reason, "no_consent")

    def test_consent_is_evidence(self):
        leads = self.whatsapp_segment()
        consent = leads["ana"].partner_id.ai_consent_ids.with_user(self.salesman_1)
        self.assertTrue(consent.active_consent)
        with self.assertRaises(AccessError):
            consent.write({"proof": "outra coisa"})
        consent.action_revoke()
        self.assertTrue(consent.revoked)
        self.assertTrue(consent.revoked_date)
        self.assertFalse(consent.active_consent)
        self.env["crm.ai.consent"].with_user(self.salesman_1).create(
            {"partner_id": leads["bruno"].partner_id.id, "proof": "Formulário do site, caixa marcada"}
        )
        self.assertTrue(leads["bruno"].partner_id.ai_whatsapp_marketing_consent)

    def test_waves_results_and_answers(self):
        leads = self.whatsapp_segment()
        campaign = self.make_campaign(leads["ana"] | leads["gabi"] | leads["bruno"], wave_size=1)
        campaign.action_send_now()
        self.assertEqual(campaign.state, "sending")
        self.assertTrue(
            self.env["ir.cron.trigger"].search_count(
                [("cron_id", "=", self.env.ref("crm_ai_agent_campaigns.ir_cron_campaign_send").id)]
            )
        )

        self.Campaign._cron_send_campaigns()
        rows = self.Message.search([("origin", "=", "campaign")])
        self.assertEqual(len(rows), 1, "one wave of one message")
        self.assertEqual(campaign.state, "sending")
        self.assertEqual(rows.lead_id, leads["ana"])
        self.assertEqual(rows.body, "Oi Ana! Esta semana, 10% de desconto no Onix.")
        self.assertEqual(rows.delivery_state, "pending")
        ana = self.recipient(campaign, leads["ana"])
        self.assertEqual(ana.state, "queued")

        self.Campaign._cron_send_campaigns()
        rows = self.Message.search([("origin", "=", "campaign")])
        self.assertEqual(len(rows), 2)
        self.assertEqual(campaign.state, "done")
        self.assertTrue(campaign.send_end_date)

        self.send_queue()
        self.assertEqual(set(rows.mapped("delivery_state")), {"sent"})
        self.assertEqual(ana.state, "sent")
        self.assertEqual(campaign.sent_count, 2)

        self.post_wa_status(ana.message_id.external_id, "delivered", recipient="5511900000001")
        self.assertEqual(ana.state, "delivered")
        self.post_wa_status(ana.message_id.external_id, "read", recipient="5511900000001")
        self.assertEqual(ana.state, "read")
        self.assertEqual(campaign.read_count, 1)
        self.assertEqual(campaign.delivered_count, 1)
        self.assertEqual(campaign.sent_count, 2)

        ana.queued_date = fields.Datetime.now() - timedelta(hours=1)
        self.wa_inbound("wamid.A2", wa_id="5511900000001", name="Ana Souza", text="Quero sim!")
        self.assertTrue(ana.answered)
        self.assertEqual(campaign.answered_count, 1)
        self.assertFalse(self.recipient(campaign, leads["gabi"]).answered)

    def test_opt_out_after_the_list_was_made_is_respected(self):
        leads = self.whatsapp_segment()
        campaign = self.make_campaign(leads["ana"] | leads["gabi"])
        campaign.action_send_now()
        leads["gabi"].ai_reply_identity_id.sudo().opt_out = True
        self.Campaign._cron_send_campaigns()
        gabi = self.recipient(campaign, leads["gabi"])
        self.assertEqual(gabi.state, "excluded")
        self.assertEqual(gabi.exclusion_reason, "opt_out")
        self.assertFalse(gabi.message_id)

        # Queued, then the person opts out on another channel before the queue runs: cancelled.
        ana = self.recipient(campaign, leads["ana"])
        self.assertEqual(ana.state, "queued")
        self.env["phone.blacklist"].sudo()._add(["+5511900000001"])
        self.send_queue()
        self.assertEqual(ana.message_id.delivery_state, "cancelled")
        self.assertEqual(ana.state, "cancelled")
        self.assertFalse(self.sent("/1234567890/messages"))

    def test_closed_window_needs_the_template(self):
        leads = self.whatsapp_segment()
        leads["gabi"].ai_reply_identity_id.sudo().last_inbound_date = fields.Datetime.now() - timedelta(hours=30)
        campaign = self.make_campaign(leads["ana"] | leads["gabi"])
        campaign.action_send_now()
        self.Campaign._cron_send_campaigns()
        gabi = self.recipient(campaign, leads["gabi"])
        self.assertEqual(gabi.state, "failed")
        self.assertIn("24 hours", gabi.error)

        template = self.env["crm.ai.template"].create(
            {
                "name": "oferta",
                "channel_id": self.wa.id,
                "body": "Olá {{1}}, temos ofertas!",
                "status": "approved",
                "category": "marketing",
            }
        )
        template.variable_ids.source = "contact_first_name"
        second = self.make_campaign(leads["gabi"], name="Com modelo", template_id=template.id)
        template.variable_ids.source = "free"
        with self.assertRaises(UserError):
            second.action_send_now()
        template.variable_ids.source = "contact_first_name"
        second.action_send_now()
        self.Campaign._cron_send_campaigns()
        row = self.recipient(second, leads["gabi"]).message_id
        self.assertEqual(row.template_id, template)
        self.assertEqual(row.body, "Olá Gabi, temos ofertas!")

    def test_schedule(self):
        leads = self.whatsapp_segment()
        campaign = self.make_campaign(leads["ana"], schedule_date=fields.Datetime.now() + timedelta(hours=2))
        campaign.action_schedule()
        self.assertEqual(campaign.state, "scheduled")
        self.Campaign._cron_send_campaigns()
        self.assertEqual(campaign.state, "scheduled", "not before its date")
        campaign.schedule_date = fields.Datetime.now() - timedelta(minutes=1)
        self.Campaign._cron_send_campaigns()
        self.assertEqual(campaign.state, "done")
        self.assertEqual(self.recipient(campaign, leads["ana"]).state, "queued")

        empty = self.make_campaign(leads["bruno"], name="Ninguém")
        with self.assertRaises(UserError):
            empty.action_send_now()

    def test_email_campaign(self):
        Lead = self.env["crm.lead"]
        ok = Lead.create({"name": "A", "contact_name": "Rita Alves", "email_from": "rita@cliente.example"})
        twin = Lead.create({"name": "B", "contact_name": "Rita Alves", "email_from": "RITA@cliente.example"})
        blocked = Lead.create({"name": "C", "contact_name": "Beto", "email_from": "beto@cliente.example"})
        none = Lead.create({"name": "D", "contact_name": "Sem e-mail"})
        xss = Lead.create({"name": "E", "contact_name": "<script>alert(1)</script>", "email_from": "x@cliente.example"})
        self.env["mail.blacklist"].sudo()._add("beto@cliente.example")
        campaign = self.Campaign.create(
            {
                "name": "Newsletter",
                "channel_kind": "email",
                "segment_domain": repr([("id", "in", (ok | twin | blocked | none | xss).ids)]),
                "subject": "Novidades",
                "body": "Olá {name}, veja as novidades.",
            }
        )
        campaign.action_send_now()
        self.assertEqual(self.recipient(campaign, twin).exclusion_reason, "duplicate")
        self.assertEqual(self.recipient(campaign, blocked).exclusion_reason, "blacklisted")
        self.assertEqual(self.recipient(campaign, none).exclusion_reason, "no_address")
        self.Campaign._cron_send_campaigns()
        recipient = self.recipient(campaign, ok)
        self.assertEqual(recipient.state, "queued")
        self.assertEqual(recipient.mail_id.email_to, "rita@cliente.example")
        self.assertIn("Olá Rita, veja as novidades.", str(recipient.mail_id.body_html))
        self.assertEqual(campaign.state, "done")
        hostile = str(self.recipient(campaign, xss).mail_id.body_html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", hostile)
        self.assertNotIn("<script>", hostile)

    def test_salesperson_reads_managers_edit(self):
        leads = self.whatsapp_segment()
        campaign = self.make_campaign(leads["ana"])
        self.assertEqual(campaign.with_user(self.salesman_1).name, "Ofertas de novembro")
        with self.assertRaises(AccessError):
            self.Campaign.with_user(self.salesman_1).create({"name": "X", "channel_kind": "email", "body": "x"})
        self.Campaign.with_user(self.manager).create({"name": "Y", "channel_kind": "email", "body": "y"})

    def test_other_company_sees_nothing(self):
        leads = self.whatsapp_segment()
        campaign = self.make_campaign(leads["ana"])
        campaign.action_compute_recipients()
        other_company = self.env["res.company"].create({"name": "Loja Dois"})
        outsider = new_test_user(
            self.env,
            login="crm_ai_campaign_outsider",
            groups="sales_team.group_sale_manager",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        self.assertFalse(self.Campaign.with_user(outsider).search([("id", "=", campaign.id)]))
        self.assertFalse(self.Recipient.with_user(outsider).search([("campaign_id", "=", campaign.id)]))
        sequence = self.make_sequence()
        self.assertFalse(self.Sequence.with_user(outsider).search([("id", "=", sequence.id)]))
