// The address book's groups and the account's templates, on the contacts
// page: list, create, edit (a group by PATCH, a template replaced by name)
// and delete. Writes only through /v1/groups and /v1/templates, so the
// account scoping and the validation are the API's; a refusal is shown
// next to its form.
"use strict";
(function () {
  const { t, h, api, toast, when } = window.APP;
  const enc = encodeURIComponent;
  const list = (s) => s.split(/[,，]/).map((x) => x.trim()).filter(Boolean);

  function head(cols) { return h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c)))); }
  function field(id, label, input) { input.id = id; return h("div", {}, h("label", { for: id }, label), input); }
  function errorBox(id) { return h("p", { class: "error", role: "alert", testid: id }); }
  function shown(box, e) { box.textContent = e ? (e.code ? e.code + ": " : "") + e.message : ""; }

  // ---------- groups ----------
  async function groups(main) {
    const err = errorBox("group-error");
    const rows = h("tbody", { testid: "groups-table" });
    const name = h("input", { testid: "group-name" }), desc = h("input", { testid: "group-description" });
    const units = h("input", { testid: "group-units" }), ids = h("input", { testid: "group-contacts" });
    const inc = h("input", { testid: "group-groups" });
    let editing = null; // the id of the group being edited, or null: a new one
    const save = h("button", { type: "submit", testid: "group-add" }, t("new_group"));
    const cancel = h("button", { type: "button", class: "secondary", testid: "group-cancel", hidden: true, onclick: () => reset() }, t("cancel"));
    function reset() {
      editing = null; name.value = desc.value = units.value = ids.value = inc.value = "";
      save.textContent = t("new_group"); cancel.hidden = true;
    }
    async function load() {
      const r = await api("GET", "/v1/groups?limit=200");
      rows.replaceChildren(...r.items.map((g) => h("tr", { "data-id": String(g.id) },
        h("td", {}, g.name), h("td", {}, g.description || ""), h("td", {}, (g.units || []).join(", ")),
        h("td", {}, (g.contacts || []).join(", ")), h("td", {}, (g.groups || []).join(", ")),
        h("td", {},
          h("button", { type: "button", class: "secondary", testid: "group-edit-" + g.name, onclick: () => {
            editing = g.id; name.value = g.name; desc.value = g.description || ""; units.value = (g.units || []).join(", ");
            ids.value = (g.contacts || []).join(", "); inc.value = (g.groups || []).join(", ");
            save.textContent = t("save"); cancel.hidden = false; name.focus();
          } }, t("edit")), " ",
          h("button", { type: "button", class: "secondary", testid: "group-remove-" + g.name, onclick: async () => {
            shown(err, null);
            try { await api("DELETE", "/v1/groups/" + enc(g.id)); toast(t("remove") + " ✓"); await load(); } catch (e) { shown(err, e); }
          } }, t("remove"))))));
      if (!r.items.length) rows.append(h("tr", {}, h("td", { colspan: "6", class: "muted" }, t("empty"))));
    }
    const form = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault(); shown(err, null);
      const body = { name: name.value.trim(), description: desc.value.trim(), units: list(units.value),
        contacts: list(ids.value).map(Number), groups: list(inc.value) };
      try {
        if (editing === null) await api("POST", "/v1/groups", body);
        else await api("PATCH", "/v1/groups/" + enc(editing), body);
        reset(); toast(t("done") + " ✓"); await load();
      } catch (e) { shown(err, e); }
    } }, field("g-name", t("group_name"), name), field("g-desc", t("description"), desc), field("g-units", t("units"), units),
    field("g-ids", t("contact_ids"), ids), field("g-groups", t("included_groups"), inc), save, cancel);
    main.append(h("h2", {}, t("groups")), h("div", { class: "card" }, form, err),
      h("table", {}, head([t("group_name"), t("description"), t("units"), t("contact_ids"), t("included_groups"), ""]), rows));
    await load();
  }

  // ---------- templates ----------
  async function templates(main) {
    const err = errorBox("template-error");
    const rows = h("tbody", { testid: "templates-table" });
    const name = h("input", { testid: "template-name" }), cat = h("input", { testid: "template-category" });
    const text = h("textarea", { testid: "template-text", rows: 2, cols: 40 });
    async function load() {
      const r = await api("GET", "/v1/templates?limit=200");
      rows.replaceChildren(...r.items.map((x) => h("tr", {},
        h("td", {}, x.name), h("td", {}, x.text), h("td", {}, x.category || ""), h("td", {}, (x.variables || []).join(", ")),
        h("td", {}, String(x.uses || 0)), h("td", {}, when(x.updated_at)),
        h("td", {},
          h("button", { type: "button", class: "secondary", testid: "template-edit-" + x.name, onclick: () => {
            name.value = x.name; text.value = x.text; cat.value = x.category || ""; text.focus();
          } }, t("edit")), " ",
          h("button", { type: "button", class: "secondary", testid: "template-remove-" + x.name, onclick: async () => {
            shown(err, null);
            try { await api("DELETE", "/v1/templates/" + enc(x.name)); toast(t("remove") + " ✓"); await load(); } catch (e) { shown(err, e); }
          } }, t("remove"))))));
      if (!r.items.length) rows.append(h("tr", {}, h("td", { colspan: "7", class: "muted" }, t("empty"))));
    }
    const form = h("form", { class: "row", onsubmit: async (ev) => {
      ev.preventDefault(); shown(err, null);
      const body = { name: name.value.trim(), text: text.value };
      if (cat.value.trim()) body.category = cat.value.trim();
      try {
        await api("POST", "/v1/templates", body);
        name.value = text.value = cat.value = ""; toast(t("save") + " ✓"); await load();
      } catch (e) { shown(err, e); }
    } }, field("tp-name", t("template_name"), name), field("tp-text", t("text"), text), field("tp-cat", t("category"), cat),
    h("button", { type: "submit", testid: "template-save" }, t("save")));
    main.append(h("h2", {}, t("templates")), h("div", { class: "card" }, form, err),
      h("table", {}, head([t("template_name"), t("text"), t("category"), t("variables"), t("uses"), t("updated"), ""]), rows));
    await load();
  }

  window.BOOK = { groups, templates };
})();
