/* CRM AI Agent web chat widget: ES2017, no dependency, Shadow DOM; data only ever goes through textContent. */
(() => {
  "use strict";
  const PATH = "/crm_ai_agent/webchat/widget.js";
  const script = document.currentScript || document.querySelector(`script[src*="${PATH}"][data-key]`);
  const key = script && script.getAttribute("data-key");
  if (!key || !/^[\w-]{1,64}$/.test(key) || script.src.indexOf(PATH) < 0) return;
  const seen = (window.__crmAiWebchat = window.__crmAiWebchat || {});
  if (seen[key]) return;
  seen[key] = "loading"; // then "shown", or "hidden" on a site the channel does not allow
  const api = `${script.src.slice(0, script.src.indexOf(PATH))}/crm_ai_agent/webchat/${key}`;
  const HTTP = /^https?:$/;

  // English until the config sends the texts in the site's data-lang or else the browser's language
  const siteLang = script.getAttribute("data-lang") || "";
  const lang = siteLang || navigator.language || "";
  const T = {
    open: "Open chat", close: "Close chat", title: "Chat with us", welcome: "Hi! How can we help?",
    log: "Messages", input: "Your message", placeholder: "Type your message…", send: "Send",
    details: "Your contact details (optional)", name: "Name", email: "E-mail", phone: "Phone", you: "You",
    sending: "Sending…", sent: "Sent", failed: "Could not be sent", badEmail: "Please check the e-mail.",
    badPhone: "Please check the phone number.", new1: "new message", newN: "new messages",
  };

  // State of this channel's conversation, in localStorage when allowed
  const STORE = `crm_ai_webchat:${key}`;
  const load = () => { try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (e) { return {}; } };
  const state = Object.assign({ visitor: "", token: "", last: 0, msgs: [], profile: {}, unread: 0 }, load());
  const save = () => {
    state.msgs = state.msgs.slice(-100);
    try { localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* blocked: memory only */ }
  };
  const uuid = () => {
    const c = window.crypto;
    if (c.randomUUID) return c.randomUUID();
    const b = c.getRandomValues(new Uint8Array(16)); // randomUUID needs HTTPS
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const h = Array.from(b, (x) => (x + 256).toString(16).slice(1)).join("");
    return h.replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
  };
  if (!/^[\w-]{8,64}$/.test(state.visitor)) {
    Object.assign(state, { visitor: uuid(), token: "", last: 0, msgs: [], unread: 0 });
    save();
  }
  let open = false;

  // DOM
  const el = (tag, attrs, ...kids) => {
    const n = document.createElement(tag);
    Object.keys(attrs).forEach((k) => (k === "text" ? (n.textContent = attrs[k]) : n.setAttribute(k, attrs[k])));
    kids.forEach((c) => n.appendChild(c));
    return n;
  };
  const CSS = `:host{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;--c:#714B67;
font:14px/1.4 system-ui,sans-serif;color:#1f2328}*{box-sizing:border-box}[hidden]{display:none!important}
button{font:inherit;cursor:pointer;border:0}
.launcher{width:56px;height:56px;border-radius:50%;background:var(--c);color:#fff;position:relative;
box-shadow:0 4px 14px #0005;display:flex;align-items:center;justify-content:center}
svg{width:28px;fill:currentColor}.badge{position:absolute;top:-4px;right:-4px;min-width:20px;padding:0 6px;
border-radius:10px;background:#d92d20;color:#fff;font-size:12px;line-height:20px}
.panel{position:absolute;right:0;bottom:70px;width:350px;max-width:calc(100vw - 40px);height:500px;
max-height:calc(100vh - 110px);background:#fff;border-radius:12px;box-shadow:0 8px 30px #0005;display:flex;
flex-direction:column;overflow:hidden}header{background:var(--c);color:#fff;padding:12px 14px;display:flex}
h2{font-size:16px;margin:0;flex:1}.x{background:none;color:inherit;font-size:24px;line-height:1}
ol{flex:1;overflow-y:auto;margin:0;padding:12px;list-style:none;display:flex;flex-direction:column;gap:8px;
background:#f5f6f8}li{max-width:85%;padding:8px 10px;border-radius:10px;white-space:pre-wrap;
overflow-wrap:anywhere}.in{align-self:flex-end;background:var(--c);color:#fff}
.out{align-self:flex-start;background:#fff;border:1px solid #dfe1e5}li a{color:inherit;display:block}
.who,.st{display:block;font-size:11px;opacity:.85}.st{text-align:right}
[data-state=failed]{background:#fde8e7;color:#7a271a}.more{background:none;border-top:1px solid #dfe1e5;
text-align:left;padding:8px 12px;text-decoration:underline}
.details{padding:0 12px 8px;display:grid;gap:6px}label{font-size:12px;display:grid}
input,textarea{font:inherit;border:1px solid #b9bdc3;border-radius:6px;padding:6px 8px;width:100%}
p{font-size:12px;color:#b42318;margin:0 12px}
form.c{display:flex;gap:6px;padding:8px;border-top:1px solid #dfe1e5}textarea{resize:none;height:42px}
.send{background:var(--c);color:#fff;border-radius:6px;padding:0 14px}`;

  const host = el("div", { "data-crm-ai-webchat": "" });
  const root = host.attachShadow({ mode: "open" });
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.appendChild(document.createElementNS(svg.namespaceURI, "path"));
  svg.firstChild.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z");
  const badge = el("span", { class: "badge", "aria-hidden": "true", hidden: "" });
  const launcher = el("button", { type: "button", class: "launcher", "aria-controls": "panel" }, svg, badge);
  const title = el("h2", { id: "title", text: T.title });
  const closer = el("button", { type: "button", class: "x", "aria-label": T.close, text: "×" });
  const log = el("ol", { role: "log", "aria-live": "polite", "aria-label": T.log, tabindex: "0" });
  const welcome = log.appendChild(el("li", { class: "out", text: T.welcome }));
  const more = el("button", { type: "button", class: "more", "aria-controls": "details", "aria-expanded": "false" });
  more.textContent = T.details;
  const inputs = {};
  const field = (name, type, maxlength) => {
    const i = (inputs[name] = el("input", { name, type, autocomplete: type === "text" ? name : type, maxlength }));
    i.value = state.profile[name] || "";
    return el("label", {}, document.createTextNode(T[name]), i);
  };
  const details = el("form", { id: "details", class: "details", hidden: "", novalidate: "" },
    field("name", "text", 128), field("email", "email", 254), field("phone", "tel", 32));
  const error = el("p", { role: "alert" });
  const input = el("textarea", { rows: "1", maxlength: "4000", placeholder: T.placeholder, "aria-label": T.input });
  const sendBtn = el("button", { type: "submit", class: "send", text: T.send });
  const compose = el("form", { class: "c" }, input, sendBtn);
  const panel = el("div", { id: "panel", class: "panel", role: "dialog", "aria-labelledby": "title", hidden: "" },
    el("header", {}, title, closer), log, more, details, error, compose);
  [el("style", { text: CSS }), panel, launcher].forEach((n) => root.appendChild(n));

  // Rendering
  const items = new Map();
  const safeUrl = (url) => {
    try {
      const u = new URL(String(url), api);
      return HTTP.test(u.protocol) ? u.href : "";
    } catch (e) {
      return "";
    }
  };
  const show = (m) => {
    const mine = m.dir === "in";
    let li = items.get(m.id);
    if (!li) {
      li = el("li", { class: mine ? "in" : "out" });
      li.appendChild(el("span", { class: "who", text: m.author || (mine ? T.you : title.textContent) }));
      li.appendChild(el("span", { class: "body", text: m.text }));
      (m.files || []).forEach((f) => {
        const href = safeUrl(f.url);
        if (href) li.appendChild(el("a", { href, target: "_blank", rel: "noopener", text: String(f.name || href) }));
      });
      if (mine) li.appendChild(el("span", { class: "st" }));
      items.set(m.id, log.appendChild(li));
      log.scrollTop = log.scrollHeight;
    }
    if (mine) {
      li.setAttribute("data-state", m.state);
      li.lastChild.textContent = T[m.state] || "";
    }
  };
  const refresh = () => {
    const n = open ? 0 : state.unread;
    badge.hidden = !n;
    badge.textContent = n > 9 ? "9+" : String(n);
    launcher.setAttribute("aria-expanded", open);
    const news = n ? ` (${n} ${n === 1 ? T.new1 : T.newN})` : "";
    launcher.setAttribute("aria-label", open ? T.close : T.open + news);
  };
  const applyConfig = (cfg) => {
    const labels = Object(cfg.labels);
    Object.keys(T).forEach((k) => labels[k] && typeof labels[k] === "string" && (T[k] = labels[k]));
    closer.setAttribute("aria-label", T.close);
    log.setAttribute("aria-label", T.log);
    input.setAttribute("aria-label", T.input);
    input.placeholder = T.placeholder;
    more.textContent = T.details;
    sendBtn.textContent = T.send;
    Object.keys(inputs).forEach((k) => (inputs[k].previousSibling.textContent = T[k]));
    title.textContent = cfg.title || T.title;
    welcome.textContent = cfg.welcome || T.welcome;
    if (/^#(?:[0-9a-fA-F]{3}){1,2}$/.test(cfg.color || "")) host.style.setProperty("--c", cfg.color);
  };

  // Network: cross-origin, without cookies
  const call = (url, opts) =>
    window.fetch(url, Object.assign({ mode: "cors", credentials: "omit", cache: "no-store" }, opts));

  let flushing = false;
  let retryTimer = 0;
  let retryDelay = 1000;
  const post = async (m) => {
    const body = Object.assign({ visitor_id: state.visitor, message_id: m.id, text: m.text }, m.p);
    if (HTTP.test(location.protocol)) body.page_url = (location.origin + location.pathname).slice(0, 2048);
    if (/^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$/.test(lang)) body.language = lang;
    const headers = { "Content-Type": "application/json" };
    const r = await call(`${api}/messages`, { method: "POST", headers, body: JSON.stringify(body) }).catch(() => 0);
    if (!r || r.status >= 500 || r.status === 429) return "retry"; // with the same message_id
    if (!r.ok) return "failed";
    const data = await r.json().catch(() => ({}));
    if (data.visitor_token) state.token = data.visitor_token;
    return "sent";
  };
  const flush = async () => {
    if (flushing) return;
    flushing = true;
    clearTimeout(retryTimer);
    try {
      for (const m of state.msgs) {
        if (m.dir !== "in" || m.state !== "sending") continue;
        const result = await post(m);
        if (result === "retry") {
          retryTimer = setTimeout(flush, retryDelay);
          retryDelay = Math.min(retryDelay * 2, 30000);
          return;
        }
        m.state = result;
        delete m.p; // no copy of the contact details kept per message
        save();
        show(m);
        poll(1500);
      }
      retryDelay = 1000;
    } finally {
      flushing = false;
    }
  };

  // Replies: every 4 s while open, 20 s while closed (unread badge), 60 s in a hidden tab
  let pollTimer = 0;
  let polling = false;
  const poll = (delay) => {
    clearTimeout(pollTimer);
    if (delay === undefined) delay = document.hidden ? 60000 : open ? 4000 : 20000;
    if (state.token) pollTimer = setTimeout(fetchReplies, delay);
  };
  const fetchReplies = async () => {
    if (polling || !state.token) return;
    polling = true;
    let next;
    try {
      const q = `visitor_id=${encodeURIComponent(state.visitor)}&after=${state.last}`;
      const r = await call(`${api}/messages?${q}`, { headers: { "X-Visitor-Token": state.token } });
      if (r.status === 403) state.token = ""; // secret changed: the next message brings a new token
      else if (r.ok) receive(await r.json());
      else next = 60000;
    } catch (e) {
      next = 15000;
    } finally {
      polling = false;
      save();
      poll(next);
    }
  };
  const receive = (data) => {
    let added = 0;
    (Array.isArray(data.messages) ? data.messages : []).forEach((x) => {
      const id = Number(x && x.id) || 0;
      state.last = Math.max(state.last, id);
      if (!id || x.direction === "in" || items.has(`r${id}`)) return; // the visitor's own are on screen
      const files = (Array.isArray(x.attachments) ? x.attachments : []).map((a) => ({ name: a.name, url: a.url }));
      const m = { id: `r${id}`, dir: "out", text: String(x.text || ""), author: String(x.author || ""), files };
      state.msgs.push(m);
      show(m);
      added++;
    });
    state.last = Math.max(state.last, Number(data.last_id) || 0);
    if (!open) state.unread += added;
    refresh();
  };

  // Behaviour
  const toggleDetails = (on) => {
    details.hidden = !on;
    more.setAttribute("aria-expanded", on);
  };
  const profile = () => {
    const p = {};
    Object.keys(inputs).forEach((f) => {
      const v = inputs[f].value.replace(/\s+/g, " ").trim();
      if (v) p[f] = v;
      inputs[f].removeAttribute("aria-invalid");
    });
    const bad = (p.email && !/^[^\s@.]+(\.[^\s@.]+)*@([^\s@.]+\.)+[^\s@.]{2,}$/.test(p.email) && "email") ||
      (p.phone && !/^\+?[0-9 ().-]{6,32}$/.test(p.phone) && "phone");
    error.textContent = bad ? (bad === "email" ? T.badEmail : T.badPhone) : "";
    if (!bad) return p;
    toggleDetails(true);
    inputs[bad].setAttribute("aria-invalid", "true");
    inputs[bad].focus();
  };
  const send = () => {
    const text = input.value.trim();
    const p = text && profile();
    if (!p) return;
    const m = { id: uuid(), dir: "in", text: text.slice(0, 4000), author: p.name, state: "sending", p };
    state.profile = p;
    state.msgs.push(m);
    save();
    show(m);
    refresh();
    input.value = "";
    toggleDetails(false);
    input.focus();
    flush();
  };
  const setOpen = (value) => {
    open = value;
    panel.hidden = !open;
    if (open) {
      state.unread = 0;
      save();
      log.scrollTop = log.scrollHeight;
      input.focus();
    } else launcher.focus();
    poll(open ? 0 : undefined);
    refresh();
  };
  launcher.addEventListener("click", () => setOpen(!open));
  closer.addEventListener("click", () => setOpen(false));
  more.addEventListener("click", () => toggleDetails(details.hidden));
  compose.addEventListener("submit", (ev) => ev.preventDefault() || send());
  input.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" || ev.shiftKey || ev.isComposing) return;
    ev.preventDefault();
    send();
  });
  root.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape" || !open) return;
    ev.stopPropagation();
    setOpen(false);
  });
  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", () => poll(document.hidden ? undefined : 500));

  // Shown once the server has answered this site (a site not allowed gets no CORS headers, so an error),
  // or offline with the look cached by an earlier visit
  (async () => {
    try {
      const r = await call(siteLang ? `${api}/config?lang=${encodeURIComponent(siteLang)}` : `${api}/config`);
      if (r.ok) state.cfg = await r.json();
    } catch (e) { /* offline, or not allowed here */ }
    if (!state.cfg) return (seen[key] = "hidden");
    save();
    if (!document.body) await new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve));
    document.body.appendChild(host);
    applyConfig(state.cfg);
    state.msgs.forEach(show);
    refresh();
    flush();
    poll(1000);
    seen[key] = "shown";
  })();
})();
