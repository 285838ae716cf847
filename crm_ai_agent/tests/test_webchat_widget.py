"""The embeddable web chat widget, on a page of another site than Odoo's.

A small HTTP server started by the test plays the customer's website: its pages
hold nothing but the channel's snippet, on an origin (another port) that only
the channel's allowed origins let in. Chromium then loads them for real, so CORS,
the Shadow DOM and the cookie-less requests of the widget are the browser's.
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import odoo
from odoo.tests import tagged
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME

from .common_outbound import WEBHOOK_LOGGER, OutboundCase

XSS = "<img src=x onerror=alert(1)>"
TEXT = "Quero um orçamento de 10 cadeiras"

# Runs in the page of the other site; every failure is a thrown Error, reported by console.error.
SEND_JS = r"""
(async () => {
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const waitFor = async (check, what) => {
        for (let i = 0; i < 300; i++) {
            const value = check();
            if (value) return value;
            await sleep(100);
        }
        throw new Error(`timeout waiting for ${what}`);
    };
    const expect = (ok, what) => { if (!ok) throw new Error(what); };
    const root = document.querySelector("[data-crm-ai-webchat]").shadowRoot;
    const q = (selector) => root.querySelector(selector);
    const launcher = q(".launcher");
    const panel = q(".panel");
    const input = q("textarea");

    expect(q("h2").textContent === "Loja Exemplo", `title from the config endpoint: ${q("h2").textContent}`);
    expect(q("ol").textContent.includes("Bem-vindo à loja!"), "welcome text from the config endpoint");
    expect(getComputedStyle(launcher).backgroundColor === "rgb(10, 125, 90)", "colour from the config endpoint");
    expect(launcher.getAttribute("aria-label") === "Abrir o chat", "pt-BR label on the launcher");
    expect(panel.hidden && launcher.getAttribute("aria-expanded") === "false", "starts closed");

    launcher.click();
    expect(!panel.hidden && launcher.getAttribute("aria-expanded") === "true", "the launcher opens the panel");
    expect(root.activeElement === input, "the text box has the focus once open");

    // The first POST reaches Odoo but its answer is lost: the widget must send it again, same message_id.
    const realFetch = window.fetch;
    let posts = 0;
    window.fetch = function (url, options) {
        const answer = realFetch.apply(this, arguments);
        if (options && options.method === "POST" && ++posts === 1) {
            return answer.then(() => { throw new TypeError("network lost"); });
        }
        return answer;
    };

    q(".more").click();
    expect(!q(".details").hidden && q(".more").getAttribute("aria-expanded") === "true", "the details form opens");
    q("input[name=name]").value = __NAME__;
    q("input[name=email]").value = "visitante@example.com";
    q("input[name=phone]").value = "+55 11 91234-5678";
    input.value = __TEXT__;
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(input.value === "", "Enter sends and clears the text box");

    const item = await waitFor(() => q("li[data-state=sent]"), "the message to be stored");
    expect(posts === 2, `sent again once after the lost answer (${posts} POST)`);
    expect(item.querySelector(".body").textContent === __TEXT__, "the text as typed");
    expect(item.querySelector(".who").textContent === __NAME__, "the name shown as text");
    expect(!root.querySelector("img") && !document.querySelector("img"), "no img element was created");

    const stored = JSON.parse(localStorage.getItem(`crm_ai_webchat:${__KEY__}`));
    expect(/^[\w-]{8,64}$/.test(stored.visitor) && stored.token, "visitor id and token kept in localStorage");
    document.title = stored.visitor;

    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(panel.hidden, "Esc closes the panel");
    expect(root.activeElement === launcher, "the focus goes back to the launcher");
    console.log("test successful");
})().catch((error) => console.error(`widget test: ${error.message}`));
"""


# A returning visitor, closed panel: the salesperson's reply arrives by polling, as an unread badge.
REPLY_JS = r"""
(async () => {
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const expect = (ok, what) => { if (!ok) throw new Error(what); };
    const root = document.querySelector("[data-crm-ai-webchat]").shadowRoot;
    const q = (selector) => root.querySelector(selector);
    const launcher = q(".launcher");
    expect(q("li.in .body").textContent === "Oi, quero um orçamento", "the visitor's earlier message is kept");
    for (let i = 0; i < 100 && q(".badge").hidden; i++) await sleep(100);
    expect(!q(".badge").hidden && q(".badge").textContent === "1", "an unread badge while the panel is closed");
    expect(launcher.getAttribute("aria-label") === "Abrir o chat (1 mensagem nova)", "the badge is read out");
    launcher.click();
    expect(q(".badge").hidden, "opening reads the reply");
    const reply = q("li.out:last-child");
    expect(reply.querySelector(".body").textContent === "Claro! Qual modelo?", "the reply text");
    expect(reply.querySelector(".who").textContent === __AUTHOR__, "the salesperson's name shown as text");
    expect(!root.querySelector("img") && !document.querySelector("img"), "no img element was created");
    console.log("test successful");
})().catch((error) => console.error(`widget test: ${error.message}`));
"""


class SitePage(BaseHTTPRequestHandler):
    """The customer's website: a page per path, each holding the channel's snippet."""

    def do_GET(self):
        pages = self.server.pages
        body = pages.get(self.path.split("?")[0], pages["/"]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test log quiet
        pass


def start_site(page):
    server = ThreadingHTTPServer(("127.0.0.1", 0), SitePage)
    server.pages = {"/": page}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def site_page(snippet, head=""):
    return (
        "<!doctype html><html lang='pt-BR'><head><meta charset='utf-8'><title>Loja</title>"
        # an alert() would mean that a name ran as HTML
        f"<script>window.alert = () => console.error('XSS: alert() was called');{head}</script>"
        f"</head><body><h1>Loja Exemplo</h1>{snippet}</body></html>"
    )


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestWebchatWidget(OutboundCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The widget's texts come translated from the server: Brazilian Portuguese must be installed.
        cls.env["res.lang"]._activate_lang("pt_BR")
        cls.key = cls.web.webchat_public_key
        cls.snippet = cls.web.webchat_snippet.replace(" async", ' data-lang="pt-BR" async')
        cls.site, cls.site_origin = start_site(site_page(cls.snippet))
        cls.addClassCleanup(cls.site.server_close)
        cls.addClassCleanup(cls.site.shutdown)
        cls.web.write(
            {
                "webchat_allowed_origins": f"https://www.loja.example\n{cls.site_origin}",
                "webchat_title": "Loja Exemplo",
                "webchat_welcome": "Bem-vindo à loja!",
                "webchat_color": "#0a7d5a",
            }
        )

    def check_test_cursor(self, operation):
        # The widget calls Odoo from another origin without cookies (fetch with credentials "omit"), so
        # its requests cannot carry the test-cursor cookie that browser_js otherwise makes mandatory.
        req = odoo.http.request
        if (
            req
            and odoo.modules.module.current_test is self
            and self.http_request_key
            and req.httprequest.path.startswith("/crm_ai_agent/webchat/")
            and not req.httprequest.cookies.get(TEST_CURSOR_COOKIE_NAME)
        ):
            return
        super().check_test_cursor(operation)

    def config_url(self, key=None):
        return f"/crm_ai_agent/webchat/{key or self.key}/config"

    def widget_state(self, value):
        """Ready code: the widget has decided whether it shows on this page."""
        return f"!!window.__crmAiWebchat && window.__crmAiWebchat[{json.dumps(self.key)}] === {json.dumps(value)}"

    # ------------------------------------------------------------------
    def test_widget_script_is_served(self):
        self.assertIn(
            f'{self.base_url()}/crm_ai_agent/webchat/widget.js" data-key="{self.key}"', self.web.webchat_snippet
        )
        res = self.url_open("/crm_ai_agent/webchat/widget.js")
        self.assertEqual(res.status_code, 200)
        self.assertEqual(res.headers["Content-Type"], "text/javascript; charset=utf-8")
        self.assertEqual(res.headers["Cache-Control"], "public, max-age=3600")
        self.assertEqual(res.headers["X-Content-Type-Options"], "nosniff")
        self.assertLess(len(res.content), 15 * 1024, "the widget stays small")
        source = res.content.decode()
        self.assertIn("attachShadow", source)
        self.assertNotIn("innerHTML", source, "data is only ever rendered with textContent")
        self.assertNotIn("import ", source, "self-contained, no module loading")
        cached = self.url_open("/crm_ai_agent/webchat/widget.js", headers={"If-None-Match": res.headers["ETag"]})
        self.assertEqual(cached.status_code, 304, "browsers revalidate with the ETag")

    def test_config_honours_allowed_origins(self):
        res = self.url_open(self.config_url(), headers={"Origin": "https://www.loja.example"})
        self.assertEqual(res.status_code, 200, res.text)
        self.assertEqual(res.headers.get("Access-Control-Allow-Origin"), "https://www.loja.example")
        config = res.json()
        self.assertEqual(
            {k: config[k] for k in ("ok", "title", "welcome", "color")},
            {"ok": True, "title": "Loja Exemplo", "welcome": "Bem-vindo à loja!", "color": "#0a7d5a"},
        )
        with self.assertLogs(WEBHOOK_LOGGER, "WARNING"):
            res = self.url_open(self.config_url(), headers={"Origin": "https://evil.example"})
        self.assertEqual(res.status_code, 403)
        self.assertNotIn("Access-Control-Allow-Origin", res.headers)
        self.assertEqual(self.url_open(self.config_url("no-such-key")).status_code, 404)
        self.web.webchat_color = "red;background:url(https://evil.example/x)"
        self.assertEqual(self.url_open(self.config_url()).json()["color"], "#714B67", "only #rgb colours get out")

    def test_config_texts_in_the_visitors_language(self):
        self.company.partner_id.lang = "en_US"
        url = self.config_url()
        portuguese = self.url_open(url, headers={"Accept-Language": "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7"})
        self.assertEqual(portuguese.status_code, 200, portuguese.text)
        self.assertIn("Accept-Language", portuguese.headers["Vary"], "caches keep one answer per language")
        config = portuguese.json()
        self.assertEqual(config["lang"], "pt_BR")
        labels = config["labels"]
        self.assertEqual(labels["open"], "Abrir o chat")
        self.assertEqual(labels["placeholder"], "Escreva sua mensagem…")
        self.assertEqual(labels["badPhone"], "Confira o telefone.")
        self.assertEqual(labels["newN"], "mensagens novas")

        # The widget knows every text the server sends, and the server sends every text the widget shows.
        source = self.url_open("/crm_ai_agent/webchat/widget.js").text
        defaults = re.search(r"const T = \{(.*?)\};", source, re.S).group(1)
        self.assertEqual(set(re.findall(r"(\w+): \"", defaults)), set(labels))

        for headers in ({"Accept-Language": "en-US,en;q=0.9"}, {"Accept-Language": "es-AR,es;q=0.9"}, {}):
            english = self.url_open(url, headers=headers).json()
            self.assertEqual(english["lang"], "en_US", headers)
            self.assertEqual(english["labels"]["open"], "Open chat", headers)
            self.assertEqual(english["labels"]["placeholder"], "Type your message…", headers)

        # The site's data-lang wins over the browser; the company's language is the last resort.
        chosen = self.url_open(f"{url}?lang=en", headers={"Accept-Language": "pt-BR"}).json()
        self.assertEqual(chosen["labels"]["open"], "Open chat")
        self.company.partner_id.lang = "pt_BR"
        fallback = self.url_open(url, headers={"Accept-Language": "es-AR,es;q=0.9"}).json()
        self.assertEqual(fallback["labels"]["open"], "Abrir o chat")

    def test_preflights(self):
        """What a browser asks before the widget's POST (JSON) and its polling (X-Visitor-Token)."""
        for path, method, headers in (
            (self.config_url(), "GET", ""),
            (f"/crm_ai_agent/webchat/{self.key}/messages", "POST", "content-type"),
            (f"/crm_ai_agent/webchat/{self.key}/messages", "GET", "x-visitor-token"),
        ):
            res = self.opener.options(
                self.base_url() + path,
                headers={
                    "Origin": self.site_origin,
                    "Access-Control-Request-Method": method,
                    "Access-Control-Request-Headers": headers,
                },
                timeout=12,
            )
            self.assertEqual(res.status_code, 204, f"{method} {path}")
            self.assertEqual(res.headers.get("Access-Control-Allow-Origin"), self.site_origin)
            self.assertIn(method, res.headers["Access-Control-Allow-Methods"])
            self.assertIn("X-Visitor-Token", res.headers["Access-Control-Allow-Headers"])

    def test_visitor_sends_from_another_site(self):
        code = SEND_JS.replace("__NAME__", json.dumps(XSS))
        code = code.replace("__TEXT__", json.dumps(TEXT)).replace("__KEY__", json.dumps(self.key))
        self.browser_js(f"{self.site_origin}/produtos?ref=campanha", code, ready=self.widget_state("shown"), timeout=60)

        inbound = self.messages(self.web).filtered(lambda m: m.direction == "in")
        self.assertEqual(len(inbound), 1, "the retried message is stored once")
        self.assertEqual(inbound.body, TEXT)
        self.assertEqual(inbound.sender_name, XSS, "stored as typed; only its rendering is escaped")
        sent = inbound.payload["raw"]
        self.assertEqual(sent["page_url"], f"{self.site_origin}/produtos", "the page, without its query string")
        self.assertEqual(sent["language"], "pt-BR")
        self.assertEqual((sent["email"], sent["phone"]), ("visitante@example.com", "+55 11 91234-5678"))
        self.assertEqual(inbound.sender_key, sent["visitor_id"])
        self.process()  # the inbox cron, crm.ai.message._cron_process_inbox()
        self.assertEqual(inbound.state, "processed", inbound.error)
        self.assertTrue(inbound.lead_id, "the visitor's first contact became a lead")
        self.assertEqual(inbound.lead_id.email_from, "visitante@example.com")
        self.assertEqual(inbound.partner_id.name, XSS)

    def test_reply_reaches_the_widget(self):
        visitor = "visitor-returning-01"
        answer = self.url_open(
            f"/crm_ai_agent/webchat/{self.key}/messages",
            data=json.dumps(
                {
                    "visitor_id": visitor,
                    "message_id": "5c0e7a52-3f7d-4c55-9a3e-0f1b2c3d4e5f",
                    "text": "Oi, quero um orçamento",
                }
            ),
            headers={"Content-Type": "application/json", "Origin": self.site_origin},
        ).json()
        self.process()
        lead = self.messages(self.web).lead_id
        lead.user_id = self.salesman_1
        self.salesman_1.name = XSS
        reply = self.reply(lead, "Claro! Qual modelo?")
        self.send_queue()
        self.assertEqual(reply.delivery_state, "sent")
        # The visitor comes back: its browser still holds the conversation, the visitor id and the token.
        stored = {
            "visitor": visitor,
            "token": answer["visitor_token"],
            "last": 0,
            "msgs": [
                {
                    "id": "5c0e7a52-3f7d-4c55-9a3e-0f1b2c3d4e5f",
                    "dir": "in",
                    "text": "Oi, quero um orçamento",
                    "state": "sent",
                }
            ],
            "profile": {},
            "unread": 0,
        }
        seed = f"localStorage.setItem({json.dumps('crm_ai_webchat:' + self.key)}, {json.dumps(json.dumps(stored))});"
        self.site.pages["/contato"] = site_page(self.snippet, head=seed)
        self.addCleanup(self.site.pages.pop, "/contato")
        code = REPLY_JS.replace("__AUTHOR__", json.dumps(XSS))
        self.browser_js(f"{self.site_origin}/contato", code, ready=self.widget_state("shown"), timeout=60)
        self.env.invalidate_all()
        self.assertEqual(reply.delivery_state, "delivered", "the widget fetched it")

    def test_widget_stays_hidden_on_other_sites(self):
        other, origin = start_site(site_page(self.snippet))
        self.addCleanup(other.server_close)
        self.addCleanup(other.shutdown)
        code = r"""
        if (document.querySelector("[data-crm-ai-webchat]")) console.error("widget shown on a site not allowed");
        else console.log("test successful");
        """
        with self.assertLogs(WEBHOOK_LOGGER, "WARNING") as logs:
            self.browser_js(f"{origin}/", code, ready=self.widget_state("hidden"), timeout=30)
        self.assertIn("origin not allowed", "\n".join(logs.output))
        self.assertFalse(self.messages(self.web))

    def test_english_for_other_browser_languages(self):
        """Without data-lang the browser's languages (Accept-Language) decide: English for this one."""
        spanish = "Object.defineProperty(navigator, 'language', {get: () => 'es-AR'});"
        self.site.pages["/es"] = site_page(self.web.webchat_snippet, head=spanish)  # the snippet as given
        self.addCleanup(self.site.pages.pop, "/es")
        code = r"""
        const root = document.querySelector("[data-crm-ai-webchat]").shadowRoot;
        const english = (
            root.querySelector(".launcher").getAttribute("aria-label") === "Open chat"
            && root.querySelector("textarea").placeholder === "Type your message…"
        );
        if (english) console.log("test successful");
        else console.error("a Spanish browser should get the English strings");
        """
        self.browser_js(f"{self.site_origin}/es", code, ready=self.widget_state("shown"), timeout=30)
