"""Follow-up sequences: enrolment, due steps through the send queue, and every stop condition."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import CampaignsCase


@tagged("post_install", "-at_install", "crm_ai_agent_campaigns")
class TestFollowup(CampaignsCase):
    def test_due_step_queues_rendered_message_then_waits_for_the_next(self):
        lead = self.warm_lead()
        sequence = self.make_sequence()

        self.run_followups()
        enrollment = lead.ai_followup_enrollment_ids
        self.assertEqual(len(enrollment), 1)
        self.assertEqual(enrollment.sequence_id, sequence)
        self.assertEqual(enrollment.state, "running")
        self.assertEqual(enrollment.next_step_id, sequence.step_ids[0])
        self.assertGreater(enrollment.next_date, fields.Datetime.now() + timedelta(hours=23))
        self.assertFalse(self.followup_rows(lead), "nothing is sent before the delay")

        # Enrolled once per lead per sequence, however often the cron runs.
        self.run_followups()
        self.assertEqual(len(lead.ai_followup_enrollment_ids), 1)

        self.make_due(enrollment)
        self.run_followups()
        row = self.followup_rows(lead)
        self.assertEqual(len(row), 1)
        self.assertEqual(row.delivery_state, "pending")
        self.assertEqual(row.body, "Olá Maria, ainda procura Onix 2025?")
        self.assertEqual(row.recipient_key, "5511987654321")
        self.assertEqual(row.channel_id, self.wa)
        self.assertEqual(row.ai_followup_enrollment_id, enrollment)
        self.assertIn("Onix 2025", str(row.mail_message_id.body), "the chatter shows what was sent")
        self.assertFalse(self.fake.requests, "queued, not sent inline")
        self.assertEqual(enrollment.step_done_count, 1)
        self.assertEqual(enrollment.next_step_id, sequence.step_ids[1])
        self.assertGreater(enrollment.next_date, fields.Datetime.now() + timedelta(days=2, hours=23))
        self.assertNotEqual(lead.ai_temperature, "in_service", "a follow-up is not a salesperson's reply")

        # The send queue delivers it through the provider.
        self.send_queue()
        self.assertEqual(row.delivery_state, "sent")
        self.assertEqual(len(self.sent("/1234567890/messages")), 1)

        self.make_due(enrollment)
        self.run_followups()
        self.assertEqual(len(self.followup_rows(lead)), 2)
        self.assertEqual(enrollment.state, "done")
        self.assertFalse(enrollment.next_date)

    def test_customer_answer_stops_the_sequence(self):
        lead = self.warm_lead()
        self.make_sequence()
        self.run_followups()
        enrollment = lead.ai_followup_enrollment_ids
        enrollment.write({"enroll_date": fields.Datetime.now() - timedelta(hours=2)})

        self.wa_inbound("wamid.IN2", text="Ainda quero sim, qual o preço?")
        self.assertEqual(enrollment.state, "stopped")
        self.assertEqual(enrollment.stop_reason, "answered")
        self.make_due(enrollment)
        self.run_followups()
        self.assertFalse(self.followup_rows(lead))

    def test_answer_seen_before_sending_even_without_the_hook(self):
        lead = self.warm_lead()
        self.make_sequence()
        self.run_followups()
        enrollment = lead.ai_followup_enrollment_ids
        lead.sudo().write({"ai_last_inbound_date": enrollment.enroll_date + timedelta(minutes=5)})
        self.make_due(enrollment)
        self.run_followups()
        self.assertEqual(enrollment.stop_reason, "answered")
        self.assertFalse(self.followup_rows(lead))

    def test_salesperson_takeover_stops_and_cancels_the_queued_follow_up(self):
        lead = self.warm_lead()
        lead.user_id = self.salesman_1
        self.make_sequence()
        self.run_followups()
        enrollment = lead.ai_followup_enrollment_ids
        self.make_due(enrollment)
        self.run_followups()
        row = self.followup_rows(lead)
        self.assertEqual(row.delivery_state, "pending")

        self.reply(lead, "Oi Maria, sou o vendedor, posso ajudar?")
        self.assertEqual(lead.ai_temperature, "in_service")
        self.assertEqual(enrollment.state, "stopped")
        self.assertEqual(enrollment.stop_reason, "in_service")

        self.send_queue()
        self.assertEqual(row.delivery_state, "cancelled", "the stale follow-up never leaves after a human took over")
        self.assertEqual(len(self.sent("/1234567890/messages")), 1, "only the salesperson's reply")

    def test_chatter_message_from_a_salesperson_or_an_email_from_the_customer_stops(self):
        lead = self.warm_lead()
        lead.email_from = "maria@cliente.example"
        self.make_sequence()
        self.run_followups()
        enrollment = lead.ai_followup_enrollment_ids
        # A note is internal: the sequence goes on.
        lead.with_user(self.salesman_1).message_post(body="Ligar amanhã", subtype_xmlid="mail.mt_note")
        self.assertFalse(enrollment._ai_stop_reason())
        lead.with_user(self.salesman_1).message_post(
            body="Oi Maria, segue a proposta.", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertEqual(enrollment._ai_stop_reason(), "human_reply")

        other = self.warm_lead("wamid.IN7", wa_id="5511933334444", name="Joana Silva")
        self.run_followups()
        enrollment = other.ai_followup_enrollment_ids
        other.message_post(
            body="Pode me mandar o catálogo?",
            message_type="email",
            author_id=other.partner_id.id,
            subtype_xmlid="mail.mt_comment",
        )
        self.make_due(enrollment)
        self.run_followups()
        self.assertEqual(enrollment.stop_reason, "answered")
        self.assertFalse(self.followup_rows(other))

    def test_in_service_lead_stops_before_sending(self):
        lead = self.warm_lead()
        self.make_sequence()
        self.run_followups()
        enrollment = lead.ai_followup_enrollment_ids
        lead.sudo().write({"ai_temperature": "in_service"})
        self.make_due(enrollment)
        self.run_followups()
        self.assertEqual(enrollment.stop_reason, "in_service")
        self.assertFalse(self.followup_rows(lead))

    def test_won_or_lost_lead_stops(self):
        lead = self.warm_lead()
        self.make_sequence()
        self.run_followups()
        enrollment = lead.ai_followup_enrollment_ids
        lead.action_set_lost()
        self.make_due(enrollment)
        self.run_followups()
        self.assertEqual(enrollment.stop_reason, "closed")
        self.assertFalse(self.followup_rows(lead))

    def test_opted_out_contact_gets_nothing(self):
        lead = self.warm_lead()
        self.make_sequence()
        self.run_followups()
        enrollment = lead.ai_followup_enrollment_ids
        lead.ai_reply_identity_id.sudo().opt_out = True
        self.make_due(enrollment)
        self.run_followups()
        self.assertEqual(enrollment.state, "stopped")
        self.assertEqual(enrollment.stop_reason, "opt_out")
        self.assertFalse(self.followup_rows(lead))

    def test_blacklisted_phone_counts_as_opt_out(self):
        lead = self.warm_lead()
        self.make_sequence()
        self.run_followups()
        enrollment = lead.ai_followup_enrollment_ids
        self.env["phone.blacklist"].sudo()._add(["+5511987654321"])
        self.make_due(enrollment)
        self.run_followups()
        self.assertEqual(enrollment.stop_reason, "opt_out")
        self.assertFalse(self.followup_rows(lead))

    def test_email_step_and_blacklisted_address(self):
        lead = self.warm_lead()
        lead.email_from = "maria@cliente.example"
        self.make_sequence(
            steps=[
                {
                    "delay": 2,
                    "delay_unit": "hours",
                    "channel_kind": "email",
                    "subject": "Seu {interest}",
                    "body": "Olá {name}, ainda procura {interest}?",
                }
            ]
        )
        self.run_followups()
        enrollment = lead.ai_followup_enrollment_ids
        self.make_due(enrollment)
        self.run_followups()
        mail = enrollment.mail_ids
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.email_to, "maria@cliente.example")
        self.assertIn("Olá Maria, ainda procura Onix 2025?", str(mail.body_html))
        self.assertEqual(mail.subject, "Seu Onix 2025")
        self.assertIn("/crm_ai_campaigns/unsubscribe?email=maria%40cliente.example&amp;token=", str(mail.body_html))
        self.assertIn("List-Unsubscribe", mail.headers)
        self.assertEqual(mail.model, "crm.lead")
        self.assertEqual(mail.res_id, lead.id)
        self.assertEqual(enrollment.state, "done")

        other = self.warm_lead("wamid.IN9", wa_id="5511911112222", name="Joana Silva")
        other.email_from = "joana@cliente.example"
        self.env["mail.blacklist"].sudo()._add("joana@cliente.example")
        self.run_followups()
        enrollment = other.ai_followup_enrollment_ids
        self.make_due(enrollment)
        self.run_followups()
        self.assertEqual(enrollment.stop_reason, "opt_out")
        self.assertFalse(enrollment.mail_ids)

    def test_closed_window_uses_the_template_or_skips_the_step(self):
        lead = self.warm_lead()
        template = self.env["crm.ai.template"].create(
            {"name": "lembrete", "channel_id": self.wa.id, "body": "Olá {{1}}, podemos ajudar?", "status": "approved"}
        )
        template.variable_ids.source = "contact_first_name"
        self.make_sequence(
            steps=[
                {"delay": 2, "delay_unit": "days", "body": "Olá {name}!"},
                {"delay": 2, "delay_unit": "days", "body": "Olá de novo {name}!", "template_id": template.id},
            ]
        )
        self.run_followups()
        enrollment = lead.ai_followup_enrollment_ids
        lead.ai_reply_identity_id.sudo().last_inbound_date = fields.Datetime.now() - timedelta(hours=25)

        self.make_due(enrollment)
        self.run_followups()
        self.assertFalse(self.followup_rows(lead), "free text cannot go out of the 24-hour window")
        self.assertEqual(enrollment.step_skipped_count, 1)
        self.assertIn("24 hours", enrollment.log)

        self.make_due(enrollment)
        self.run_followups()
        row = self.followup_rows(lead)
        self.assertEqual(row.template_id, template)
        self.assertEqual(row.body, "Olá Maria, podemos ajudar?")
        self.assertEqual(enrollment.state, "done")

    def test_template_variables_must_be_filled_automatically(self):
        template = self.env["crm.ai.template"].create(
            {"name": "livre", "channel_id": self.wa.id, "body": "Olá {{1}}, {{2}}", "status": "approved"}
        )
        template.variable_ids[0].source = "contact_first_name"
        with self.assertRaises(ValidationError):
            self.make_sequence(steps=[{"delay": 1, "body": "Oi", "template_id": template.id}])
        template.variable_ids[1].default_value = "temos novidades"
        self.make_sequence(steps=[{"delay": 1, "body": "Oi", "template_id": template.id}])

    def test_manual_enrolment_from_the_lead(self):
        lead = self.warm_lead()
        lead.write({"ai_temperature": "cold", "user_id": self.salesman_1.id})
        sequence = self.make_sequence(auto_enroll=False)
        self.run_followups()
        self.assertFalse(lead.ai_followup_enrollment_ids, "only by hand")

        wizard = (
            self.env["crm.ai.followup.enroll.wizard"]
            .with_user(self.salesman_1)
            .with_context(active_model="crm.lead", active_ids=lead.ids)
            .create({"sequence_id": sequence.id})
        )
        wizard.action_enroll()
        enrollment = lead.ai_followup_enrollment_ids
        self.assertEqual(enrollment.enrolled_by, "manual")
        self.assertEqual(enrollment.state, "running")
        self.assertEqual(self.Enrollment.with_user(self.salesman_1).search([("lead_id", "=", lead.id)]), enrollment)
        self.assertFalse(
            self.Enrollment.with_user(self.salesman_2).search([("lead_id", "=", lead.id)]),
            "another salesperson's lead stays private",
        )

        enrollment.with_user(self.salesman_1).action_stop()
        self.assertEqual(enrollment.stop_reason, "manual")

        lead.sudo().write({"ai_temperature": "in_service"})
        second = self.make_sequence(name="Outra", auto_enroll=False)
        wizard = (
            self.env["crm.ai.followup.enroll.wizard"]
            .with_user(self.salesman_1)
            .with_context(active_model="crm.lead", active_ids=lead.ids)
            .create({"sequence_id": second.id})
        )
        with self.assertRaises(UserError):
            wizard.action_enroll()

    def test_team_filter_and_old_leads(self):
        lead = self.warm_lead()
        other_team = self.env["crm.team"].create({"name": "Outra equipe"})
        self.make_sequence(team_ids=[fields.Command.set(other_team.ids)])
        self.make_sequence(name="Nova", enroll_after=fields.Datetime.now() + timedelta(minutes=1))
        self.run_followups()
        self.assertFalse(lead.ai_followup_enrollment_ids)
