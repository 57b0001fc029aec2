// The 110 alarm desk page: the live case queue in triage order (server-sent
// events; a new case flashes and beeps), a case's detail and timeline with
// accept / transfer / note / close / mark, the duty roster and forwarding
// rules (edited in roster.js), and the day/week/month alarm chart. Reads and writes through
// /v1/alarm only; an officer's session sees only the cases given to him.
"use strict";
(function () {
  const { t, tv, h, api, when, toast } = window.APP;
  const enc = encodeURIComponent;
  const OPEN = ["NEW", "DISPATCHED", "ACCEPTED"];

  function beep() {
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      const ctx = beep.ctx || (beep.ctx = new Ctx());
      const o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = 880; g.gain.value = 0.15;
      o.connect(g); g.connect(ctx.destination);
      o.start(); o.stop(ctx.currentTime + 0.25);
    } catch (_) { /* no sound device: the flash still shows */ }
  }

  window.PAGES.alarm = async function (main) {
    const err = h("p", { class: "error", role: "alert" });
    const queue = h("tbody", {});
    const qtable = h("table", { testid: "alarm-queue", "aria-live": "polite" },
      h("thead", {}, h("tr", {}, ["#", t("line_no"), t("status"), t("number"), t("text"), t("rank"), t("accepted_at")].map((c) => h("th", {}, c)))), queue);
    const detail = h("div", { class: "card", testid: "alarm-case", hidden: true });
    const roster = h("div", { class: "card", testid: "alarm-roster" });
    const chart = h("div", { class: "chart", testid: "alarm-chart" });
    const cases = new Map();
    let officers = [];
    let selected = null;

    function row(c) {
      const tr = h("tr", { tabindex: "0", "data-id": c.id, class: [c.id === selected ? "sel" : "", c._new ? "flash" : ""].join(" ").trim() || null,
        onclick: () => open(c.id), onkeydown: (ev) => { if (ev.key === "Enter") open(c.id); } },
      h("td", {}, c.id), h("td", {}, c.line), h("td", { class: "case-" + c.status, "data-status": c.status }, tv("cs_", c.status)), h("td", {}, c.citizen),
      h("td", {}, c.text || ""), h("td", {}, String(c.rank)), h("td", {}, when(c.created_ms)));
      return tr;
    }
    function draw() {
      const list = [...cases.values()].filter((c) => OPEN.includes(c.status))
        .sort((a, b) => a.rank - b.rank || a.created_ms - b.created_ms);
      queue.replaceChildren(...list.map(row));
      if (!list.length) queue.append(h("tr", {}, h("td", { colspan: "7", class: "muted" }, t("empty"))));
    }
    async function open(id) {
      selected = id;
      draw();
      const c = await api("GET", "/v1/alarm/cases/" + enc(id));
      cases.set(c.id, c);
      showCase(c);
    }
    function act(c, action, body) {
      return async () => {
        try {
          const r = await api("POST", "/v1/alarm/cases/" + enc(c.id) + "/" + action, body ? body() : {});
          cases.set(r.id, r); showCase(r); draw(); toast(t("done") + " ✓");
        } catch (e) { err.textContent = e.code + ": " + e.message; }
      };
    }
    function showCase(c) {
      detail.hidden = false;
      const badge = h("select", { testid: "case-officer", "aria-label": t("officer_label") },
        officers.map((o) => h("option", { value: o.badge }, o.badge + " " + o.name + (o.on_duty ? " ●" : ""))));
      const note = h("input", { testid: "case-note", "aria-label": t("case_note"), size: 30 });
      const dispatcher = S.me.role !== "officer";
      detail.replaceChildren(
        h("h2", {}, c.id + " · " + c.line + " · " + tv("kind_", c.kind)),
        h("p", {}, t("status") + ": ", h("strong", { testid: "case-status", "data-status": c.status }, tv("cs_", c.status)),
          " · " + t("number") + ": " + c.citizen + (c.officer ? " · " + c.officer : "")),
        h("ul", {}, (c.texts || []).map((x) => h("li", {}, when(x.at_ms) + " " + x.text))),
        h("div", { class: "row" },
          dispatcher ? badge : null,
          h("button", { type: "button", testid: "case-accept", onclick: act(c, "accept", () => (dispatcher ? { badge: badge.value } : {})) }, t("accepted")),
          dispatcher ? h("button", { type: "button", class: "secondary", testid: "case-transfer", onclick: act(c, "transfer", () => ({ badge: badge.value })) }, "→ " + t("case_transfer")) : null,
          note,
          h("button", { type: "button", class: "secondary", testid: "case-add-note", onclick: act(c, "note", () => ({ note: note.value })) }, t("case_note")),
          h("button", { type: "button", class: "secondary", testid: "case-close", onclick: act(c, "close", () => ({ note: note.value })) }, t("case_close")),
          dispatcher ? h("button", { type: "button", class: "secondary", onclick: act(c, "mark", () => ({ status: "DUPLICATE" })) }, t("case_duplicate")) : null,
          dispatcher ? h("button", { type: "button", class: "secondary", onclick: act(c, "mark", () => ({ status: "INVALID" })) }, t("case_invalid")) : null),
        h("h2", {}, t("timeline")),
        h("ol", { class: "timeline", testid: "case-timeline" }, (c.timeline || []).map((s) =>
          h("li", { "data-step": s.step }, when(s.at_ms) + " " + tv("step_", s.step) + " · " + tv("by_", s.by) + (s.note ? " · " + s.note : "")))));
    }

    async function loadRoster() {
      try {
        officers = (await api("GET", "/v1/alarm/officers")).officers || [];
      } catch (_) { officers = []; }
      await window.ROSTER.render(roster, officers, S.me.role !== "officer", loadRoster);
    }

    async function loadChart(period) {
      const span = { day: 13, week: 83, month: 365 }[period];
      const r = await api("GET", "/v1/alarm/stats?period=" + period + "&from=" +
        new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date(Date.now() - span * 86400000)));
      const periods = [...new Set(r.rows.map((x) => x.period))].sort();
      const lines = [...new Set(r.rows.map((x) => x.line))].sort();
      const series = lines.map((l) => periods.map((p) => { const x = r.rows.find((y) => y.period === p && y.line === l); return x && x.counts ? (x.counts.created || 0) : 0; }));
      chart.replaceChildren();
      chart.dataset.total = String(series.flat().reduce((a, b) => a + b, 0));
      if (!periods.length) { chart.append(h("p", { class: "muted" }, t("empty"))); return; }
      const colors = ["#b42318", "#2f5a8f", "#f0a030", "#067647"];
      const plot = new uPlot({
        width: Math.max(280, Math.min(900, main.clientWidth - 40)), height: 240, scales: { x: { time: false } },
        axes: [{ values: (_, ticks) => ticks.map((i) => periods[i] || "") }, {}],
        series: [{ label: t("period") }, ...lines.map((l, i) => ({ label: l, stroke: colors[i % colors.length], width: 2, points: { show: true } }))]
      }, [periods.map((_, i) => i), ...series], chart);
      S.cleanup.push(() => plot.destroy());
    }

    const period = h("select", { testid: "alarm-period", onchange: () => loadChart(period.value).catch((e) => { err.textContent = e.message; }) },
      ["day", "week", "month"].map((p) => h("option", { value: p }, t(p))));
    main.append(err, h("div", { class: "cols" }, h("div", {}, qtable), detail), roster,
      h("div", { class: "row" }, h("label", { for: "alarm-period" }, t("period")), period), chart);
    period.id = "alarm-period";

    const r = await api("GET", "/v1/alarm/cases?status=open&limit=200");
    for (const c of r.cases) cases.set(c.id, c);
    draw();
    const es = new EventSource("/v1/alarm/events");
    es.addEventListener("case", (ev) => {
      try {
        const c = JSON.parse(ev.data);
        const isNew = !cases.has(c.id);
        c._new = isNew;
        cases.set(c.id, c);
        draw();
        if (isNew && OPEN.includes(c.status)) { beep(); toast(c.line + " · " + c.id); }
        if (c.id === selected) showCase(c);
      } catch (_) { /* the next event carries the whole case again */ }
    });
    S.cleanup.push(() => es.close());
    await loadRoster();
    await loadChart("day").catch((e) => { err.textContent = e.message; });
  };
})();
