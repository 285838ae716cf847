import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL, formataddr

_logger = logging.getLogger(__name__)

TEMPERATURES = [("hot", "Hot"), ("warm", "Warm"), ("cold", "Cold"), ("in_service", "In Service")]
INTENTS = [
    ("purchase", "Purchase"),
    ("price", "Price"),
    ("info", "Information"),
    ("schedule", "Scheduling"),
    ("support", "Support"),
    ("other", "Other"),
]
BUS_LEAD_UPDATE = "crm_ai_agent/lead_update"


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    ai_channel_id = fields.Many2one(
        "crm.ai.channel",
        string="AI Channel",
        index="btree_not_null",
        tracking=True,
        ondelete="set null",
        help="Channel of the customer's first contact.",
    )
    ai_channel_type = fields.Selection(related="ai_channel_id.channel_type", string="Channel Type", store=True)
    ai_message_ids = fields.One2many("crm.ai.message", "lead_id", string="Channel Messages")
    ai_message_count = fields.Integer(string="Channel Message Count", compute="_compute_ai_message_count")
    ai_temperature = fields.Selection(
        TEMPERATURES,
        string="Temperature",
        index=True,
        tracking=True,
        help="Hot: ready to buy soon. Warm: concrete interest. Cold: vague or no interest. "
        "In Service: a salesperson is talking with the customer.",
    )
    ai_score = fields.Integer(string="AI Score", tracking=True, aggregator="avg", help="0 to 100.")
    ai_intent = fields.Selection(INTENTS, string="Intent", tracking=True)
    ai_interest = fields.Char(string="Interest", help="Product, model or service the customer asked about.")
    ai_reason = fields.Text(string="AI Reason", help="Why the lead got this temperature, in the customer's words.")
    ai_referral = fields.Char(
        string="Came From",
        readonly=True,
        help="The ad, post or link that brought the customer to the conversation, as the channel reported it.",
    )
    ai_last_inbound_date = fields.Datetime(string="Last Customer Message", readonly=True, index=True)
    ai_last_outbound_date = fields.Datetime(string="Last Reply", readonly=True)
    ai_first_response_date = fields.Datetime(string="First Response", readonly=True)
    ai_first_response_minutes = fields.Float(
        string="First Response Time (min)",
        readonly=True,
        aggregator="avg",
    )
    ai_waiting = fields.Boolean(
        string="Waiting for Reply",
        compute="_compute_ai_waiting",
        search="_search_ai_waiting",
    )

    @api.depends("ai_message_ids")
    def _compute_ai_message_count(self):
        data = dict(
            self.env["crm.ai.message"]._read_group(
                [("lead_id", "in", self.ids), ("kind", "=", "message")], ["lead_id"], ["__count"]
            )
        )
        for lead in self:
            lead.ai_message_count = data.get(lead, 0)

    @api.depends("ai_last_inbound_date", "ai_last_outbound_date")
    def _compute_ai_waiting(self):
        for lead in self:
            lead.ai_waiting = bool(lead.ai_last_inbound_date) and (
                not lead.ai_last_outbound_date or lead.ai_last_outbound_date < lead.ai_last_inbound_date
            )

    def _search_ai_waiting(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(_("Unsupported search on Waiting for Reply."))
        waiting = (operator == "=") == value
        self.env.cr.execute(
            SQL(
                "SELECT id FROM crm_lead WHERE ai_last_inbound_date IS NOT NULL AND "
                "(ai_last_outbound_date IS NULL OR ai_last_outbound_date < ai_last_inbound_date)"
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        return [("id", "in" if waiting else "not in", ids)]

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_view_ai_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_ai_agent.crm_ai_message_action")
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------
    # BUSINESS: capture
    # ------------------------------------------------------------

    @api.model
    def _ai_open_lead_domain(self, company):
        return [
            ("active", "=", True),
            ("company_id", "in", [company.id, False]),
            "|",
            ("stage_id", "=", False),
            ("stage_id.is_won", "=", False),
        ]

    @api.model
    def _ai_find_or_create_lead(self, channel, identity, partner, item):
        """The person's open lead, or a new one in the channel's team. Returns ``(lead, created)``."""
        Lead = self.sudo().with_context(active_test=True)
        lead = self.browse()
        domain = self._ai_open_lead_domain(channel.company_id)
        if identity.lead_id:
            lead = Lead.search([("id", "=", identity.lead_id.id), *domain], limit=1)
        if not lead and partner:
            lead = Lead.search([("partner_id", "=", partner.id), *domain], order="id desc", limit=1)
        if lead:
            return lead, False
        return self._ai_create_lead(channel, identity, partner, item), True

    @api.model
    def _ai_lead_type(self):
        use_leads = self.env.ref("crm.group_use_lead") in self.env.ref("base.group_user").implied_ids
        return "lead" if use_leads else "opportunity"

    @api.model
    def _ai_create_lead(self, channel, identity, partner, item):
        label = identity.name or partner.name or identity.username or identity.phone or _("Visitor")
        vals = {
            "name": _("%(who)s via %(channel)s", who=label, channel=channel.name),
            "type": self._ai_lead_type(),
            "ai_channel_id": channel.id,
            "team_id": channel.team_id.id or False,
            "user_id": channel.user_id.id or False,
            "company_id": channel.company_id.id,
            "source_id": channel.source_id.id or False,
            "medium_id": channel.medium_id.id or False,
            "partner_id": partner.id or False,
            "contact_name": identity.name or (partner.name if partner and not partner.is_company else False),
            "email_from": identity.email or partner.email or False,
            "phone": identity.phone or partner.mobile or partner.phone or False,
            "lang_id": self.env["res.lang"]._lang_get(partner.lang).id if partner and partner.lang else False,
            **self._ai_referral_vals(item.referral),
        }
        # The salesperson hears of it through routing's alert, not through Odoo's assignment e-mail.
        lead = (
            self.sudo()
            .with_context(mail_create_nosubscribe=True, mail_create_nolog=True, mail_auto_subscribe_no_notify=True)
            .create(vals)
        )
        lead._message_log(body=_("Lead created from a first contact on %(channel)s.", channel=channel.name))
        return lead

    @api.model
    def _ai_referral_label(self, referral):
        """One line telling where the customer came from (ad, post, link, page)."""
        kinds = {
            "ad": _("Ad"),
            "ads": _("Ad"),
            "post": _("Post"),
            "link": _("Link"),
            "shortlink": _("Link"),
            "website": _("Website"),
        }
        source = referral.get("source", "")
        parts = [kinds.get(source, source)]
        if referral.get("headline"):
            parts.append(f"“{referral['headline']}”")
        if referral.get("ad_id"):
            parts.append(_("ad %s", referral["ad_id"]))
        if referral.get("ref"):
            parts.append(_("parameter %s", referral["ref"]))
        utm = [referral[k] for k in ("utm_source", "utm_medium", "utm_campaign") if referral.get(k)]
        if utm:
            parts.append("utm " + " / ".join(utm))
        if referral.get("url"):
            parts.append(referral["url"])
        return " · ".join(p for p in parts if p)[:255]

    @api.model
    def _ai_referral_vals(self, referral):
        """UTM campaign, source and medium, and the "Came From" line, of what brought the customer.

        The campaign is the page's ``utm_campaign``, else the ad's title, else the ad's id, else the
        link's parameter; the web chat page's ``utm_source``/``utm_medium`` replace the channel's.
        """
        if not referral:
            return {}
        Utm = self.env["utm.mixin"].sudo()
        vals = {"ai_referral": self._ai_referral_label(referral)}
        campaign = (
            referral.get("utm_campaign")
            or referral.get("headline")
            or (referral.get("ad_id") and _("Ad %s", referral["ad_id"]))
            or referral.get("ref")
        )
        if campaign:
            vals["campaign_id"] = Utm._find_or_create_record("utm.campaign", campaign[:100]).id
        if referral.get("utm_source"):
            vals["source_id"] = Utm._find_or_create_record("utm.source", referral["utm_source"][:100]).id
        if referral.get("utm_medium"):
            vals["medium_id"] = Utm._find_or_create_record("utm.medium", referral["utm_medium"][:100]).id
        return vals

    def _ai_post_inbound(self, message, item, identity, partner):
        """Post the customer's message in the chatter, as the customer."""
        self.ensure_one()
        author = {"author_id": partner.id or False}
        if not partner.email:
            # Followers are notified by e-mail: give the notification a valid sender even when the
            # customer has no address (the company's, named after the customer and the channel).
            label = f"{partner.name or identity.name or _('Visitor')} ({message.channel_id.name})"
            address = (self.company_id or self.env.company).email or self.env[
                "ir.mail_server"
            ]._get_default_from_address()
            author["email_from"] = formataddr((label, address)) if address else label
        mail_message = (
            self.sudo()
            # Notification e-mails go through the mail queue: processing never waits on SMTP.
            .with_context(mail_create_nosubscribe=True, mail_notify_force_send=False)
            .message_post(
                body=message._ai_chatter_body(item),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                **author,
            )
        )
        when = item.timestamp.replace(tzinfo=None) if item.timestamp else fields.Datetime.now()
        vals = {"ai_last_inbound_date": max(when, self.ai_last_inbound_date or when)}
        if not self.phone and identity.phone:
            vals["phone"] = identity.phone
        if not self.email_from and identity.email:
            vals["email_from"] = identity.email
        if not self.partner_id and partner:
            vals["partner_id"] = partner.id
        if item.referral and not self.ai_referral:
            # an open lead the customer comes back to through an ad: attributed unless it already was
            referral = self._ai_referral_vals(item.referral)
            vals.update({k: v for k, v in referral.items() if k == "ai_referral" or not self[k]})
        self.sudo().write(vals)
        return mail_message

    def _ai_after_inbound(self, message, item, created=False):
        """Hook run after an inbound message landed on the lead (AI enrichment, routing)."""
        return True

    def _ai_notify_updated(self):
        """Tell open CRM views (kanban, list, form) that these leads changed: they reload live."""
        if not self:
            return
        by_company = {}
        for lead in self:
            by_company.setdefault(lead.company_id.id, []).append(lead.id)
        group = self.env.ref("sales_team.group_sale_salesman", raise_if_not_found=False)
        if not group:
            return
        for company_id, lead_ids in by_company.items():
            group._bus_send(BUS_LEAD_UPDATE, {"lead_ids": lead_ids, "company_id": company_id})

    # ------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------

    @api.model
    def _cron_archive_inactive(self):
        """Archive channel leads with no interaction for the configured number of days."""
        days = int(self.env["ir.config_parameter"].sudo().get_param("crm_ai_agent.archive_after_days", 0) or 0)
        if days <= 0:
            return
        limit = fields.Datetime.now() - timedelta(days=days)
        leads = self.search(
            [
                ("ai_channel_id", "!=", False),
                ("active", "=", True),
                ("stage_id.is_won", "=", False),
                ("ai_last_inbound_date", "<", limit),
                "|",
                ("ai_last_outbound_date", "=", False),
                ("ai_last_outbound_date", "<", limit),
            ],
            limit=1000,
        )
        for lead in leads:
            lead.message_post(
                body=_("Archived after %s days without interaction.", days),
                message_type="notification",
                subtype_xmlid="mail.mt_note",
            )
        leads.write({"active": False})
        self.env["ir.cron"]._notify_progress(done=len(leads), remaining=0 if len(leads) < 1000 else 1)
