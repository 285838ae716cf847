from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmAiFollowupEnrollWizard(models.TransientModel):
    _name = "crm.ai.followup.enroll.wizard"
    _description = "Add Leads to a Follow-up Sequence"

    sequence_id = fields.Many2one(
        "crm.ai.followup.sequence",
        string="Sequence",
        required=True,
        domain="[('step_ids', '!=', False)]",
    )
    lead_ids = fields.Many2many("crm.lead", string="Leads")

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if "lead_ids" in fields_list and self.env.context.get("active_model") == "crm.lead":
            res["lead_ids"] = [fields.Command.set(self.env.context.get("active_ids") or [])]
        return res

    def action_enroll(self):
        self.ensure_one()
        leads = self.lead_ids
        if not leads:
            raise UserError(self.env._("Choose the leads to add."))
        leads.check_access("write")
        Enrollment = self.env["crm.ai.followup.enrollment"]
        blocked = []
        for lead in leads:
            probe = Enrollment.new({"lead_id": lead.id, "enroll_date": fields.Datetime.now()})
            reason = probe._ai_stop_reason()
            if reason:
                labels = dict(Enrollment._fields["stop_reason"]._description_selection(self.env))
                blocked.append(f"{lead.display_name}: {labels.get(reason, reason)}")
        if blocked:
            raise UserError(self.env._("These leads cannot receive automatic follow-ups:\n%s", "\n".join(blocked)))
        Enrollment._ai_enroll(self.sequence_id, leads, manual=True)
        return {"type": "ir.actions.act_window_close"}
