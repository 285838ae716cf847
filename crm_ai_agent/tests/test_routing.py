"""Handoff of leads that need a person: strategy, duty, language, alerts, speed to lead, and the UI tour."""

from collections import Counter
from datetime import timedelta

from odoo import fields
from odoo.tests import freeze_time, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common_outbound import HOT_LEAD, OutboundCase

ACTIVITY = "crm_ai_agent.mail_activity_type_ai_answer"


class RoutingCase(OutboundCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman_3 = new_test_user(
            cls.env, login="crm_ai_sales_3", name="Salesperson Three", groups="sales_team.group_sale_salesman"
        )
        cls.team.write({"member_ids": [(4, cls.salesman_3.id)], "user_id": cls.manager.id})
        cls.sellers = cls.salesman_1 | cls.salesman_2 | cls.salesman_3
        cls.members = cls.team.crm_team_member_ids

    def member(self, user):
        return self.members.filtered(lambda m: m.user_id == user)

    def new_leads(self, count=1, route=True, **vals):
        """Leads of the WhatsApp channel, waiting for a reply; ``ai_temperature='hot'`` routes them."""
        now = fields.Datetime.now()
        Lead = self.env["crm.lead"] if route else self.env["crm.lead"].with_context(crm_ai_no_route=True)
        return Lead.create(
            [
                {
                    "name": f"Lead {i}",
                    "ai_channel_id": self.wa.id,
                    "team_id": self.team.id,
                    "ai_last_inbound_date": now,
                    "ai_waiting_since": now,
                    "user_id": False,
                    **vals,
                }
                for i in range(count)
            ]
        )

    def activity(self, lead):
        return lead.activity_ids.filtered(lambda a: a.activity_type_id == self.env.ref(ACTIVITY))


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestRouting(RoutingCase):
    def test_hot_lead_handed_off_with_activity_and_live_alert(self):
        lead = self.wa_inbound("wamid.H1", text="oi")
        lead.user_id = False
        lead.ai_temperature = "hot"
        user = lead.user_id
        self.assertIn(user, self.sellers)
        self.assertEqual(lead.ai_route_reason, "hot")
        self.assertTrue(lead.ai_routed_date)
        activity = self.activity(lead)
        self.assertEqual(activity.user_id, user)
        alerts = self.bus_messages(user, HOT_LEAD)
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts[0]["lead_id"], lead.id)
        self.assertIn("Maria José", alerts[0]["title"])
        escalation = self.env.ref("crm_ai_agent.ir_cron_escalate_hot_leads")
        trigger = self.env["ir.cron.trigger"].search([("cron_id", "=", escalation.id)], order="call_at desc", limit=1)
        self.assertEqual(trigger.call_at, lead.ai_routed_date + timedelta(minutes=5))
        # Calling it again (classification, another message) changes nothing and alerts nobody twice.
        lead._ai_route("hot")
        lead._ai_route("needs_human")
        self.wa_inbound("wamid.H2", text="alô?")
        self.assertEqual(lead.user_id, user)
        self.assertEqual(len(self.activity(lead)), 1)
        self.assertEqual(len(self.bus_messages(user, HOT_LEAD)), 1)

    def test_customer_asking_for_a_person_is_handed_off(self):
        lead = self.wa_inbound("wamid.P1", text="Quero falar com um atendente, por favor")
        self.assertIn(lead.user_id, self.sellers)
        self.assertIn(lead.ai_route_reason, ("human_request", "needs_human"))
        self.assertEqual(self.activity(lead).user_id, lead.user_id)

    def test_salesperson_chosen_by_a_person_is_kept(self):
        lead = self.new_leads(user_id=self.salesman_3.id)
        lead.ai_temperature = "hot"
        self.assertEqual(lead.user_id, self.salesman_3)
        self.assertEqual(self.activity(lead).user_id, self.salesman_3)
        self.assertEqual(len(self.bus_messages(self.salesman_3, HOT_LEAD)), 1)
        # The channel's default salesperson is only a placeholder: the team's strategy decides.
        self.wa.user_id = self.salesman_3
        placeholder = self.new_leads(user_id=self.salesman_3.id)
        placeholder.ai_temperature = "hot"
        self.assertIn(placeholder.user_id, self.salesman_1 | self.salesman_2)

    def test_ai_needs_human(self):
        lead = self.new_leads()
        lead._ai_route("needs_human")
        self.assertEqual(lead.ai_route_reason, "needs_human")
        self.assertIn(lead.user_id, self.sellers)

    def test_round_robin_fairness_over_100_leads(self):
        leads = self.new_leads(100, ai_temperature="hot")
        counts = Counter(lead.user_id.login for lead in leads)
        self.assertEqual(set(counts), set(self.sellers.mapped("login")), counts)
        self.assertLessEqual(max(counts.values()) - min(counts.values()), 1, counts)
        self.assertEqual(len(leads[:3].user_id), 3, "three leads in a row go to three people")

    def test_round_robin_weighted_by_open_hot_leads(self):
        busy = self.new_leads(4, route=False, ai_temperature="hot", user_id=self.salesman_3.id)
        leads = self.new_leads(8, ai_temperature="hot")
        self.assertNotIn(self.salesman_3, leads.user_id, "the busiest salesperson waits for the others")
        self.assertEqual(Counter(lead.user_id.login for lead in leads), {"crm_ai_sales_1": 4, "crm_ai_sales_2": 4})
        # Won or answered leads are no load any more.
        busy.with_context(crm_ai_no_route=True).write({"ai_temperature": "in_service"})
        self.assertEqual(self.new_leads(ai_temperature="hot").user_id, self.salesman_3)

    def test_only_salespeople_on_duty(self):
        calendar = self.env["resource.calendar"].create({"name": "Comercial", "tz": "UTC"})  # Mon-Fri 8-17
        Resource = self.env["resource.resource"]
        res_1 = Resource.create({"name": "One", "user_id": self.salesman_1.id, "calendar_id": calendar.id, "tz": "UTC"})
        res_2 = Resource.create({"name": "Two", "user_id": self.salesman_2.id, "calendar_id": calendar.id, "tz": "UTC"})
        Resource.create({"name": "Three", "user_id": self.salesman_3.id, "calendar_id": calendar.id, "tz": "UTC"})
        wednesday_10h = fields.Datetime.to_datetime("2026-11-25 10:00:00")
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Dentist",
                "resource_id": res_2.id,
                "calendar_id": calendar.id,
                "date_from": wednesday_10h - timedelta(hours=1),
                "date_to": wednesday_10h + timedelta(hours=3),
            }
        )
        with freeze_time(wednesday_10h):
            self.assertFalse(self.salesman_2._ai_on_duty())
            leads = self.new_leads(4, ai_temperature="hot")
        self.assertEqual(set(leads.user_id.ids), {self.salesman_1.id, self.salesman_3.id}, "not the one on leave")
        self.wa.user_id = self.salesman_1
        saturday = fields.Datetime.to_datetime("2026-11-28 11:00:00")
        with freeze_time(saturday):
            self.assertFalse(any(u._ai_on_duty() for u in self.sellers))
            lead = self.new_leads(ai_temperature="hot")
        self.assertEqual(lead.user_id, self.salesman_1, "nobody on duty: the channel's default salesperson")
        # A salesperson with no working schedule at all is always on duty.
        res_1.unlink()
        with freeze_time(saturday):
            self.assertTrue(self.salesman_1._ai_on_duty())
            self.assertEqual(self.new_leads(ai_temperature="hot").user_id, self.salesman_1)

    def test_language_of_the_customer(self):
        for code in ("pt_BR", "es_ES"):
            self.env["res.lang"]._activate_lang(code)
        portuguese = self.env.ref("base.lang_pt_BR")
        self.member(self.salesman_2).ai_lang_ids = portuguese
        leads = self.new_leads(2, ai_temperature="hot", lang_id=portuguese.id)
        self.assertEqual(leads.user_id, self.salesman_2, "only Two speaks Portuguese")
        english = self.new_leads(2, ai_temperature="hot", lang_id=self.env.ref("base.lang_en").id)
        self.assertNotIn(self.salesman_2, english.user_id)
        spanish = self.new_leads(ai_temperature="hot", lang_id=self.env.ref("base.lang_es").id)
        self.assertTrue(spanish.user_id, "nobody speaks it: anyone rather than no one")

    def test_assignment_domains_and_opt_out(self):
        self.member(self.salesman_1).assignment_domain = "[('ai_channel_type', '=', 'telegram')]"
        self.member(self.salesman_3).assignment_optout = True
        leads = self.new_leads(3, ai_temperature="hot")
        self.assertEqual(leads.user_id, self.salesman_2)
        telegram = self.new_leads(2, ai_temperature="hot", ai_channel_id=self.tg.id)
        self.assertIn(self.salesman_1, telegram.user_id)

    def test_capacity_strategy(self):
        self.team.ai_routing_strategy = "capacity"
        self.member(self.salesman_1).assignment_max = 10
        self.member(self.salesman_2).assignment_max = 40
        self.member(self.salesman_3).assignment_optout = True
        self.new_leads(4, user_id=self.salesman_1.id)
        self.new_leads(4, user_id=self.salesman_2.id)
        self.members.invalidate_recordset(["lead_month_count"])
        lead = self.new_leads(ai_temperature="hot")
        self.assertEqual(lead.user_id, self.salesman_2, "4/40 has more room than 4/10")

    def test_default_user_strategy(self):
        self.team.ai_routing_strategy = "default_user"
        self.wa.user_id = self.salesman_3
        self.assertEqual(self.new_leads(3, ai_temperature="hot").user_id, self.salesman_3)
        # Not a team member is fine; away (on leave) is not: the team takes over.
        outsider = new_test_user(self.env, login="crm_ai_outsider", groups="sales_team.group_sale_salesman")
        self.wa.user_id = outsider
        self.assertEqual(self.new_leads(ai_temperature="hot").user_id, outsider)
        resource = self.env["resource.resource"].create({"name": "Out", "user_id": outsider.id, "calendar_id": False})
        now = fields.Datetime.now()
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Vacation",
                "resource_id": resource.id,
                "date_from": now - timedelta(days=1),
                "date_to": now + timedelta(days=1),
            }
        )
        self.assertIn(self.new_leads(ai_temperature="hot").user_id, self.sellers)

    # ------------------------------------------------------------------
    # Speed to lead
    # ------------------------------------------------------------------

    def test_escalation_timing_and_first_response(self):
        self.team.ai_max_escalations = 2
        t0 = fields.Datetime.now().replace(microsecond=0)
        with freeze_time(t0):
            lead = self.wa_inbound("wamid.E1", text="oi", when=t0)
            lead.user_id = False
            lead.ai_temperature = "hot"
            first = lead.user_id
        Lead = self.env["crm.lead"]
        with freeze_time(t0 + timedelta(minutes=4, seconds=59)):
            self.assertEqual(Lead._cron_ai_escalate(), 0)
        self.assertEqual(lead.user_id, first)
        self.assertFalse(self.bus_messages(self.manager, HOT_LEAD))
        with freeze_time(t0 + timedelta(minutes=5, seconds=1)):
            self.assertEqual(Lead._cron_ai_escalate(), 1)
        second = lead.user_id
        self.assertNotEqual(second, first)
        self.assertEqual(lead.ai_escalation_count, 1)
        self.assertEqual(lead.ai_route_reason, "escalation")
        self.assertEqual(self.activity(lead).user_id, second, "the activity follows the lead")
        leader_alerts = self.bus_messages(self.manager, HOT_LEAD)
        self.assertEqual(len(leader_alerts), 1)
        self.assertIn(first.name, leader_alerts[0]["message"])
        self.assertIn(second.name, leader_alerts[0]["message"])
        note = lead.message_ids.filtered(lambda m: self.manager.partner_id in m.partner_ids)
        self.assertTrue(note, "the team leader is notified in the chatter too")
        self.assertEqual(len(self.bus_messages(second, HOT_LEAD)), 1)
        # The timer restarts for the new salesperson.
        with freeze_time(t0 + timedelta(minutes=9)):
            self.assertEqual(Lead._cron_ai_escalate(), 0)
        with freeze_time(t0 + timedelta(minutes=10, seconds=2)):
            self.assertEqual(Lead._cron_ai_escalate(), 1)
        third = lead.user_id
        self.assertNotIn(third, first | second)
        with freeze_time(t0 + timedelta(minutes=30)):
            self.assertEqual(Lead._cron_ai_escalate(), 0, "at most two escalations in this team")
            self.reply(lead, "Oi! Desculpe a demora.", user=third)
        self.assertEqual(lead.ai_temperature, "in_service")
        self.assertAlmostEqual(lead.ai_first_response_minutes, 30.0, delta=0.5)
        self.assertFalse(self.activity(lead), "answering closes the activity")
        with freeze_time(t0 + timedelta(hours=2)):
            self.assertEqual(Lead._cron_ai_escalate(), 0)

    def test_reply_puts_lead_in_service(self):
        t0 = fields.Datetime.now().replace(microsecond=0)
        with freeze_time(t0):
            lead = self.wa_inbound("wamid.S1", text="oi", when=t0)
            lead.ai_temperature = "hot"
        seller = lead.user_id
        with freeze_time(t0 + timedelta(minutes=3, seconds=30)):
            self.reply(lead, "Olá, sou eu quem vai te atender.", user=seller)
        self.assertEqual(lead.ai_temperature, "in_service")
        self.assertEqual(lead.ai_service_user_id, seller)
        self.assertAlmostEqual(lead.ai_first_response_minutes, 3.5, delta=0.1)
        self.assertFalse(lead.ai_waiting_since)
        self.assertFalse(lead._ai_can_auto_send(), "automations stop")
        # The customer writes again and the AI may say hot: still with the same person, no new handoff.
        lead._ai_route("hot")
        lead.ai_temperature = "hot"
        self.assertEqual(lead.user_id, seller)
        self.assertEqual(lead.ai_escalation_count, 0)

    # ------------------------------------------------------------------
    # Alerts outside Odoo, high-priority list
    # ------------------------------------------------------------------

    def test_alerts_outside_odoo(self):
        self.salesman_1.with_user(self.salesman_1).write({"ai_alert_method": "telegram", "ai_alert_address": "999001"})
        self.salesman_2.with_user(self.salesman_2).write({"ai_alert_method": "email", "email": "two@loja.example"})
        self.member(self.salesman_2).assignment_optout = True
        self.member(self.salesman_3).assignment_optout = True
        lead = self.new_leads(ai_temperature="hot")
        self.assertEqual(lead.user_id, self.salesman_1)
        alert = self.Message.search([("origin", "=", "alert"), ("alert_user_id", "=", self.salesman_1.id)])
        self.assertEqual(alert.channel_id, self.tg)
        self.assertEqual(alert.recipient_key, "999001")
        self.send_queue()
        self.assertEqual(alert.delivery_state, "sent", alert.error)
        call = self.sent("/bot123:ABC/sendMessage")[0]
        self.assertEqual(call["body"]["chat_id"], "999001")
        self.assertIn("Lead 0", call["body"]["text"])
        self.assertIn(f"/odoo/crm.lead/{lead.id}", call["body"]["text"])
        # E-mail
        self.member(self.salesman_1).assignment_optout = True
        self.member(self.salesman_2).assignment_optout = False
        other = self.new_leads(ai_temperature="hot")
        self.assertEqual(other.user_id, self.salesman_2)
        mail = self.env["mail.mail"].search([("model", "=", "crm.lead"), ("res_id", "=", other.id)])
        self.assertEqual(mail.email_to, "two@loja.example")
        self.assertIn(f"/odoo/crm.lead/{other.id}", str(mail.body_html))

    def test_whatsapp_alerts(self):
        self.member(self.salesman_2).assignment_optout = True
        self.member(self.salesman_3).assignment_optout = True
        self.salesman_1.with_user(self.salesman_1).write(
            {"ai_alert_method": "whatsapp", "ai_alert_address": "+55 11 90000-1111"}
        )
        lead = self.new_leads(ai_temperature="hot")
        self.send_queue()
        call = self.sent("/message/sendText/loja")[0]
        self.assertEqual(call["body"]["number"], "5511900001111")
        self.assertIn(lead.name, call["body"]["text"])
        # Through the WhatsApp Cloud number, outside any 24-hour window: the alert template.
        template = self.env["crm.ai.template"].create(
            {"name": "alerta_lead", "language": "pt_BR", "channel_id": self.wa.id, "body": "{{1}}: {{2}}"}
        )
        self.wa.ai_alert_template_id = template
        self.salesman_1.with_user(self.salesman_1).write(
            {"ai_alert_channel_id": self.wa.id, "ai_alert_address": "5511900001111"}
        )
        other = self.new_leads(ai_temperature="hot")
        self.send_queue()
        alert = self.Message.search([("origin", "=", "alert"), ("lead_id", "=", other.id)])
        self.assertEqual(alert.delivery_state, "sent", alert.error)
        body = self.sent("/1234567890/messages")[-1]["body"]
        self.assertEqual(body["to"], "5511900001111")
        self.assertEqual(body["template"]["name"], "alerta_lead")
        params = body["template"]["components"][0]["parameters"]
        self.assertEqual(params[0]["text"], f"Hot lead: {other.name}")

    def test_hot_leads_to_answer_list(self):
        t0 = fields.Datetime.now().replace(microsecond=0)
        oldest, newest = self.new_leads(2)
        oldest.write(
            {"ai_waiting_since": t0 - timedelta(minutes=40), "ai_last_inbound_date": t0 - timedelta(minutes=40)}
        )
        newest.write({"ai_waiting_since": t0 - timedelta(minutes=2)})
        (oldest | newest).ai_temperature = "hot"
        answered = self.new_leads(ai_temperature="hot")
        answered._ai_mark_in_service(answered.user_id)
        warm = self.new_leads(ai_temperature="warm")
        action = self.env.ref("crm_ai_agent.crm_lead_action_ai_hot_waiting")
        domain = safe_eval(action.domain)
        self.assertEqual(domain, [("ai_temperature", "=", "hot"), ("ai_waiting", "=", True)])
        arch = self.env["crm.lead"].get_view(self.env.ref("crm_ai_agent.crm_lead_view_list_ai_hot_waiting").id)["arch"]
        self.assertIn('default_order="ai_waiting_since asc, id asc"', arch)
        found = self.env["crm.lead"].with_user(self.manager).search(domain, order="ai_waiting_since asc, id asc")
        self.assertEqual(found.filtered(lambda lead: lead in oldest | newest | answered | warm), oldest | newest)
        self.assertEqual(found[:2], oldest | newest)
        self.assertGreaterEqual(oldest.ai_waiting_minutes, 40)


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestReplyTour(OutboundCase):
    def test_salesperson_replies_to_a_hot_lead(self):
        lead = self.wa_inbound("wamid.TOUR2", text="Quero comprar hoje, me responde?", name="Cliente Quente")
        lead.ai_temperature = "hot"
        lead.with_context(crm_ai_no_route=True).user_id = self.salesman_1
        self.start_tour(
            "/odoo/action-crm_ai_agent.crm_lead_action_ai_hot_waiting", "crm_ai_agent_reply", login="crm_ai_sales_1"
        )
        row = self.Message.search([("lead_id", "=", lead.id), ("direction", "=", "out"), ("origin", "=", "manual")])
        self.assertEqual(row.body, "Olá! Posso te ligar agora?")
        self.assertEqual(row.user_id, self.salesman_1)
        self.assertEqual(row.delivery_state, "pending")
        self.send_queue()
        self.assertEqual(row.delivery_state, "sent")
        self.assertEqual(self.sent("/messages")[-1]["body"]["text"]["body"], "Olá! Posso te ligar agora?")
        self.assertEqual(lead.ai_temperature, "in_service")
        self.start_tour(f"/odoo/crm.lead/{lead.id}", "crm_ai_agent_reply_sent", login="crm_ai_sales_1")
