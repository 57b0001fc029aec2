// The alarm desk's duty roster and forwarding rules, shown to everyone on
// the desk and edited by dispatchers: officers (add, remove, on/off duty),
// duty groups (members, leader, shifts) and rules (line + keyword → an
// officer, one of a group, or a whole group). Writes only through
// /v1/alarm/officers|groups|rules; an API refusal is shown next to the form
// (the API's own check decides, never this page).
"use strict";
(function () {
  const { t, tv, h, api, toast } = window.APP;
  const enc = encodeURIComponent;
  const list = (s) => s.split(/[,，\s]+/).map((x) => x.trim()).filter(Boolean);

  function head(cols) { return h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c)))); }
  function input(id, label, attrs) {
    const i = h("input", Object.assign({ id, testid: id }, attrs || {}));
    return [i, h("div", {}, h("label", { for: id }, label), i)];
  }
  function select(id, label, options, onchange) {
    const s = h("select", { id, testid: id, onchange }, options.map(([v, l]) => h("option", { value: v }, l)));
    return [s, h("div", {}, h("label", { for: id }, label), s)];
  }

  // Renders into `box`; `edit`: a dispatcher (forms and buttons shown);
  // `reload` redraws the whole roster after a change.
  async function render(box, officers, edit, reload) {
    let groups = [], rules = [];
    try { groups = (await api("GET", "/v1/alarm/groups")).groups || []; } catch (_) { groups = []; }
    try { rules = (await api("GET", "/v1/alarm/rules")).rules || []; } catch (_) { rules = []; }
    const err = h("p", { class: "error", role: "alert", testid: "roster-error" });
    // Runs a change; on success the roster is read again, on refusal the
    // API's error stays next to the forms.
    const change = (f) => async (ev) => {
      if (ev && ev.preventDefault) ev.preventDefault();
      err.textContent = "";
      try { await f(); toast(t("done") + " ✓"); await reload(); } catch (e) { err.textContent = (e.code ? e.code + ": " : "") + e.message; }
    };

    // ---- officers ----
    const orows = officers.map((o) => h("tr", { "data-badge": o.badge },
      h("td", {}, o.badge), h("td", {}, o.name), h("td", {}, o.phone),
      h("td", {}, edit
        ? (() => {
          const s = h("select", { testid: "duty-" + o.badge, "aria-label": t("duty_mode") + " " + o.badge },
            ["on", "off", "shifts"].map((d) => h("option", { value: d }, t("duty_" + d))));
          s.value = o.duty || "shifts";
          s.addEventListener("change", change(() => api("POST", "/v1/alarm/officers/" + enc(o.badge) + "/duty", { duty: s.value })));
          return s;
        })()
        : t("duty_" + (o.duty || "shifts"))),
      h("td", { testid: "on-duty-" + o.badge }, o.on_duty ? "● " + t("duty_on") : t("duty_off")),
      h("td", {}, String(o.open_cases)),
      edit ? h("td", {}, h("button", { type: "button", class: "secondary", testid: "officer-remove-" + o.badge,
        onclick: change(() => api("DELETE", "/v1/alarm/officers/" + enc(o.badge))) }, t("remove"))) : null));
    const otable = h("table", { testid: "roster-officers" },
      head([t("badge"), t("name"), t("phones"), t("duty_mode"), t("on_duty"), t("open_cases"), edit ? "" : null].filter((x) => x !== null)),
      h("tbody", {}, orows.length ? orows : h("tr", {}, h("td", { colspan: "7", class: "muted" }, t("empty")))));
    const [ob, obF] = input("officer-badge", t("badge"), { size: 8 });
    const [on, onF] = input("officer-name", t("name"), { size: 10 });
    const [op, opF] = input("officer-phone", t("phones"), { size: 13 });
    const oform = h("form", { class: "row", onsubmit: change(() => api("POST", "/v1/alarm/officers",
      { badge: ob.value.trim(), name: on.value.trim(), phone: op.value.trim() })) },
    obF, onF, opF, h("button", { type: "submit", testid: "officer-add" }, t("add")));

    // ---- duty groups ----
    const [gn, gnF] = input("dgroup-name", t("group_name"), { size: 10 });
    const [gl, glF] = input("dgroup-leader", t("leader_badge"), { size: 8 });
    const [gm, gmF] = input("dgroup-members", t("member_badges"), { size: 18 });
    const [gs, gsF] = input("dgroup-shifts", t("shifts"), { size: 18 });
    const grows = groups.map((g) => h("tr", { "data-group": g.name },
      h("td", {}, g.name), h("td", {}, g.leader || "—"), h("td", {}, (g.members || []).join(", ")),
      h("td", {}, (g.shifts || []).length ? g.shifts.join(", ") : t("any")),
      edit ? h("td", {},
        h("button", { type: "button", class: "secondary", testid: "dgroup-edit-" + g.name, onclick: () => {
          gn.value = g.name; gl.value = g.leader || ""; gm.value = (g.members || []).join(", "); gs.value = (g.shifts || []).join(", ");
          gn.focus();
        } }, t("edit")), " ",
        h("button", { type: "button", class: "secondary", testid: "dgroup-remove-" + g.name,
          onclick: change(() => api("DELETE", "/v1/alarm/groups/" + enc(g.name))) }, t("remove"))) : null));
    const gtable = h("table", { testid: "roster-groups" },
      head([t("group_name"), t("leader_badge"), t("members"), t("shifts_h"), edit ? "" : null].filter((x) => x !== null)),
      h("tbody", {}, grows.length ? grows : h("tr", {}, h("td", { colspan: "5", class: "muted" }, t("empty")))));
    const gform = h("form", { class: "row", onsubmit: change(() => {
      const body = { name: gn.value.trim(), members: list(gm.value), shifts: list(gs.value) };
      if (gl.value.trim()) body.leader = gl.value.trim();
      return api("POST", "/v1/alarm/groups", body);
    }) }, gnF, glF, gmF, gsF, h("button", { type: "submit", testid: "dgroup-save" }, t("save")));

    // ---- rules ----
    const rrows = rules.map((r, i) => h("tr", { "data-rule": (r.line || "*") + "/" + (r.keyword || "") },
      h("td", {}, r.line || t("any")), h("td", {}, r.keyword || t("any")), h("td", {}, tv("target_", r.target)),
      h("td", {}, r.officer || r.group || ""), h("td", {}, r.pick ? tv("pick_", r.pick) : ""),
      edit ? h("td", {}, h("button", { type: "button", class: "secondary", testid: "rule-remove-" + i, onclick: change(() => {
        const q = new URLSearchParams();
        if (r.line) q.set("line", r.line);
        if (r.keyword) q.set("keyword", r.keyword);
        return api("DELETE", "/v1/alarm/rules?" + q.toString());
      }) }, t("remove"))) : null));
    const rtable = h("table", { testid: "roster-rules" },
      head([t("line_no"), t("keyword"), t("target"), t("officer") + " / " + t("group"), t("pick"), edit ? "" : null].filter((x) => x !== null)),
      h("tbody", {}, rrows.length ? rrows : h("tr", {}, h("td", { colspan: "6", class: "muted" }, t("empty")))));
    const [rl, rlF] = input("rule-line", t("line_no"), { size: 6 });
    const [rk, rkF] = input("rule-keyword", t("keyword"), { size: 8 });
    const [ro, roF] = input("rule-officer", t("badge"), { size: 8 });
    const [rg, rgF] = input("rule-group", t("group_name"), { size: 10 });
    const [rp, rpF] = select("rule-pick", t("pick"), [["round_robin", t("pick_round_robin")], ["fewest_open", t("pick_fewest_open")]]);
    const [rt, rtF] = select("rule-target", t("target"),
      ["officer", "one_of", "whole_group"].map((x) => [x, t("target_" + x)]), () => shape());
    function shape() {
      roF.hidden = rt.value !== "officer";
      rgF.hidden = rt.value === "officer";
      rpF.hidden = rt.value !== "one_of";
    }
    shape();
    const rform = h("form", { class: "row", onsubmit: change(() => {
      const body = { target: rt.value };
      if (rl.value.trim()) body.line = rl.value.trim();
      if (rk.value.trim()) body.keyword = rk.value.trim();
      if (rt.value === "officer") body.officer = ro.value.trim();
      else if (rg.value.trim()) body.group = rg.value.trim();
      if (rt.value === "one_of") body.pick = rp.value;
      return api("POST", "/v1/alarm/rules", body);
    }) }, rlF, rkF, rtF, roF, rgF, rpF, h("button", { type: "submit", testid: "rule-save" }, t("save")));

    box.replaceChildren(...[
      h("h2", {}, t("duty")), otable, edit ? oform : null,
      h("h2", {}, t("duty_groups")), gtable, edit ? gform : null,
      h("h2", {}, t("rules")), rtable, edit ? rform : null,
      err].filter(Boolean));
  }

  window.ROSTER = { render };
})();
