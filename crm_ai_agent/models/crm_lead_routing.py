"""Handoff of leads that need a person: assignment, activity, alerts, speed-to-lead escalation."""

import logging
from ast import literal_eval
from datetime import datetime, timedelta

from markupsafe import Markup

from odoo import _, api, fields, models

from ..services import handoff

_logger = logging.getLogger(__name__)

ROUTE_REASONS = [
    ("hot", "Hot lead"),
    ("needs_human", "The AI asked for a person"),
    ("human_request", "The customer asked for a person"),
    ("escalation", "Not answered in time"),
    ("manual", "Handed off by hand"),
]
ACTIVITY_TYPE = "crm_ai_agent.mail_activity_type_ai_answer"


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------

    ai_routed_date = fields.Datetime(
        string="Handed Off",
        readonly=True,
        index="btree_not_null",
        help="When the lead was last handed to a salesperson; speed to lead counts from here.",
    )
    ai_route_reason = fields.Selection(ROUTE_REASONS, string="Handoff Reason", readonly=True, tracking=True)
    ai_escalation_count = fields.Integer(string="Escalations", readonly=True, default=0)
    ai_routed_user_ids = fields.Many2many(
        "res.users",
        "crm_lead_ai_routed_user_rel",
        "lead_id",
        "user_id",
        string="Salespeople Tried",
        readonly=True,
        copy=False,
    )

    ai_waiting_minutes = fields.Integer(
        string="Waiting (min)",
        compute="_compute_ai_waiting_minutes",
        help="Minutes since the oldest customer message no salesperson answered.",
    )

    @api.depends("ai_waiting_since")
    def _compute_ai_waiting_minutes(self):
        now = fields.Datetime.now()
        for lead in self:
            since = lead.ai_waiting_since
            lead.ai_waiting_minutes = int((now - since).total_seconds() // 60) if since else 0

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        if not self.env.context.get("crm_ai_no_route"):
            hot = leads.filtered(lambda lead: lead.ai_temperature == "hot" and lead.ai_channel_id)
            hot._ai_route("hot")
        return leads

    def write(self, vals):
        """A lead that becomes hot, or that the AI says needs a person, is handed off at once.

        This catches the classification (rules or LLM) whatever the order of
        the ``_ai_after_inbound`` overrides, and a manager setting Hot by hand.
        """
        becoming_hot = needing_human = self.browse()
        if not self.env.context.get("crm_ai_no_route"):
            if vals.get("ai_temperature") == "hot":
                becoming_hot = self.filtered(lambda lead: lead.ai_temperature != "hot")
            if vals.get("ai_needs_human") and "ai_needs_human" in self._fields:
                needing_human = self.filtered(lambda lead: not lead.ai_needs_human)
        res = super().write(vals)
        if needing_human:
            needing_human.filtered("ai_channel_id")._ai_route("needs_human")
        if becoming_hot - needing_human:
            (becoming_hot - needing_human).filtered("ai_channel_id")._ai_route("hot")
        return res

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_ai_route(self):
        """Button: hand the lead to the next available salesperson now."""
        for lead in self:
            lead.check_access("write")
        self._ai_route("manual")
        return True

    # ------------------------------------------------------------
    # HOOKS
    # ------------------------------------------------------------

    def _ai_after_inbound(self, message, item, created=False):
        res = super()._ai_after_inbound(message, item, created=created)
        for lead in self:
            if message.kind != "message":
                continue
            if not lead.ai_waiting_since:
                lead.sudo().with_context(crm_ai_no_route=True).write(
                    {"ai_waiting_since": message.create_date or fields.Datetime.now()}
                )
            lead._ai_send_auto_ack(message)
            if lead.ai_temperature == "hot":
                lead._ai_route("hot")
            elif item.text and handoff.asks_for_person(item.text):
                lead._ai_route("human_request")
        return res

    def _ai_close_answer_activities(self, user):
        res = super()._ai_close_answer_activities(user)
        activity_type = self.env.ref(ACTIVITY_TYPE, raise_if_not_found=False)
        if activity_type:
            activities = self.sudo().activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
            if activities:
                activities.with_user(user).sudo().action_feedback(feedback=_("Answered on the channel."))
        return res

    # ------------------------------------------------------------
    # BUSINESS: routing
    # ------------------------------------------------------------

    def _ai_route(self, reason="hot"):
        """Hand these leads to a salesperson of their team: assign, schedule an activity, alert.

        Callable any number of times: a lead already handed off stays with its
        salesperson while they are available, and nobody is alerted twice;
        leads a salesperson already answers (In Service) are left alone.
        ``reason`` is one of ``ROUTE_REASONS`` (``hot``, ``needs_human``,
        ``human_request``, ``escalation``, ``manual``). Returns the users
        the leads are now with.
        """
        users = self.env["res.users"]
        for lead in self.sudo():
            users |= lead._ai_route_one(reason)
        return users

    def _ai_route_one(self, reason):
        self.ensure_one()
        if not self.active or self.stage_id.is_won or self.ai_service_date or self.ai_temperature == "in_service":
            return self.user_id
        team = self.team_id or self.ai_channel_id.team_id
        current = self.user_id
        escalate = reason == "escalation"
        if not escalate and reason != "manual" and self._ai_available(current, team):
            if self.ai_routed_date:
                return current  # already handed off: no reassignment, no second alert
            if current != self.ai_channel_id.user_id:
                self._ai_assign(current, team, reason)  # a person chose this salesperson: keep them
                return current
        exclude = self.ai_routed_user_ids if escalate else self.env["res.users"]
        if reason == "manual":
            exclude = current
        user = self._ai_pick_user(team, exclude=exclude)
        if not user and escalate and current:
            # Everybody was tried: start again with anyone but the current salesperson.
            user = self._ai_pick_user(team, exclude=current)
        if not user and not escalate:
            # Nobody available: the lead must still be someone's.
            user = current or self.ai_channel_id.user_id or team.user_id
        if not user:
            _logger.info("crm.lead %s: nobody to hand it to in team %s", self.id, team.id)
            return self.env["res.users"]
        self._ai_assign(user, team, reason)
        return user

    def _ai_available(self, user, team):
        """Can ``user`` take this lead now (active employee, on duty when the team asks for it)?"""
        if not user or not user.active or user.share:
            return False
        if self.company_id and self.company_id not in user.company_ids:
            return False
        return not team.ai_route_on_duty or user._ai_on_duty()

    def _ai_candidates(self, team, exclude=None):
        """Team members who may get this lead now, before the strategy picks one."""
        self.ensure_one()
        members = team.crm_team_member_ids.filtered(
            lambda m: (
                m.user_id.active
                and not m.user_id.share
                and not m.assignment_optout
                and m.user_id not in (exclude or self.env["res.users"])
                and (not self.company_id or self.company_id in m.user_id.company_ids)
            )
        )
        members = members.filtered(self._ai_matches_member_domain)
        if team.ai_route_on_duty:
            now = fields.Datetime.now()
            members = members.filtered(lambda m: m.user_id._ai_on_duty(now))
        lang = self.lang_id.code or self.partner_id.lang
        if team.ai_route_language and lang:
            speakers = members.filtered(lambda m: m._ai_speaks(lang))
            members = speakers or members
        return members

    def _ai_matches_member_domain(self, member):
        if not member.assignment_domain:
            return True
        try:
            domain = literal_eval(member.assignment_domain)
        except (ValueError, SyntaxError):
            return False
        return bool(self.filtered_domain(domain)) if domain else True

    def _ai_pick_user(self, team, exclude=None):
        """The salesperson the team's strategy chooses, or an empty recordset."""
        self.ensure_one()
        if not team:
            return self.env["res.users"]
        strategy = team.ai_routing_strategy
        if strategy == "default_user":
            default = self.ai_channel_id.user_id
            available = default.active and default not in (exclude or self.env["res.users"])
            if available and (not team.ai_route_on_duty or default._ai_on_duty()):
                return default
            # Not available: the team's round robin takes over.
        members = self._ai_candidates(team, exclude=exclude)
        if not members:
            return self.env["res.users"]
        hot = self._ai_hot_counts(members.user_id)

        def round_robin_key(member):
            return (hot.get(member.user_id.id, 0), member.ai_last_assigned_date or datetime.min, member.id)

        if strategy == "capacity":
            with_room = members.filtered(lambda m: m.assignment_max > 0 and m.lead_month_count < m.assignment_max)
            pool = with_room or members
            best = min(
                pool,
                key=lambda m: (m.lead_month_count / m.assignment_max if m.assignment_max else 1.0, *round_robin_key(m)),
            )
        else:
            best = min(members, key=round_robin_key)
        return best.user_id

    def _ai_hot_counts(self, users):
        """Open hot leads per user (this lead excluded): the load round robin balances."""
        data = (
            self.env["crm.lead"]
            .sudo()
            ._read_group(
                [
                    ("user_id", "in", users.ids),
                    ("ai_temperature", "=", "hot"),
                    ("active", "=", True),
                    ("id", "not in", self.ids),
                    "|",
                    ("stage_id", "=", False),
                    ("stage_id.is_won", "=", False),
                ],
                ["user_id"],
                ["__count"],
            )
        )
        return {user.id: count for user, count in data}

    def _ai_assign(self, user, team, reason):
        """Give the lead to ``user``: activity, alerts, speed-to-lead timer."""
        self.ensure_one()
        now = fields.Datetime.now()
        previous = self.user_id
        vals = {
            "user_id": user.id,
            "ai_routed_date": now,
            "ai_route_reason": reason,
            "ai_routed_user_ids": [fields.Command.link(user.id)],
        }
        if team and not self.team_id:
            vals["team_id"] = team.id
        if reason == "escalation":
            vals["ai_escalation_count"] = self.ai_escalation_count + 1
        self.with_context(crm_ai_no_route=True).write(vals)
        member = team.crm_team_member_ids.filtered(lambda m: m.user_id == user)[:1]
        if member:
            member.sudo().ai_last_assigned_date = now
        self._ai_schedule_answer_activity(user, reason)
        reason_label = dict(self._fields["ai_route_reason"]._description_selection(self.env)).get(reason, reason)
        title = _("Hot lead: %s", self.partner_id.name or self.contact_name or self.name)
        message = _(
            "%(lead)s (%(reason)s), on %(channel)s. Answer it now.",
            lead=self.name,
            reason=reason_label,
            channel=self.ai_channel_id.name or "-",
        )
        user._ai_alert(self, title, message)
        if reason == "escalation" and team.user_id:
            self._ai_alert_leader(team, previous, user)
        minutes = team.ai_response_minutes if team else 0
        if minutes > 0:
            self.env.ref("crm_ai_agent.ir_cron_escalate_hot_leads").sudo()._trigger(now + timedelta(minutes=minutes))
        self._ai_notify_updated()

    def _ai_schedule_answer_activity(self, user, reason):
        activity_type = self.env.ref(ACTIVITY_TYPE, raise_if_not_found=False)
        if not activity_type:
            return
        existing = self.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        if existing:
            existing.sudo().write({"user_id": user.id})
            return
        reason_label = dict(self._fields["ai_route_reason"]._description_selection(self.env)).get(reason, reason)
        # The salesperson is alerted live (and by their own alert channel): no extra activity e-mail.
        self.sudo().with_context(mail_activity_quick_update=True).activity_schedule(
            ACTIVITY_TYPE,
            date_deadline=fields.Date.context_today(self.with_user(user)),
            summary=_("Answer the customer on %s", self.ai_channel_id.name or _("the channel")),
            note=reason_label,
            user_id=user.id,
        )

    def _ai_alert_leader(self, team, previous, user):
        leader = team.user_id
        minutes = team.ai_response_minutes
        if user == previous:
            text = _(
                "Hot lead %(lead)s has not been answered by %(user)s within %(minutes)s minutes and no other "
                "salesperson is available.",
                lead=self.name,
                user=previous.name or "-",
                minutes=minutes,
            )
        else:
            text = _(
                "Hot lead %(lead)s was not answered by %(previous)s within %(minutes)s minutes: handed to %(user)s.",
                lead=self.name,
                previous=previous.name or "-",
                minutes=minutes,
                user=user.name,
            )
        leader._ai_alert(self, _("Speed to lead: %s", self.name), text)
        self.message_post(
            body=Markup("<p>%s</p>") % text,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            partner_ids=leader.partner_id.ids,
        )

    # ------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------

    @api.model
    def _cron_ai_escalate(self):
        """Hand on hot leads nobody answered within their team's speed-to-lead time."""
        now = fields.Datetime.now()
        done = 0
        next_due = None
        for team in self.env["crm.team"].search([("ai_response_minutes", ">", 0)]):
            delay = timedelta(minutes=team.ai_response_minutes)
            waiting = self.search(
                [
                    ("team_id", "=", team.id),
                    ("ai_temperature", "=", "hot"),
                    ("ai_routed_date", "!=", False),
                    ("ai_service_date", "=", False),
                    ("ai_escalation_count", "<", team.ai_max_escalations),
                    ("ai_waiting", "=", True),
                ],
                order="ai_routed_date",
            )
            for lead in waiting:
                due = lead.ai_routed_date + delay
                if due <= now:
                    lead._ai_route("escalation")
                    done += 1
                elif next_due is None or due < next_due:
                    next_due = due
        if next_due:
            self.env.ref("crm_ai_agent.ir_cron_escalate_hot_leads").sudo()._trigger(next_due)
        return done
