"""Fixtures: the core's channels, signed webhooks and provider fake, plus follow-up and campaign helpers."""

from datetime import timedelta

from odoo import fields

from odoo.addons.crm_ai_agent.tests.common_outbound import OutboundCase


class CampaignsCase(OutboundCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Sequence = cls.env["crm.ai.followup.sequence"]
        cls.Enrollment = cls.env["crm.ai.followup.enrollment"]
        cls.Campaign = cls.env["crm.ai.campaign"]
        cls.Recipient = cls.env["crm.ai.campaign.recipient"]

    def make_sequence(self, steps=None, **vals):
        steps = steps or [
            {"delay": 1, "delay_unit": "days", "body": "Olá {name}, ainda procura {interest}?"},
            {"delay": 3, "delay_unit": "days", "body": "{name}, temos uma nova oferta de {interest}."},
        ]
        return self.Sequence.create(
            {
                "name": "Leads mornos",
                "trigger_domain": "[('ai_temperature', '=', 'warm')]",
                "enroll_after": fields.Datetime.now() - timedelta(days=1),
                "step_ids": [fields.Command.create({"sequence": i, **step}) for i, step in enumerate(steps)],
                **vals,
            }
        )

    def warm_lead(self, wamid="wamid.IN1", wa_id="5511987654321", name="Maria José"):
        lead = self.wa_inbound(wamid, wa_id=wa_id, name=name)
        lead.write({"ai_temperature": "warm", "ai_interest": "Onix 2025"})
        return lead

    def make_due(self, enrollment):
        """Move the enrolment's next step to the past, as if its delay had passed."""
        enrollment.write({"next_date": fields.Datetime.now() - timedelta(minutes=1)})

    def run_followups(self):
        self.Enrollment._cron_process_followups()
        self.env.invalidate_all()

    def followup_rows(self, lead):
        return self.Message.search([("lead_id", "=", lead.id), ("origin", "=", "followup")], order="id")
