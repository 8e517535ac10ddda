/* SupportGateway web chat widget. Embed with:
 *   <script src="https://HOST/webchat/widget.js" defer></script>
 * Optional attributes: data-lang="ru|en", data-open="true".
 * Everything a visitor or an agent types is rendered with textContent, never as HTML. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__supportGatewayWidget) return;
  window.__supportGatewayWidget = true;

  var base = new URL(script.src, location.href).href.replace(/\/webchat\/widget\.js(\?.*)?$/, "");
  var lang = (script.dataset.lang || navigator.language || "en").slice(0, 2).toLowerCase() === "ru" ? "ru" : "en";
  var keyPrefix = "sg-webchat:" + base + ":";

  var TEXT = {
    en: {
      launcher: "Help", title: "Support", close: "Close", newRequest: "New request", name: "Your name",
      email: "Email (optional)", description: "Describe the problem", type: "Request type", file: "Screenshot or file",
      submit: "Send request", sending: "Sending…", yours: "Your requests", registered: "Your request number",
      placeholder: "Write a message…", send: "Send", all: "All requests", failed: "Could not send: ",
      you: "You", empty: "No requests yet.", closeRequest: "Close request (no longer needed)",
      solved: "Solved", notSolved: "Not solved",
      tooMany: "Too many requests from you. Please try again in {minutes} min.",
      tooManyOpen: "You already have several open requests. Please continue one of them, or close one you no longer need, before starting another.",
      unavailable: "Support cannot take messages for a moment. Nothing was sent; please try again in {minutes} min.",
      types: { incident: "Incident", mass_incident: "Mass incident", consultation: "Consultation",
        development: "Development request", defect: "Defect", complaint: "Complaint" },
      statuses: { "new": "New", in_progress: "In progress", clarification: "Waiting for your answer",
        resolved: "Resolved", closed: "Closed" }
    },
    ru: {
      launcher: "Помощь", title: "Поддержка", close: "Закрыть", newRequest: "Новое обращение", name: "Ваше имя",
      email: "Email (необязательно)", description: "Опишите проблему", type: "Тип обращения", file: "Скриншот или файл",
      submit: "Отправить обращение", sending: "Отправляем…", yours: "Ваши обращения", registered: "Номер вашего обращения",
      placeholder: "Напишите сообщение…", send: "Отправить", all: "Все обращения", failed: "Не удалось отправить: ",
      you: "Вы", empty: "Обращений пока нет.", closeRequest: "Закрыть обращение (больше не нужно)",
      solved: "Решено", notSolved: "Не решено",
      tooMany: "Слишком много запросов. Попробуйте ещё раз через {minutes} мин.",
      tooManyOpen: "У вас уже несколько открытых обращений. Продолжите одно из них или закройте ненужное, прежде чем создавать новое.",
      unavailable: "Поддержка временно не принимает сообщения. Ничего не отправлено; попробуйте ещё раз через {minutes} мин.",
      types: { incident: "Инцидент", mass_incident: "Массовый инцидент", consultation: "Консультация",
        development: "Запрос на доработку", defect: "Дефект", complaint: "Жалоба" },
      statuses: { "new": "Новое", in_progress: "В работе", clarification: "Ожидает вашего ответа",
        resolved: "Решено", closed: "Закрыто" }
    }
  }[lang];

  var CSS = [
    ":host{all:initial;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2933}",
    "*{box-sizing:border-box}",
    "#sg-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;padding:12px 20px;",
    "background:#2563eb;color:#fff;font:600 15px system-ui,sans-serif;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.2)}",
    "#sg-panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:360px;max-width:calc(100vw - 40px);",
    "height:540px;max-height:calc(100vh - 100px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);",
    "display:flex;flex-direction:column;overflow:hidden}",
    "#sg-panel[hidden]{display:none}",
    "header{background:#2563eb;color:#fff;padding:12px 16px;display:flex;align-items:center;gap:8px}",
    "header h2{font-size:16px;margin:0;flex:1}",
    "header button{background:none;border:0;color:#fff;font-size:18px;cursor:pointer}",
    ".sg-body{flex:1;overflow:auto;padding:12px 16px}",
    "form{display:flex;flex-direction:column;gap:8px}",
    "label{font-size:12px;color:#52606d}",
    "input,select,textarea{width:100%;font:inherit;padding:7px 9px;border:1px solid #cbd2d9;border-radius:6px}",
    "textarea{resize:vertical;min-height:70px}",
    "button.sg-primary{background:#2563eb;color:#fff;border:0;border-radius:6px;padding:9px 14px;font:600 14px inherit;cursor:pointer}",
    "button.sg-link{background:none;border:0;color:#2563eb;cursor:pointer;padding:4px 0;font:inherit;text-align:left}",
    "button:disabled{opacity:.6;cursor:default}",
    ".sg-error{color:#b91c1c;font-size:13px;white-space:pre-wrap}",
    ".sg-number{font:700 20px ui-monospace,monospace;letter-spacing:.5px}",
    ".sg-status{font-size:12px;color:#52606d}",
    ".sg-msgs{display:flex;flex-direction:column;gap:8px;margin:10px 0}",
    ".sg-msg{max-width:85%;padding:8px 10px;border-radius:10px;background:#f1f5f9;white-space:pre-wrap;word-wrap:break-word}",
    ".sg-msg.sg-customer{align-self:flex-end;background:#dbeafe}",
    ".sg-msg.sg-system{align-self:center;background:#fef9c3;font-size:13px}",
    ".sg-verdict{display:flex;gap:8px;margin-top:8px}.sg-verdict[hidden]{display:none}",
    ".sg-author{display:block;font-size:11px;color:#52606d;margin-bottom:2px}",
    ".sg-file{display:block;font-size:12px}",
    ".sg-list li{list-style:none;padding:6px 0;border-bottom:1px solid #e4e7eb}",
    ".sg-list{padding:0;margin:6px 0}",
    ".sg-reply{border-top:1px solid #e4e7eb;padding:10px 16px;display:flex;flex-direction:column;gap:6px}"
  ].join("");

  var state = {
    token: localStorage.getItem(keyPrefix + "token"),
    current: localStorage.getItem(keyPrefix + "current"),
    seen: {},
    stream: null
  };

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === "text") node.textContent = props[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), props[k]);
      else if (props[k] !== undefined && props[k] !== null) node.setAttribute(k, props[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  // 32 random bytes in base64url, as the gateway's own tokens.
  function newToken() {
    var bytes = crypto.getRandomValues(new Uint8Array(32));
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function uuid() {
    return crypto.randomUUID ? crypto.randomUUID() :
      Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
  }

  function api(path, options) {
    options = options || {};
    options.headers = options.headers || {};
    if (state.token) options.headers["X-Visitor-Token"] = state.token;
    return fetch(base + "/webchat/api" + path, options).then(function (response) {
      if (response.ok) return response.status === 204 ? null : response.json();
      return response.json().catch(function () { return {}; }).then(function (problem) {
        // Over an abuse limit, or the storage taking no writes: said in the visitor's language, with the wait the
        // gateway gave (Retry-After, seconds).
        var minutes = Math.max(1, Math.ceil((parseInt(response.headers.get("Retry-After"), 10) || 60) / 60));
        if (response.status === 429)
          throw new Error(problem.limit === "open-requests" ? TEXT.tooManyOpen : TEXT.tooMany.replace("{minutes}", minutes));
        if (response.status === 503)
          throw new Error(TEXT.unavailable.replace("{minutes}", minutes));
        throw new Error(problem.detail || problem.title || ("HTTP " + response.status));
      });
    });
  }

  function setToken(token) {
    if (token && token !== state.token) {
      state.token = token;
      localStorage.setItem(keyPrefix + "token", token);
      connect();
    }
  }

  function setCurrent(number) {
    state.current = number;
    if (number) localStorage.setItem(keyPrefix + "current", number);
    else localStorage.removeItem(keyPrefix + "current");
  }

  // ---- layout ----
  var host = el("div", { id: "supportgateway-webchat" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("style", { text: CSS }));
  var body = el("div", { "class": "sg-body" });
  var footer = el("div");
  var panel = el("section", { id: "sg-panel", hidden: "", role: "dialog", "aria-label": TEXT.title }, [
    el("header", {}, [
      el("h2", { text: TEXT.title }),
      el("button", { id: "sg-close", type: "button", "aria-label": TEXT.close, text: "×", onclick: function () { toggle(false); } })
    ]),
    body, footer
  ]);
  var launcher = el("button", { id: "sg-launcher", type: "button", text: TEXT.launcher, onclick: function () { toggle(panel.hidden); } });
  root.appendChild(panel);
  root.appendChild(launcher);

  function toggle(open) {
    panel.hidden = !open;
    localStorage.setItem(keyPrefix + "open", open ? "1" : "0");
    if (open) (state.current ? showThread(state.current) : showHome());
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function errorLine() { return el("div", { "class": "sg-error", role: "alert" }); }

  // ---- home: new request form and the visitor's requests ----
  function showHome() {
    setCurrent(null);
    clear(body); clear(footer);
    var error = errorLine();
    var typeSelect = el("select", { name: "type" }, Object.keys(TEXT.types).map(function (t) {
      return el("option", { value: t, text: TEXT.types[t] });
    }));
    var submit = el("button", { id: "sg-submit", "class": "sg-primary", type: "submit", text: TEXT.submit });
    var form = el("form", { id: "sg-form" }, [
      el("strong", { text: TEXT.newRequest }),
      el("label", { text: TEXT.name }), el("input", { name: "name", autocomplete: "name" }),
      el("label", { text: TEXT.email }), el("input", { name: "email", type: "email", autocomplete: "email" }),
      el("label", { text: TEXT.description }), el("textarea", { name: "description", required: "", rows: "4" }),
      el("label", { text: TEXT.type }), typeSelect,
      el("label", { text: TEXT.file }), el("input", { name: "files", type: "file", multiple: "" }),
      submit, error
    ]);
    // One id per request, kept until the gateway accepts it: sent again after a failure (the storage went away
    // mid-commit, the network dropped the answer), it gets the ticket already made instead of a second one.
    // An edit makes it a new request.
    // A first visitor's token is made here for the same reason: a retry must be the same visitor to be the same request.
    var clientId = null, firstToken = null;
    form.addEventListener("input", function () { clientId = null; });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      data.append("lang", lang);
      data.append("clientId", clientId = clientId || uuid());
      submit.disabled = true; submit.textContent = TEXT.sending; error.textContent = "";
      var headers = {};
      if (!state.token) headers["X-Visitor-Token"] = firstToken = firstToken || newToken();
      api("/requests", { method: "POST", body: data, headers: headers }).then(function (result) {
        setToken(result.token);
        showThread(result.conversation.ticket.number, result.conversation);
      }).catch(function (e) {
        error.textContent = TEXT.failed + e.message;
        submit.disabled = false; submit.textContent = TEXT.submit;
      });
    });
    body.appendChild(form);
    if (state.token) {
      var list = el("ul", { "class": "sg-list", id: "sg-requests" });
      body.appendChild(el("h3", { text: TEXT.yours }));
      body.appendChild(list);
      api("/requests").then(function (tickets) {
        if (!tickets.length) list.appendChild(el("li", { text: TEXT.empty }));
        tickets.forEach(function (t) {
          list.appendChild(el("li", {}, [
            el("button", { "class": "sg-link", type: "button", text: t.number + " · " + t.subject, onclick: function () { showThread(t.number); } }),
            el("div", { "class": "sg-status", text: TEXT.statuses[t.status] || t.status })
          ]));
        });
      }).catch(function () { });
    }
  }

  // ---- thread: one request's messages and a reply box ----
  var thread = null;

  function showThread(number, conversation) {
    setCurrent(number);
    clear(body); clear(footer);
    state.seen = {};
    var status = el("div", { "class": "sg-status", id: "sg-status" });
    var messages = el("div", { "class": "sg-msgs", id: "sg-messages", "aria-live": "polite" });
    thread = { number: number, messages: messages, status: status };
    body.appendChild(el("div", {}, [
      el("div", { "class": "sg-status", text: TEXT.registered }),
      el("div", { "class": "sg-number", id: "sg-number", text: number }),
      status
    ]));
    body.appendChild(messages);
    body.appendChild(el("button", { id: "sg-all", "class": "sg-link", type: "button", text: "← " + TEXT.all, onclick: showHome }));
    body.appendChild(el("button", { id: "sg-new", "class": "sg-link", type: "button", text: "+ " + TEXT.newRequest, onclick: showHome }));
    var closeRequest = el("button", { id: "sg-close-request", "class": "sg-link", type: "button", text: "✕ " + TEXT.closeRequest, onclick: function () {
      closeRequest.disabled = true;
      api("/requests/" + encodeURIComponent(number) + "/close", { method: "POST" })
        .then(function () { return api("/requests/" + encodeURIComponent(number)); }).then(render)
        .catch(function (e) { closeRequest.disabled = false; error.textContent = TEXT.failed + e.message; });
    } });
    body.appendChild(closeRequest);
    thread.closeRequest = closeRequest;

    var error = errorLine();
    var send = el("button", { id: "sg-send", "class": "sg-primary", type: "submit", text: TEXT.send });
    var reply = el("form", { id: "sg-reply", "class": "sg-reply" }, [
      el("textarea", { name: "text", placeholder: TEXT.placeholder, rows: "2", required: "" }),
      el("input", { name: "files", type: "file", multiple: "" }),
      send, error
    ]);
    var replyId = null;
    reply.addEventListener("input", function () { replyId = null; });
    reply.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(reply);
      data.append("lang", lang);
      data.append("clientId", replyId = replyId || uuid());
      send.disabled = true; error.textContent = "";
      api("/requests/" + encodeURIComponent(number) + "/messages", { method: "POST", body: data }).then(function (result) {
        replyId = null;
        reply.reset();
        render(result);
      }).catch(function (e) { error.textContent = TEXT.failed + e.message; })
        .then(function () { send.disabled = false; });
    });
    footer.appendChild(reply);

    if (conversation) render(conversation);
    else api("/requests/" + encodeURIComponent(number)).then(render).catch(function (e) {
      setCurrent(null);
      error.textContent = e.message;
    });
  }

  function render(conversation) {
    if (!thread || conversation.ticket.number !== thread.number) return;
    thread.status.textContent = TEXT.statuses[conversation.ticket.status] || conversation.ticket.status;
    conversation.messages.forEach(append);
    showStatus(conversation.ticket.status);
  }

  // The latest resolution notice's buttons answer it while the ticket waits for that answer, and only then.
  function showStatus(status) {
    thread.status.textContent = TEXT.statuses[status] || status;
    thread.closeRequest.hidden = status === "closed";
    var verdicts = thread.messages.querySelectorAll(".sg-verdict");
    Array.prototype.forEach.call(verdicts, function (v, i) { v.hidden = status !== "resolved" || i !== verdicts.length - 1; });
  }

  function verdictButtons(m) {
    var box = el("div", { "class": "sg-verdict" });
    [["confirms", TEXT.solved, "sg-solved"], ["rejects", TEXT.notSolved, "sg-not-solved"]].forEach(function (v) {
      box.appendChild(el("button", { "class": "sg-primary " + v[2], type: "button", text: v[1], onclick: function () {
        var data = new FormData();
        data.append("text", v[1]);
        data.append("verdict", v[0]);
        data.append("lang", lang);
        data.append("clientId", uuid());
        box.hidden = true;
        api("/requests/" + encodeURIComponent(thread.number) + "/messages", { method: "POST", body: data }).then(render)
          .catch(function () { box.hidden = false; });
      } }));
    });
    return box;
  }

  function append(m) {
    if (!thread || state.seen[m.id]) return;
    state.seen[m.id] = true;
    var kind = m.authorKind === "customer" ? "sg-customer" : m.authorKind === "system" ? "sg-system" : "sg-agent";
    var node = el("div", { "class": "sg-msg " + kind, "data-id": String(m.id) }, [
      el("span", { "class": "sg-author", text: m.authorKind === "customer" ? TEXT.you : m.authorKind === "system" ? TEXT.title : m.author }),
      el("span", { "class": "sg-text", text: m.text })
    ]);
    (m.attachments || []).forEach(function (a) {
      node.appendChild(el("button", { "class": "sg-link sg-file", type: "button", text: "📎 " + a.fileName, onclick: function () { download(a); } }));
    });
    if (m.technicalDetails && m.technicalDetails["sg.prompt"] === "resolution") node.appendChild(verdictButtons(m));
    thread.messages.appendChild(node);
    node.scrollIntoView({ block: "end" });
  }

  function download(a) {
    fetch(base + "/webchat/api/attachments/" + a.id, { headers: { "X-Visitor-Token": state.token } })
      .then(function (r) { return r.blob(); })
      .then(function (blob) {
        var link = el("a", { href: URL.createObjectURL(blob), download: a.fileName });
        root.appendChild(link); link.click(); link.remove();
      });
  }

  // ---- live updates: server-sent events read with fetch, so the token travels in a header ----
  function connect(delay) {
    if (!state.token || state.stream) return;
    var controller = new AbortController();
    state.stream = controller;
    fetch(base + "/webchat/api/events", { headers: { "X-Visitor-Token": state.token, Accept: "text/event-stream" }, signal: controller.signal })
      .then(function (response) {
        if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        delay = 0;
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) throw new Error("closed");
            buffer += decoder.decode(chunk.value, { stream: true });
            var events = buffer.split("\n\n");
            buffer = events.pop();
            events.forEach(dispatch);
            return pump();
          });
        }
        return pump();
      })
      .catch(function () {
        state.stream = null;
        host.removeAttribute("data-live");
        var next = Math.min(10000, (delay || 500) * 2);
        setTimeout(function () { connect(next); }, next);
      });
  }

  function dispatch(block) {
    var type = "message", data = "";
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) type = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data += line.slice(5).replace(/^ /, "");
    });
    if (type === "ready") host.setAttribute("data-live", "true");
    if (type !== "message" || !data) return;
    var event = JSON.parse(data);
    if (thread && event.ticketNumber === thread.number) {
      append(event.message);
      showStatus(event.status);
    }
  }

  function start() {
    document.body.appendChild(host);
    connect();
    if (script.dataset.open === "true" || localStorage.getItem(keyPrefix + "open") === "1") toggle(true);
  }

  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
