"""Unsubscribe link of campaign and follow-up e-mails: the person behind the address opts out of every channel.

The address goes to Odoo's e-mail blacklist; the contacts, leads and channel identities with that
address are opted out too (``crm.ai.consent._ai_opt_out``), and the opt-out is recorded.
"""

import hmac

from markupsafe import Markup, escape

from odoo import http
from odoo.http import request
from odoo.tools import email_normalize

PAGE = Markup(
    "<!DOCTYPE html><html><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
    "<title>%(title)s</title></head><body style='font-family:sans-serif;max-width:32em;margin:3em auto'>"
    "<h1>%(title)s</h1><p>%(text)s</p>%(form)s</body></html>"
)


class CampaignUnsubscribe(http.Controller):
    @http.route(
        "/crm_ai_campaigns/unsubscribe",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,  # the link carries its own HMAC token; mail clients post one-click unsubscribes (RFC 8058)
        sitemap=False,
    )
    def unsubscribe(self, email="", token="", **kwargs):
        env = request.env
        normalized = email_normalize(email or "")
        expected = env["mail.mail"]._ai_unsubscribe_token(normalized) if normalized else ""
        if not normalized or not hmac.compare_digest(str(token or ""), expected):
            return self._page(env._("Invalid link"), env._("This unsubscribe link is not valid."), status=403)
        if request.httprequest.method == "POST":
            env["crm.ai.consent"].sudo()._ai_unsubscribe_email(normalized)
            return self._page(
                env._("Unsubscribed"),
                env._("%s will receive no more messages from us, by e-mail or on any other channel.", normalized),
            )
        form = Markup(
            "<form method='post'><input type='hidden' name='email' value='%s'/>"
            "<input type='hidden' name='token' value='%s'/><button type='submit'>%s</button></form>"
        ) % (normalized, token, env._("Unsubscribe"))
        return self._page(
            env._("Unsubscribe"),
            env._("Stop sending messages to %s, by e-mail and on every other channel?", normalized),
            form=form,
        )

    def _page(self, title, text, form="", status=200):
        html = PAGE % {"title": escape(title), "text": escape(text), "form": form}
        return request.make_response(str(html), headers=[("Content-Type", "text/html; charset=utf-8")], status=status)
