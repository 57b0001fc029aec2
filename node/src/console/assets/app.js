// The console's core: language, the API client (session cookie + CSRF
// header), sign-in, the navigation by role and the hash router. Pages are
// in pages.js (window.PAGES). No innerHTML with data: every text goes
// through textContent, so nothing an account stored can run as script.
"use strict";
(function () {
  const S = { lang: localStorage.getItem("smsgw-lang") || "zh", me: null, csrf: "", cleanup: [] };
  window.S = S;

  function t(k, vars) {
    let s = (I18N[S.lang] && I18N[S.lang][k]) || I18N.zh[k] || k;
    if (vars) for (const [a, b] of Object.entries(vars)) s = s.replace("{" + a + "}", b);
    return s;
  }

  // A value the API gives as a code (a status, a step, a kind), shown in the
  // page's language when known, else as it came.
  function tv(prefix, v) {
    if (v === null || v === undefined) return "";
    const k = prefix + v;
    return (I18N[S.lang] && I18N[S.lang][k]) || v;
  }

  // h("tag", {attrs}, children...): a DOM element; strings become text nodes.
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "testid") el.setAttribute("data-testid", v);
      else if (k === "text") el.textContent = v;
      else if (k === "value") el.value = v;
      else if (k === "checked") el.checked = !!v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of kids.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return el;
  }

  const fmt = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false
  });
  // A time (RFC 3339 text or ms) shown in Beijing time, whatever the browser's zone.
  function when(v) {
    if (v === null || v === undefined || v === "") return "";
    const d = typeof v === "number" ? new Date(v) : new Date(v);
    return isNaN(d) ? String(v) : fmt.format(d);
  }

  class ApiError extends Error {
    constructor(status, code, message, body) { super(message); this.status = status; this.code = code; this.body = body; }
  }

  async function api(method, path, body, opts) {
    const headers = {};
    if (method !== "GET" && method !== "HEAD") headers["x-csrf-token"] = S.csrf;
    let payload;
    if (body !== undefined && body !== null) {
      if (typeof body === "string") { payload = body; headers["content-type"] = (opts && opts.type) || "text/plain"; }
      else { payload = JSON.stringify(body); headers["content-type"] = "application/json"; }
    }
    const r = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
    const ct = r.headers.get("content-type") || "";
    const data = ct.startsWith("application/json") ? await r.json() : await r.text();
    if (!r.ok) {
      const e = (data && data.error) || {};
      if (r.status === 401 && path !== "/console/api/login" && path !== "/console/api/session") { S.me = null; route(); }
      throw new ApiError(r.status, e.code || String(r.status), e.message || String(data), data);
    }
    return data;
  }

  function toast(msg) {
    const el = document.getElementById("toast");
    el.textContent = msg; el.classList.add("show");
    clearTimeout(toast.timer); toast.timer = setTimeout(() => el.classList.remove("show"), 3000);
  }

  const NAV = [
    ["overview", ["admin", "operator", "dispatcher"]],
    ["send", ["admin", "operator", "dispatcher"]],
    ["contacts", ["admin", "operator", "dispatcher"]],
    ["records", ["admin", "operator", "dispatcher"]],
    ["stats", ["admin", "operator", "dispatcher"]],
    ["alarm", ["admin", "dispatcher", "officer"]],
    ["accounts", ["admin"]],
    ["cluster", ["admin"]]
  ];

  function allowed(page) {
    const n = NAV.find(([p]) => p === page);
    return !!(n && S.me && n[1].includes(S.me.role) && window.PAGES[page]);
  }

  function renderNav(current) {
    const nav = document.getElementById("nav");
    nav.replaceChildren();
    if (!S.me) return;
    for (const [p] of NAV) {
      if (!allowed(p)) continue;
      nav.appendChild(h("a", { href: "#/" + p, testid: "nav-" + p, "aria-current": p === current ? "page" : null }, t(p)));
    }
    document.getElementById("who").textContent = S.me.user + " · " + tv("role_", S.me.role) + (S.me.account ? " · " + S.me.account : "");
    document.getElementById("logout").hidden = false;
  }

  function loginPage(main) {
    const user = h("input", { id: "login-user", testid: "login-user", autocomplete: "username" });
    const pass = h("input", { id: "login-password", testid: "login-password", type: "password", autocomplete: "current-password" });
    const key = h("input", { id: "login-key", testid: "login-key", type: "password", autocomplete: "off" });
    const msg = h("p", { class: "error", role: "alert", testid: "login-error" });
    const form = h("form", { class: "card login", onsubmit: async (ev) => {
      ev.preventDefault();
      msg.textContent = "";
      const body = key.value.trim() ? { key: key.value.trim() } : { username: user.value.trim(), password: pass.value };
      try {
        const me = await api("POST", "/console/api/login", body);
        S.me = me; S.csrf = me.csrf;
        location.hash = "#/" + (NAV.find(([p, roles]) => roles.includes(me.role) && window.PAGES[p]) || ["records"])[0];
        route();
      } catch (e) {
        msg.textContent = e.code === "too_many_sign_ins" ? t("too_many") : t("bad_login");
      }
    } },
      h("h1", {}, t("signin")),
      h("label", { for: "login-user" }, t("username")), user,
      h("label", { for: "login-password" }, t("password")), pass,
      h("label", { for: "login-key" }, t("or_key")), key,
      h("p", {}, h("button", { type: "submit", testid: "login-submit" }, t("signin"))),
      msg);
    main.appendChild(form);
    user.focus();
  }

  async function route() {
    for (const f of S.cleanup.splice(0)) { try { f(); } catch (_) { /* already closed */ } }
    const main = document.getElementById("main");
    main.replaceChildren();
    document.getElementById("lang").textContent = S.lang === "zh" ? "English" : "中文";
    document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
    document.getElementById("logout").textContent = t("signout");
    if (!S.me) {
      renderNav(null);
      document.getElementById("who").textContent = "";
      document.getElementById("logout").hidden = true;
      loginPage(main);
      return;
    }
    let page = (location.hash.match(/^#\/(\w+)/) || [])[1] || "overview";
    if (!allowed(page)) page = (NAV.find(([p]) => allowed(p)) || ["records"])[0];
    renderNav(page);
    document.title = t(page) + " · smsgw";
    main.appendChild(h("h1", {}, t(page)));
    try {
      await window.PAGES[page](main);
    } catch (e) {
      main.appendChild(h("p", { class: "error", role: "alert" }, t("error") + ": " + e.message));
    }
  }

  async function start() {
    document.getElementById("lang").addEventListener("click", () => {
      S.lang = S.lang === "zh" ? "en" : "zh";
      localStorage.setItem("smsgw-lang", S.lang);
      route();
    });
    document.getElementById("logout").addEventListener("click", async () => {
      try { await api("POST", "/console/api/logout"); } catch (_) { /* the cookie is cleared anyway */ }
      S.me = null; S.csrf = ""; location.hash = "";
      route();
    });
    window.addEventListener("hashchange", route);
    try {
      const me = await api("GET", "/console/api/session");
      if (me.user) { S.me = me; S.csrf = me.csrf; }
    } catch (_) { S.me = null; }
    route();
  }

  window.APP = { t, tv, h, api, when, toast, route, ApiError };
  window.PAGES = window.PAGES || {};
  document.addEventListener("DOMContentLoaded", start);
})();
