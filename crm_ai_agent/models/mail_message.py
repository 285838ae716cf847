from odoo import models

from odoo.addons.mail.tools.discuss import Store


class MailMessage(models.Model):
    _inherit = "mail.message"

    def _ai_delivery_by_message(self):
        """``{mail.message id: delivery summary}`` of the channel replies among these messages."""
        lead_messages = self.filtered(lambda m: m.model == "crm.lead" and m.message_type == "comment")
        if not lead_messages:
            return {}
        # sudo: crm.ai.message - the delivery state of a message one can read is readable
        rows = (
            self.env["crm.ai.message"]
            .sudo()
            .search([("mail_message_id", "in", lead_messages.ids), ("direction", "=", "out")], order="id")
        )
        grouped = {}
        for row in rows:
            grouped.setdefault(row.mail_message_id.id, row.browse())
            grouped[row.mail_message_id.id] |= row
        return {message_id: msgs._ai_delivery_summary() for message_id, msgs in grouped.items()}

    def _extras_to_store(self, store: Store, format_reply):
        super()._extras_to_store(store, format_reply=format_reply)
        if not self.env.user._is_internal():
            return
        for message_id, summary in self._ai_delivery_by_message().items():
            store.add(self.browse(message_id), {"crmAiDelivery": summary})

    def _ai_push_delivery(self):
        """Update the delivery badge in the chatter of the people following the conversation."""
        summaries = self._ai_delivery_by_message()
        for message in self.filtered(lambda m: m.id in summaries):
            lead = self.env["crm.lead"].sudo().browse(message.res_id).exists()
            partners = message.author_id | lead.user_id.partner_id | lead.message_partner_ids
            users = partners.sudo().user_ids.filtered(lambda u: not u.share and u.active)
            store = Store(message, {"crmAiDelivery": summaries[message.id]})
            for partner in users.partner_id:
                partner._bus_send_store(store)
