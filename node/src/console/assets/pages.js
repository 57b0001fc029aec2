// The console's pages, one function each: overview, send, contacts
// (its groups and templates in book.js), records, stats, accounts, cluster. Each reads and writes through the
// node's JSON API only (APP.api), so it sees exactly what its account may.
"use strict";
(function () {
  const { t, tv, h, api, when, toast } = window.APP;
  const P = window.PAGES;
  const enc = encodeURIComponent;

  function table(cols, rows, attrs) {
    return h("table", attrs || {},
      h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows));
  }
  function field(id, label, input) { input.id = id; return h("div", {}, h("label", { for: id }, label), input); }
  function errorBox() { return h("p", { class: "error", role: "alert" }); }
  function show(box, e) { box.textContent = e ? (e.code ? e.code + ": " : "") + e.message : ""; }

  // ---------- overview ----------
  P.overview = async function (main) {
    const nodes = h("tbody", { testid: "overview-nodes" });
    const carriers = h("tbody", { testid: "overview-carriers" });
    const leader = h("div", { class: "big", testid: "overview-leader" }, "…");
    const queue = h("div", { testid: "overview-queue" });
    const updated = h("p", { class: "muted", testid: "overview-updated" });
    const today = h("div", { testid: "overview-today" }, t("loading"));
    main.append(h("div", { class: "cards" },
      h("div", { class: "card" }, h("h2", {}, t("leader")), leader),
      h("div", { class: "card" }, h("h2", {}, t("queue")), queue),
      h("div", { class: "card" }, h("h2", {}, t("today")), today)),
      h("h2", {}, t("nodes")),
      h("table", {}, h("thead", {}, h("tr", {}, [t("node_id"), t("raft_addr"), t("http_addr"), t("leader"), t("lag")].map((c) => h("th", {}, c)))), nodes),
      h("h2", {}, t("carriers")),
      h("table", {}, h("thead", {}, h("tr", {}, [t("carrier"), t("protocol"), t("sessions"), t("tps_actual"), t("tps_limit"), t("window")].map((c) => h("th", {}, c)))), carriers),
      updated);
    function draw(s) {
      leader.textContent = s.leader === null ? "—" : "#" + s.leader + "  (" + t("term") + " " + s.term + ")";
      nodes.replaceChildren(...s.nodes.map((n) => h("tr", {}, h("td", {}, String(n.id)), h("td", {}, n.raft), h("td", {}, n.http || ""),
        h("td", {}, n.leader ? "★" : ""), h("td", {}, n.lag === null ? "—" : String(n.lag)))));
      carriers.replaceChildren(...s.carriers.map((c) => h("tr", {}, h("td", {}, c.name), h("td", {}, c.protocol),
        h("td", {}, c.sessions + "/" + c.connections),
        h("td", { testid: "carrier-tps-" + c.name, "data-tps": c.tps === null || c.tps === undefined ? "" : String(c.tps) },
          c.tps === null || c.tps === undefined ? "—" : String(c.tps)),
        h("td", {}, String(c.tps_limit)), h("td", {}, String(c.window)))));
      const q = s.queue, old = s.oldest_ms;
      // Depth, then how long the oldest waiting message has waited.
      const age = (k) => (!old ? "—" : old[k] === null ? "0" : (old[k] / 1000).toFixed(1)) + " " + t("seconds");
      queue.replaceChildren(h("table", { testid: "overview-classes" },
        h("thead", {}, h("tr", {}, ["", t("waiting"), t("oldest")].map((c) => h("th", {}, c)))),
        h("tbody", {}, ["alarm", "high", "normal", "bulk"].map((k) => h("tr", {},
          h("td", {}, t(k === "alarm" ? "alarm_p" : k)), h("td", {}, String(q[k])),
          h("td", { testid: "oldest-" + k, "data-ms": !old || old[k] === null ? "" : String(old[k]) }, age(k)))))),
        h("div", { class: "muted" }, t("in_flight") + " " + (s.in_flight === null ? "—" : s.in_flight)));
      updated.textContent = t("updated") + " " + when(s.at);
    }
    draw(await api("GET", "/console/api/overview"));
    const es = new EventSource("/console/api/overview/events");
    es.addEventListener("overview", (ev) => { try { const s = JSON.parse(ev.data); if (!s.error) draw(s); } catch (_) { /* next one */ } });
    S.cleanup.push(() => es.close());
    if (S.me.account) {
      try {
        const st = await api("GET", "/v1/stats?period=day&from=" + todayDate() + "&until=" + todayDate());
        const r = st.rows[0] || {};
        const n = (k) => (r[k] ? r[k].messages : 0);
        today.textContent = t("sent_n") + " " + n("sent") + " · " + t("delivered") + " " + n("delivered") + " · " + t("failed") + " " + n("failed");
      } catch (e) { today.textContent = e.message; }
    } else today.textContent = t("no_account");
  };

  function todayDate() {
    return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
  }

  // ---------- send ----------
  // GSM 7-bit basic set; anything else means UCS-2.
  const GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  function segments(text) {
    const chars = Array.from(text);
    const gsm = chars.every((c) => GSM.includes(c));
    const n = chars.length;
    if (gsm) return { encoding: "GSM 7-bit", parts: n <= 160 ? 1 : Math.ceil(n / 153) };
    return { encoding: "UCS-2", parts: n <= 70 ? 1 : Math.ceil(n / 67) };
  }

  P.send = async function (main) {
    const err = errorBox();
    const to = h("input", { testid: "send-to", placeholder: "13800138000, 13900139000", size: 40 });
    const text = h("textarea", { testid: "send-text", rows: 4 });
    const tplSel = h("select", { testid: "send-template" }, h("option", { value: "" }, t("none")));
    const vars = h("div", {});
    const at = h("input", { type: "datetime-local", testid: "send-at" });
    const preview = h("p", { class: "muted", testid: "send-preview" });
    const result = h("div", { testid: "send-result", role: "status" });
    const q = h("input", { type: "search", testid: "send-search" });
    const found = h("div", { class: "list", testid: "send-contacts" });
    const groups = h("div", { class: "list", testid: "send-groups" });
    const picked = new Map(); // contact id -> name
    const groupPick = new Map(); // group name -> {all, excluded:Set}
    let templates = [];
    let account = null;
    try { account = await api("GET", "/v1/account"); } catch (_) { /* price unknown */ }

    async function search() {
      const r = await api("GET", "/v1/contacts?limit=50" + (q.value.trim() ? "&q=" + enc(q.value.trim()) : ""));
      found.replaceChildren(...r.items.map((c) => h("label", {},
        h("input", { type: "checkbox", checked: picked.has(c.id), onchange: (ev) => { if (ev.target.checked) picked.set(c.id, c.name); else picked.delete(c.id); } }),
        c.name + " " + (c.phones || []).join(" ") + (c.unit ? " · " + c.unit : ""))));
    }
    q.addEventListener("input", () => { clearTimeout(q.timer); q.timer = setTimeout(() => search().catch((e) => show(err, e)), 250); });

    const gl = await api("GET", "/v1/groups?limit=200");
    for (const g of gl.items) {
      const box = h("input", { type: "checkbox", testid: "send-group-" + g.name });
      const mem = h("div", { class: "muted" });
      box.addEventListener("change", async () => {
        if (!box.checked) { groupPick.delete(g.name); mem.replaceChildren(); return; }
        const sel = { excluded: new Set() };
        groupPick.set(g.name, sel);
        const m = await api("GET", "/v1/groups/" + enc(g.id) + "/members");
        mem.replaceChildren(...m.items.map((c) => h("label", { style: "margin-left:20px" },
          h("input", { type: "checkbox", checked: true, onchange: (ev) => { if (ev.target.checked) sel.excluded.delete(c.id); else sel.excluded.add(c.id); } }),
          c.name + " " + (c.phones || [])[0])));
        updatePreview();
      });
      groups.append(h("label", {}, box, g.name + (g.description ? " · " + g.description : "")), mem);
    }
    try { templates = (await api("GET", "/v1/templates?limit=200")).items; } catch (_) { templates = []; }
    for (const tp of templates) tplSel.append(h("option", { value: tp.name }, tp.name));
    tplSel.addEventListener("change", () => {
      const tp = templates.find((x) => x.name === tplSel.value);
      vars.replaceChildren();
      if (tp) {
        text.value = tp.text; text.disabled = true;
        for (const v of tp.variables.filter((v) => !["name", "unit", "title"].includes(v))) {
          vars.append(field("var-" + v, v, h("input", { "data-var": v, testid: "send-var-" + v, oninput: updatePreview })));
        }
      } else { text.disabled = false; }
      updatePreview();
    });

    function filled() {
      let s = text.value;
      for (const i of vars.querySelectorAll("input[data-var]")) s = s.split("{" + i.dataset.var + "}").join(i.value);
      return s;
    }
    function updatePreview() {
      const s = filled();
      if (!s) { preview.textContent = ""; return; }
      const seg = segments(s);
      const price = account && account.price_fen;
      preview.textContent = t("encoding") + ": " + seg.encoding + " · " + t("segments") + ": " + seg.parts +
        (price ? " · " + t("cost") + ": ¥" + (seg.parts * price / 100).toFixed(2) + " / " + t("number") : "") + " · \u201c" + s + "\u201d";
    }
    text.addEventListener("input", updatePreview);

    async function submit(ev) {
      ev.preventDefault();
      show(err, null); result.replaceChildren();
      const numbers = to.value.split(/[,，\s]+/).map((x) => x.trim()).filter(Boolean);
      const body = {};
      if (numbers.length) body.to = numbers;
      if (picked.size) body.to_contacts = [...picked.keys()];
      if (groupPick.size) {
        body.to_groups = [...groupPick.keys()];
        const ex = [...groupPick.values()].flatMap((g) => [...g.excluded]);
        if (ex.length) body.exclude_contacts = ex;
      }
      if (tplSel.value) {
        body.template = tplSel.value;
        const v = {};
        for (const i of vars.querySelectorAll("input[data-var]")) v[i.dataset.var] = i.value;
        if (Object.keys(v).length) body.vars = v;
      } else body.text = text.value;
      if (at.value) body.send_at = at.value + (at.value.length === 16 ? ":00" : "") + "+08:00";
      try {
        const r = await api("POST", "/v1/messages", body);
        if (r.job) {
          const prog = h("div", { testid: "send-progress" });
          result.append(h("p", { class: "ok" }, t("sent") + " · " + t("job") + " #" + r.job + " (" + r.recipients + ")"), prog);
          pollJob(r.job, prog);
        } else {
          result.append(h("p", { class: "ok" }, t("sent")),
            h("ul", {}, r.messages.map((m) => h("li", {}, m.id + " → " + m.to + " (" + tv("ms_", m.status || "") + ")"))));
        }
      } catch (e) { show(err, e); }
    }
    function pollJob(id, box) {
      let n = 0;
      const tick = async () => {
        try {
          const j = await api("GET", "/v1/jobs/" + id);
          box.textContent = t("progress") + ": " + tv("js_", j.status) + " · " + j.accepted + "/" + j.recipients + " · " +
            Object.entries(j.by_status || {}).map(([k, v]) => tv("ms_", k) + " " + v).join(" · ");
          if (++n < 120 && !["CANCELLED"].includes(j.status) && (j.in_progress > 0 || j.accepted < j.recipients)) timer = setTimeout(tick, 1000);
        } catch (e) { box.textContent = e.message; }
      };
      let timer = setTimeout(tick, 200);
      S.cleanup.push(() => clearTimeout(timer));
    }

    main.append(h("form", { onsubmit: submit },
      h("div", { class: "cols" },
        h("div", { class: "card" },
          field("send-search", t("search") + " · " + t("contacts"), q), found,
          h("h2", {}, t("groups")), groups),
        h("div", { class: "card" },
          field("send-to", t("numbers"), to),
          field("send-template", t("template"), tplSel), vars,
          field("send-text", t("text"), text),
          field("send-at", t("send_at"), at),
          h("h2", {}, t("preview")), preview,
          h("p", {}, h("button", { type: "submit", testid: "send-submit" }, t("submit_send"))),
          err, result))));
    await search();
  };

  // ---------- contacts ----------
  P.contacts = async function (main) {
    const err = errorBox();
    const q = h("input", { type: "search", testid: "contacts-search" });
    const rows = h("tbody", { testid: "contacts-table" });
    async function load() {
      const r = await api("GET", "/v1/contacts?limit=100" + (q.value.trim() ? "&q=" + enc(q.value.trim()) : ""));
      rows.replaceChildren(...r.items.map((c) => h("tr", {}, h("td", {}, String(c.id)), h("td", {}, c.name),
        h("td", {}, (c.phones || []).join(", ")), h("td", {}, c.unit || ""), h("td", {}, c.title || ""), h("td", {}, (c.tags || []).join(", ")))));
      if (!r.items.length) rows.append(h("tr", {}, h("td", { colspan: "6", class: "muted" }, t("empty"))));
    }
    q.addEventListener("input", () => { clearTimeout(q.timer); q.timer = setTimeout(() => load().catch((e) => show(err, e)), 250); });
    const name = h("input", { testid: "contact-name" }), phone = h("input", { testid: "contact-phone" }), unit = h("input", { testid: "contact-unit" });
    const add = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault(); show(err, null);
      try {
        await api("POST", "/v1/contacts", { name: name.value.trim(), phones: [phone.value.trim()], unit: unit.value.trim() || undefined });
        name.value = phone.value = unit.value = ""; toast(t("add") + " ✓"); await load();
      } catch (e) { show(err, e); }
    } }, field("c-name", t("name"), name), field("c-phone", t("phones"), phone), field("c-unit", t("unit"), unit),
    h("button", { type: "submit", testid: "contact-add" }, t("add")));
    const file = h("input", { type: "file", accept: ".csv,text/csv", testid: "import-file" });
    const report = h("div", { testid: "import-report" });
    const imp = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault(); show(err, null); report.replaceChildren();
      const f = file.files[0];
      if (!f) return;
      try {
        const r = await fetch("/v1/contacts/import", { method: "POST", credentials: "same-origin",
          headers: { "content-type": "text/csv", "x-csrf-token": S.csrf }, body: await f.arrayBuffer() });
        const d = await r.json();
        if (!r.ok) throw new window.APP.ApiError(r.status, d.error.code, d.error.message);
        report.append(h("p", { class: "ok" }, t("import_done") + ": " + t("created") + " " + d.created + ", " + t("updated_n") + " " + d.updated),
          h("ul", {}, (d.errors || []).map((x) => h("li", { class: "error" }, t("line") + " " + x.line + ": " + (x.message || JSON.stringify(x))))));
        await load();
      } catch (e) { show(err, e); }
    } }, field("import-file", t("import_csv"), file), h("button", { type: "submit", testid: "import-submit" }, t("import_csv")));
    main.append(err, h("div", { class: "card" }, add), h("div", { class: "card" }, imp, report),
      field("contacts-search", t("search"), q),
      h("table", {}, h("thead", {}, h("tr", {}, ["#", t("name"), t("phones"), t("unit"), t("title"), t("tags")].map((c) => h("th", {}, c)))), rows));
    await load();
    // Groups and templates, with their editors (book.js).
    await window.BOOK.groups(main);
    await window.BOOK.templates(main);
  };

  // ---------- records ----------
  P.records = async function (main) {
    const err = errorBox();
    const dir = h("select", { testid: "records-direction" }, h("option", { value: "mt" }, t("mt")), h("option", { value: "mo" }, t("mo")));
    const num = h("input", { testid: "records-number", size: 14 });
    const status = h("select", { testid: "records-status" }, ["", "QUEUED", "SUBMITTED", "DELIVERED", "FAILED", "EXPIRED"].map((s) => h("option", { value: s }, s ? tv("ms_", s) : "—")));
    const from = h("input", { type: "date", testid: "records-from" }), until = h("input", { type: "date", testid: "records-until" });
    const text = h("input", { type: "search", testid: "records-q" });
    const body = h("tbody", {});
    const tbl = h("table", { testid: "records-table" });
    const detail = h("div", { class: "card", testid: "records-detail", hidden: true });
    const exp = h("a", { testid: "records-export", href: "#" }, t("export_csv"));
    function query() {
      const p = new URLSearchParams({ direction: dir.value, limit: "100" });
      if (num.value.trim()) p.set("number", num.value.trim());
      if (status.value && dir.value === "mt") p.set("status", status.value);
      if (from.value) p.set("from", from.value);
      if (until.value) p.set("until", until.value);
      if (text.value.trim()) p.set("q", text.value.trim());
      return p;
    }
    async function load() {
      show(err, null);
      const p = query();
      const csv = new URLSearchParams(p); csv.set("format", "csv"); csv.delete("limit");
      exp.href = "/v1/records?" + csv.toString();
      const r = await api("GET", "/v1/records?" + p.toString());
      const mt = dir.value === "mt";
      tbl.replaceChildren(h("thead", {}, h("tr", {}, (mt ? [t("node_id"), t("number"), t("name"), t("text"), t("status"), t("accepted_at")] :
        ["#", t("number"), t("name"), t("text"), t("carriers"), t("accepted_at")]).map((c) => h("th", {}, c)))), body);
      body.replaceChildren(...r.items.map((m) => mt
        ? h("tr", { tabindex: "0", "data-id": m.id, onclick: () => timeline(m.id), onkeydown: (ev) => { if (ev.key === "Enter") timeline(m.id); } },
          h("td", {}, m.id), h("td", {}, m.to), h("td", {}, m.contact ? m.contact.name : ""), h("td", {}, m.text || ""),
          h("td", { class: "status-" + m.status, "data-testid": "record-status", "data-status": m.status }, tv("ms_", m.status)), h("td", {}, when(m.accepted_at)))
        : h("tr", {}, h("td", {}, String(m.seq)), h("td", {}, m.from), h("td", {}, m.contact ? m.contact.name : ""), h("td", {}, m.text || ""),
          h("td", {}, m.carrier), h("td", {}, when(m.received_at)))));
      if (!r.items.length) body.append(h("tr", {}, h("td", { colspan: "6", class: "muted" }, t("empty"))));
    }
    async function timeline(id) {
      detail.hidden = false;
      detail.replaceChildren(h("p", {}, t("loading")));
      try {
        const m = await api("GET", "/v1/messages/" + enc(id));
        detail.replaceChildren(h("h2", {}, t("timeline") + " · " + m.id + " → " + m.to),
          h("p", {}, t("status") + ": ", h("span", { class: "status-" + m.status, "data-status": m.status }, tv("ms_", m.status)), " · " + m.route + " · " + m.encoding),
          h("ol", { class: "timeline" },
            h("li", {}, t("accepted") + " " + when(m.accepted_at_ms)),
            m.parts.flatMap((p) => [
              p.submitted_at_ms ? h("li", {}, p.id + " " + t("submitted") + " " + when(p.submitted_at_ms) + " (" + (p.carrier_msg_id || "") + ")") : null,
              p.reported_at_ms ? h("li", {}, p.id + " " + t("report") + " " + p.report + " " + when(p.reported_at_ms)) : null])));
      } catch (e) { detail.replaceChildren(h("p", { class: "error" }, e.message)); }
    }
    const form = h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); load().catch((e) => show(err, e)); } },
      field("r-dir", t("direction"), dir), field("r-num", t("number"), num), field("r-status", t("status"), status),
      field("r-from", t("from"), from), field("r-until", t("until"), until), field("r-q", t("search"), text),
      h("button", { type: "submit", testid: "records-filter" }, t("filter")), exp);
    main.append(h("div", { class: "card" }, form), err, h("div", { class: "card" }, tbl), detail);
    await load();
  };

  // ---------- stats ----------
  P.stats = async function (main) {
    const err = errorBox();
    const period = h("select", { testid: "stats-period" }, ["day", "week", "month"].map((p) => h("option", { value: p }, t(p))));
    const by = h("select", { testid: "stats-by" }, h("option", { value: "" }, t("total")), ["carrier", "status", "group"].map((b) => h("option", { value: b }, t(b))));
    const chart = h("div", { class: "chart", testid: "stats-chart", role: "img", "aria-label": t("stats") });
    const rows = h("div", {});
    let plot = null;
    async function load() {
      show(err, null);
      const span = { day: 13, week: 83, month: 365 }[period.value];
      const until = todayDate();
      const fromD = new Date(Date.parse(until + "T00:00:00+08:00") - span * 86400000);
      const from = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(fromD);
      const r = await api("GET", "/v1/stats?period=" + period.value + "&from=" + from + "&until=" + until + (by.value ? "&by=" + by.value : ""));
      const periods = [...new Set(r.rows.map((x) => x.period))].sort();
      let series;
      if (!by.value) {
        series = ["sent", "delivered", "failed"].map((c) => ({ label: t(c === "sent" ? "sent_n" : c), values: periods.map((p) => { const x = r.rows.find((y) => y.period === p); return x && x[c] ? x[c].messages : 0; }) }));
      } else {
        const keys = [...new Set(r.rows.map((x) => x.key))];
        const col = by.value === "status" ? "count" : "sent";
        series = keys.map((k) => ({ label: k || "—", values: periods.map((p) => { const x = r.rows.find((y) => y.period === p && y.key === k); return x && x[col] ? x[col].messages : 0; }) }));
      }
      const colors = ["#2f5a8f", "#067647", "#b42318", "#f0a030", "#7a5af8", "#0e9384", "#c11574"];
      if (plot) { plot.destroy(); plot = null; }
      chart.replaceChildren();
      chart.dataset.points = String(periods.length);
      chart.dataset.total = String(series.reduce((a, s) => a + s.values.reduce((x, y) => x + y, 0), 0));
      const xs = periods.map((_, i) => i);
      const width = Math.max(280, Math.min(1200, main.clientWidth - 40));
      plot = new uPlot({
        width, height: 300,
        scales: { x: { time: false } },
        axes: [{ values: (_, ticks) => ticks.map((i) => periods[i] || "") }, {}],
        series: [{ label: t("period") }, ...series.map((s, i) => ({ label: s.label, stroke: colors[i % colors.length], width: 2, points: { show: true } }))]
      }, [xs, ...series.map((s) => s.values)], chart);
      rows.replaceChildren(table([t("period"), ...series.map((s) => s.label)],
        periods.map((p, i) => h("tr", {}, h("td", {}, p), series.map((s) => h("td", {}, String(s.values[i])))))));
    }
    period.addEventListener("change", () => load().catch((e) => show(err, e)));
    by.addEventListener("change", () => load().catch((e) => show(err, e)));
    main.append(h("div", { class: "row" }, field("s-period", t("period"), period), field("s-by", t("by"), by)), err, chart, rows);
    S.cleanup.push(() => { if (plot) plot.destroy(); });
    await load();
  };

  // ---------- accounts (admin) ----------
  P.accounts = async function (main) {
    const err = errorBox();
    const name = h("input", { testid: "account-name", value: S.me.account || "" });
    const info = h("div", { testid: "account-info" });
    const parts = h("input", { type: "number", min: "1", testid: "topup-parts" }), ref = h("input", { testid: "topup-ref" });
    async function load() {
      show(err, null); info.replaceChildren();
      const n = name.value.trim();
      if (!n) return;
      const a = await api("GET", "/v1/admin/accounts/" + enc(n));
      info.append(table([t("account"), t("status"), t("balance"), t("price_fen"), t("freezes_at")],
        [h("tr", {}, h("td", {}, a.name), h("td", {}, a.status || "—"), h("td", {}, String(a.balance === undefined ? "—" : a.balance)),
          h("td", {}, String(a.price_fen || "—")), h("td", {}, when(a.freezes_at)))]));
      const month = todayDate().slice(0, 7);
      info.append(h("p", {}, h("a", { href: "/v1/accounts/" + enc(n) + "/statement?format=csv&month=" + month, testid: "account-statement" },
        t("statement") + " " + month + " (CSV)")));
      try {
        const l = await api("GET", "/v1/accounts/" + enc(n) + "/ledger?limit=20");
        const items = l.items || l.lines || [];
        info.append(h("h2", {}, t("ledger")), table(["#", t("ledger_kind"), t("parts"), t("balance"), t("reference"), t("at")],
          items.map((x) => h("tr", {}, h("td", {}, String(x.seq)), h("td", {}, x.kind), h("td", {}, String(x.parts)),
            h("td", {}, String(x.balance)), h("td", {}, x.reference || x.ref || ""), h("td", {}, when(x.at))))));
      } catch (_) { /* not prepaid */ }
    }
    const look = h("form", { class: "row", onsubmit: (ev) => { ev.preventDefault(); load().catch((e) => show(err, e)); } },
      field("a-name", t("account"), name), h("button", { type: "submit", testid: "account-show" }, t("show")));
    const top = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault(); show(err, null);
      try {
        await api("POST", "/v1/admin/accounts/" + enc(name.value.trim()) + "/topups", { parts: Number(parts.value), ref: ref.value.trim() });
        toast(t("topup") + " ✓"); await load();
      } catch (e) { show(err, e); }
    } }, field("a-parts", t("parts"), parts), field("a-ref", t("reference"), ref), h("button", { type: "submit", testid: "topup-submit" }, t("topup")));
    const review = h("tbody", { testid: "review-table" });
    async function loadReview() {
      const r = await api("GET", "/v1/admin/review?limit=50");
      const items = r.items || r.jobs || [];
      review.replaceChildren(...items.map((j) => h("tr", {}, h("td", {}, String(j.job || j.id)), h("td", {}, j.account || ""),
        h("td", {}, j.sample || j.text || ""),
        h("td", {}, h("button", { type: "button", onclick: () => decide(j.job || j.id, "approve") }, t("approve")), " ",
          h("button", { type: "button", class: "secondary", onclick: () => decide(j.job || j.id, "reject") }, t("reject"))))));
      if (!items.length) review.append(h("tr", {}, h("td", { colspan: "4", class: "muted" }, t("empty"))));
    }
    async function decide(job, decision) {
      try { await api("POST", "/v1/admin/review/" + enc(job), { decision }); await loadReview(); } catch (e) { show(err, e); }
    }
    const users = h("tbody", { testid: "users-table" });
    async function loadUsers() {
      const r = await api("GET", "/v1/admin/users?limit=200");
      users.replaceChildren(...r.users.map((u) => h("tr", {}, h("td", {}, u.username), h("td", {}, tv("role_", u.role)), h("td", {}, u.account || "—"), h("td", {}, when(u.changed_at)))));
    }
    const un = h("input", { testid: "user-name" }), up = h("input", { type: "password", testid: "user-password", autocomplete: "new-password" });
    const ur = h("select", { testid: "user-role" }, ["dispatcher", "operator", "officer", "admin"].map((r) => h("option", { value: r }, tv("role_", r))));
    const ua = h("input", { testid: "user-account" });
    const uadd = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault(); show(err, null);
      try {
        await api("POST", "/v1/admin/users", { username: un.value.trim(), password: up.value, role: ur.value, account: ua.value.trim() || undefined });
        un.value = up.value = ""; await loadUsers();
      } catch (e) { show(err, e); }
    } }, field("u-name", t("username"), un), field("u-pass", t("password"), up), field("u-role", t("role"), ur), field("u-acc", t("account"), ua),
    h("button", { type: "submit", testid: "user-add" }, t("add")));
    const optouts = h("tbody", { testid: "optouts-table" });
    async function loadOptouts() {
      if (!S.me.account) return;
      const r = await api("GET", "/v1/optouts?limit=100");
      const items = r.items || r.optouts || [];
      optouts.replaceChildren(...items.map((o) => h("tr", {}, h("td", {}, o.number || String(o)), h("td", {}, when(o.at || o.since)))));
      if (!items.length) optouts.append(h("tr", {}, h("td", { colspan: "2", class: "muted" }, t("empty"))));
    }
    main.append(err, h("div", { class: "card" }, look, info, top),
      h("h2", {}, t("optouts") + (S.me.account ? " · " + S.me.account : "")),
      h("table", {}, h("thead", {}, h("tr", {}, [t("number"), t("updated")].map((c) => h("th", {}, c)))), optouts),
      h("h2", {}, t("review")), h("table", {}, h("thead", {}, h("tr", {}, [t("job"), t("account"), t("text"), ""].map((c) => h("th", {}, c)))), review),
      h("h2", {}, t("users")), h("div", { class: "card" }, uadd),
      h("table", {}, h("thead", {}, h("tr", {}, [t("username"), t("role"), t("account"), t("updated")].map((c) => h("th", {}, c)))), users));
    await Promise.all([load().catch((e) => show(err, e)), loadReview().catch((e) => show(err, e)),
      loadUsers().catch((e) => show(err, e)), loadOptouts().catch((e) => show(err, e))]);
  };

  // ---------- cluster (admin) ----------
  P.cluster = async function (main) {
    const err = errorBox();
    const members = h("tbody", { testid: "cluster-members" });
    const gutter = h("div", { class: "gutter", "aria-hidden": "true" });
    const doc = h("textarea", { testid: "cluster-doc", spellcheck: "false", "aria-label": t("document") });
    const status = h("p", { testid: "cluster-error", role: "alert" });
    function lines(bad) {
      const n = doc.value.split("\n").length;
      gutter.replaceChildren(...Array.from({ length: n }, (_, i) => h("div", { class: i + 1 === bad ? "bad" : null, "data-line": String(i + 1) }, String(i + 1))));
      doc.rows = n + 1;
    }
    doc.addEventListener("input", () => lines(0));
    async function loadMembers() {
      const s = await api("GET", "/console/api/overview");
      members.replaceChildren(...s.nodes.map((n) => h("tr", {}, h("td", {}, String(n.id)), h("td", {}, tv("kind_", n.kind)), h("td", {}, n.raft),
        h("td", {}, n.leader ? t("leader") : ""), h("td", {}, n.lag === null ? "—" : String(n.lag)),
        h("td", {}, n.leader || n.kind !== "voter" ? "" : h("button", { type: "button", class: "secondary", testid: "transfer-" + n.id, onclick: async () => {
          try { const r = await api("POST", "/console/api/cluster/transfer", { to: n.id }); toast(r.done); await loadMembers(); } catch (e) { show(err, e); }
        } }, t("transfer"))))));
    }
    async function loadDoc() {
      doc.value = await api("GET", "/console/api/cluster/document");
      lines(0); status.textContent = ""; status.className = "";
    }
    const apply = h("button", { type: "button", testid: "cluster-apply", onclick: async () => {
      status.textContent = ""; status.className = "";
      try {
        const r = await api("POST", "/console/api/cluster/document", doc.value, { type: "text/plain" });
        status.className = "ok"; status.textContent = t("applied") + " " + r.version; lines(0);
      } catch (e) {
        const line = e.body && e.body.error && e.body.error.line;
        status.className = "error";
        status.dataset.line = String(line || 0);
        status.textContent = (line ? t("doc_error", { n: line }) + " — " : "") + e.message;
        lines(line || 0);
        const bad = gutter.querySelector(".bad");
        if (bad) bad.scrollIntoView({ block: "center" });
      }
    } }, t("apply"));
    main.append(err, h("h2", {}, t("members_roles")),
      h("table", {}, h("thead", {}, h("tr", {}, [t("node_id"), t("role"), t("raft_addr"), t("leader"), t("lag"), ""].map((c) => h("th", {}, c)))), members),
      h("h2", {}, t("document")), h("div", { class: "doc" }, gutter, doc),
      h("p", { class: "row" }, apply, h("button", { type: "button", class: "secondary", onclick: () => loadDoc().catch((e) => show(err, e)) }, t("load"))), status);
    await loadMembers(); await loadDoc();
  };
})();
