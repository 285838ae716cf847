from odoo import api, fields, models


class CrmAiMessage(models.Model):
    _inherit = "crm.ai.message"

    origin = fields.Selection(
        selection_add=[("followup", "Follow-up Sequence"), ("campaign", "Campaign")],
        ondelete={"followup": "set null", "campaign": "set null"},
    )
    ai_followup_enrollment_id = fields.Many2one(
        "crm.ai.followup.enrollment",
        string="Follow-up Enrolment",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
    )
    ai_campaign_recipient_id = fields.Many2one(
        "crm.ai.campaign.recipient",
        string="Campaign Recipient",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
    )

    @api.model
    def _ai_automated_origins(self):
        return (*super()._ai_automated_origins(), "followup", "campaign")

    def _ai_send_refusal(self):
        """Follow-ups and campaigns are re-checked at the last moment: someone may have answered or opted out.

        Being automated origins, they already stop, like the core's automations, once a salesperson
        attends the lead or it closes; here, also when the person opted out on any channel.
        """
        refusal = super()._ai_send_refusal()
        if refusal:
            return refusal
        if self.origin in self._ai_automated_origins() and self.lead_id and self.lead_id.sudo()._ai_opted_out():
            return "cancelled", self.env._("The contact opted out of messages, on this channel or another one.")
        if self.origin == "followup" and self.ai_followup_enrollment_id:
            enrollment = self.ai_followup_enrollment_id
            reason = enrollment.stop_reason or enrollment._ai_stop_reason()
            if reason:
                labels = dict(enrollment._fields["stop_reason"]._description_selection(self.env))
                return "cancelled", self.env._("Follow-up cancelled: %s.", labels.get(reason, reason))
        if self.origin == "campaign" and self.ai_campaign_recipient_id:
            reason = self.ai_campaign_recipient_id._ai_exclusion_reason(at_send=True)
            if reason:
                labels = dict(
                    self.env["crm.ai.campaign.recipient"]._fields["exclusion_reason"]._description_selection(self.env)
                )
                return "cancelled", self.env._("Campaign message cancelled: %s.", labels.get(reason, reason))
        return None
