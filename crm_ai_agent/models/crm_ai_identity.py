import logging

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..services.emails import normalize_email
from ..services.phone import normalize_phone, phone_variants

_logger = logging.getLogger(__name__)

# Channel types whose sender id is itself a phone number.
PHONE_ID_TYPES = ("whatsapp_cloud", "whatsapp_evolution")


class CrmAiIdentity(models.Model):
    """A person as one channel knows them (WhatsApp number, Telegram user id, visitor...)."""

    _name = "crm.ai.identity"
    _description = "AI Agent Channel Identity"
    _order = "id desc"
    _rec_name = "key"

    channel_id = fields.Many2one("crm.ai.channel", required=True, index=True, ondelete="cascade")
    channel_type = fields.Selection(related="channel_id.channel_type", store=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True)
    key = fields.Char(required=True, help="The sender id on this channel.")
    alt_keys = fields.Char(help="Other ids of the same person on this channel, comma separated.")
    partner_id = fields.Many2one("res.partner", string="Contact", index=True, ondelete="set null")
    lead_id = fields.Many2one("crm.lead", string="Last Lead", index="btree_not_null", ondelete="set null")
    name = fields.Char()
    username = fields.Char()
    phone = fields.Char(string="Phone (E.164)", index="btree_not_null")
    email = fields.Char(index="btree_not_null")
    opt_out = fields.Boolean(string="Opted Out", help="The person asked to receive no more messages here.")
    last_inbound_date = fields.Datetime(help="Last message from the person: opens the 24-hour reply window.")

    _sql_constraints = [
        ("channel_key_uniq", "unique(channel_id, key)", "A channel identity must be unique per channel."),
    ]

    @api.depends("key", "name", "channel_id")
    def _compute_display_name(self):
        for identity in self:
            label = identity.name or identity.username or identity.phone or identity.key
            identity.display_name = f"{label} ({identity.channel_id.name})" if identity.channel_id else label

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _ai_lock(self, *keys):
        """Serialise first contacts of the same person across concurrent transactions."""
        for key in sorted({k for k in keys if k}):
            self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", f"crm_ai:{key}"))

    @api.model
    def _ai_resolve(self, channel, item):
        """Find or create the identity and the contact behind an inbound item.

        Order: channel identity, then phone (both Brazilian ninth-digit forms),
        then e-mail. A contact is created only when the person can be
        identified: a phone, an e-mail or a named channel identity.
        Returns ``(identity, partner)``; partner may be empty.
        """
        keys = [k for k in [item.sender_id, *(item.sender_alt_ids or [])] if k]
        if not keys:
            keys = [f"anonymous:{item.external_id}"]
        phone = normalize_phone(item.phone)
        if not phone and channel.channel_type in PHONE_ID_TYPES:
            phone = normalize_phone(item.sender_id)
        email = normalize_email(item.email)
        self._ai_lock(
            *(f"{channel.id}:{k}" for k in keys),
            *(f"phone:{p}" for p in phone_variants(phone)[:1]),
            f"email:{email}" if email else None,
        )
        Identity = self.sudo()
        identity = Identity.search([("channel_id", "=", channel.id), ("key", "in", keys)], limit=1)
        partner = identity.partner_id
        if not partner and phone:
            partner = self._ai_find_partner_by_phone(phone, channel.company_id)
        if not partner and email:
            partner = self._ai_find_partner_by_email(email, channel.company_id)
        name = (item.name or "").strip()[:128]
        if not partner and (phone or email or name):
            partner = self._ai_create_partner(channel, name, phone, email, item)
        elif partner:
            self._ai_complete_partner(partner, phone, email, name)
        vals = {
            "partner_id": partner.id or False,
            "last_inbound_date": item.timestamp.replace(tzinfo=None) if item.timestamp else fields.Datetime.now(),
        }
        if name:
            vals["name"] = name
        if item.username:
            vals["username"] = item.username[:64]
        if phone:
            vals["phone"] = phone
        if email:
            vals["email"] = email
        alt = ",".join(k for k in keys[1:])
        if identity:
            if alt and alt != identity.alt_keys:
                vals["alt_keys"] = alt
            identity.write(vals)
        else:
            identity = Identity.create({"channel_id": channel.id, "key": keys[0][:255], "alt_keys": alt, **vals})
        return identity, partner

    @api.model
    def _ai_apply_number_change(self, channel, item):
        """The person changed their WhatsApp number: their identity, contact and open lead follow it.

        Their next message comes from the new number and must reach the same contact and lead, not
        start a new one. Returns the identity, or an empty recordset when there was nothing to move.
        """
        old = item.sender_id
        new = next((k for k in item.sender_alt_ids or [] if k and k != old and normalize_phone(k)), "")
        if not old or not new or channel.channel_type not in PHONE_ID_TYPES:
            return self.browse()
        self._ai_lock(f"{channel.id}:{old}", f"{channel.id}:{new}")
        Identity = self.sudo()
        identity = Identity.search([("channel_id", "=", channel.id), ("key", "=", old)], limit=1)
        if not identity or Identity.search_count([("channel_id", "=", channel.id), ("key", "=", new)]):
            return self.browse()  # unknown person, or already seen on the new number: nothing to merge here
        old_phone, new_phone = normalize_phone(old), normalize_phone(new)
        alt = [k for k in (identity.alt_keys or "").split(",") if k and k != new]
        identity.write({"key": new, "alt_keys": ",".join([old, *alt]), "phone": new_phone})
        partner = identity.partner_id.sudo()
        for fname in ("mobile", "phone"):
            if partner and partner[fname] and normalize_phone(partner[fname]) == old_phone:
                partner[fname] = new_phone
        lead = identity.lead_id.sudo()
        if lead.active:
            if lead.phone and normalize_phone(lead.phone) == old_phone:
                lead.phone = new_phone
            note = _("The customer changed their WhatsApp number from %(old)s to %(new)s.")
            lead._message_log(body=note % {"old": old_phone, "new": new_phone})
        return identity

    def _ai_partner_domain_company(self, company):
        return [("company_id", "in", [company.id, False])]

    @api.model
    def _ai_find_partner_by_phone(self, phone, company):
        variants = phone_variants(phone)
        Partner = self.env["res.partner"].sudo().with_context(active_test=True)
        partner = Partner.search(
            [("phone_sanitized", "in", variants), *self._ai_partner_domain_company(company)], order="id", limit=1
        )
        if not partner:
            identity = self.sudo().search(
                [("phone", "in", variants), ("partner_id", "!=", False), ("company_id", "=", company.id)], limit=1
            )
            partner = identity.partner_id
        return partner

    @api.model
    def _ai_find_partner_by_email(self, email, company):
        return (
            self.env["res.partner"]
            .sudo()
            .search([("email_normalized", "=", email), *self._ai_partner_domain_company(company)], order="id", limit=1)
        )

    @api.model
    def _ai_create_partner(self, channel, name, phone, email, item):
        vals = {
            "name": name or email or phone,
            "company_id": False,
            "lang": self._ai_lang(item.language),
        }
        if phone:
            vals["mobile"] = phone
        if email:
            vals["email"] = email
        if not vals["lang"]:
            vals.pop("lang")
        return self.env["res.partner"].sudo().with_context(mail_create_nolog=True).create(vals)

    @api.model
    def _ai_complete_partner(self, partner, phone, email, name):
        """Fill what the contact lacks; never overwrite what someone typed."""
        vals = {}
        if phone and not (partner.mobile or partner.phone):
            vals["mobile"] = phone
        if email and not partner.email:
            vals["email"] = email
        if name and partner.name in (False, "", partner.email, partner.mobile, partner.phone):
            vals["name"] = name
        if vals:
            partner.sudo().write(vals)

    @api.model
    def _ai_lang(self, language_code):
        if not language_code:
            return False
        code = language_code.replace("-", "_")
        langs = dict(self.env["res.lang"].get_installed())
        if code in langs:
            return code
        prefix = code.split("_")[0].lower()
        for lang in langs:
            if lang.lower().startswith(prefix):
                return lang
        return False
