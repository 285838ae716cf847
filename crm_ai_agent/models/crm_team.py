from odoo import fields, models

ROUTING_STRATEGIES = [
    ("round_robin", "Round robin (fewest open hot leads first)"),
    ("capacity", "Assignment rules and capacity"),
    ("default_user", "Channel's default salesperson"),
]


class CrmTeam(models.Model):
    _inherit = "crm.team"

    ai_routing_strategy = fields.Selection(
        ROUTING_STRATEGIES,
        string="Handoff Strategy",
        default="round_robin",
        required=True,
        help="Who gets a lead that needs a person (hot, asked for a person, or the AI says so).\n"
        "Round robin: the member with the fewest open hot leads, the least recently served first.\n"
        "Assignment rules and capacity: the member with the most room left in their 30-day capacity "
        "(Average Leads Capacity).\n"
        "Channel's default salesperson: always the salesperson set on the channel (on duty), "
        "falling back to the team when they are not.\n"
        "Every strategy skips members who opted out of auto assignment or whose assignment domain "
        "does not match the lead.",
    )
    ai_route_on_duty = fields.Boolean(
        string="Only Salespeople on Duty",
        default=True,
        help="Skip members outside their working hours or on leave (their working time in Employees / "
        "Working Schedules). Members without a working schedule are always on duty.",
    )
    ai_route_language = fields.Boolean(
        string="Match Language",
        default=True,
        help="Prefer members who speak the customer's language (their language, or the languages set on "
        "the team member).",
    )
    ai_response_minutes = fields.Integer(
        string="Speed to Lead (minutes)",
        default=5,
        help="A hot lead not answered within this many minutes is handed to the next available salesperson "
        "and the team leader is alerted. 0 disables escalation.",
    )
    ai_max_escalations = fields.Integer(
        string="Max Escalations",
        default=3,
        help="How many times an unanswered hot lead is handed on before it stays with the last salesperson.",
    )


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    ai_lang_ids = fields.Many2many(
        "res.lang",
        string="Languages Spoken",
        help="Languages this salesperson answers in. Empty: the language of their user.",
    )
    ai_last_assigned_date = fields.Datetime(string="Last Handoff", readonly=True)

    def _ai_speaks(self, lang_code):
        self.ensure_one()
        if not lang_code:
            return True
        codes = set(self.with_context(active_test=False).ai_lang_ids.mapped("code")) or {self.user_id.lang or ""}
        prefix = lang_code.split("_")[0]
        return lang_code in codes or any(code.split("_")[0] == prefix for code in codes if code)
