// Presence over the incident's WebSocket (socket.js): who else has this incident open
// ("Here now" in the room) and who is editing which statement (badges on statement cards,
// a warning above the editor on the statement page).
//
// The server keeps the incident's roster (incidents/presence.py): this page receives it
// whole once on connect, a quarter of a second after people arrive (one roster announces
// all the arrivals of that window) and about every 20 s ("roster": up to 100 entries, and
// `more`, the people beyond), and deltas in between ("here" when someone changes what
// they edit, "left" when they close a page). A roster read before the last one applied
// (`at`) is skipped: it knows less. Entries no roster or delta confirmed for STALE_MS are
// dropped, so a server that died without saying goodbye leaves no ghost. One person with
// two pages open shows once; yourself never. Strings come from #presence-config, rendered
// (and translated) by Django.
(() => {
  "use strict";

  const config = document.getElementById("presence-config");
  if (!config || !window.crisisSocket) return;

  const STALE_MS = 60000; // three missed refreshes
  // A roster read just before a delta may arrive just after it: for this long, a delta
  // wins over a roster that disagrees.
  const GRACE_MS = 5000;
  const me = Number(config.dataset.me);
  const strings = config.dataset;
  const names = new Intl.ListFormat(document.documentElement.lang || "en", { type: "conjunction" });
  const connection = window.crisisSocket.open(config.dataset.incident);
  const entries = new Map(); // connection id -> {user, name, initials, editing, seen}
  const gone = new Map(); // connection id -> when its "left" arrived (GRACE_MS)
  let more = 0; // people present beyond the last roster's entries
  let rosterAt = 0; // when the last roster applied was read (server epoch seconds)
  let editing = null; // the statement this page is editing

  // Everyone but yourself, once per person, by name.
  function people() {
    const byUser = new Map();
    for (const entry of entries.values()) {
      if (entry.user === me) continue;
      const person = byUser.get(entry.user) || { ...entry, editing: new Set() };
      if (entry.editing !== null) person.editing.add(entry.editing);
      byUser.set(entry.user, person);
    }
    return [...byUser.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  function renderList(present) {
    const box = document.getElementById("presence-list");
    if (!box) return;
    const list = box.querySelector("ul");
    list.replaceChildren(...present.map((person) => {
      const item = document.createElement("li");
      item.className = "presence-person";
      item.title = person.name;
      item.dataset.user = person.user;
      const avatar = document.createElement("span");
      avatar.className = "avatar avatar-small";
      avatar.setAttribute("aria-hidden", "true");
      avatar.textContent = person.initials;
      const name = document.createElement("span");
      name.className = "visually-hidden";
      name.textContent = person.name;
      item.append(avatar, name);
      return item;
    }));
    if (more > 0) {
      const extra = document.createElement("li");
      extra.className = "presence-more";
      extra.textContent = strings.more.replace("{count}", more);
      list.append(extra);
    }
    list.hidden = present.length === 0 && more === 0;
    box.querySelector(".presence-alone").hidden = !list.hidden;
    box.hidden = false;
  }

  function renderEditing(present) {
    document.querySelectorAll("[data-editing-for]").forEach((slot) => {
      const id = Number(slot.dataset.editingFor);
      const editors = present.filter((person) => person.editing.has(id)).map((p) => p.name);
      slot.hidden = editors.length === 0;
      if (!editors.length) {
        slot.textContent = "";
        return;
      }
      const text = editors.length === 1
        ? strings.editingOne.replace("{name}", editors[0])
        : strings.editingMany.replace("{names}", names.format(editors));
      if (!("warning" in slot.dataset)) {
        slot.textContent = text;
        return;
      }
      // Above the editor: who, then what to do about it.
      const who = document.createElement("strong");
      who.textContent = text;
      const advice = document.createElement("span");
      advice.textContent = strings.warning;
      slot.replaceChildren(who, document.createElement("br"), advice);
    });
  }

  function render() {
    const present = people();
    renderList(present);
    renderEditing(present);
  }

  function sweep() {
    const now = Date.now();
    let changed = false;
    for (const [conn, entry] of entries) {
      if (now - entry.seen > STALE_MS) changed = entries.delete(conn) || changed;
    }
    for (const [conn, when] of gone) if (now - when > GRACE_MS) gone.delete(conn);
    if (changed) render();
  }

  // The whole roster replaces what this page knew, but for the last GRACE_MS of deltas.
  function roster(payload) {
    // A window's roster may arrive after the newer one this page got on connect.
    const at = Number(payload.at) || 0;
    if (at < rosterAt) return;
    rosterAt = at;
    const now = Date.now();
    const listed = new Set();
    for (const { conn, user, name, initials, editing: statement } of payload.entries) {
      if (typeof conn !== "string" || (gone.has(conn) && now - gone.get(conn) <= GRACE_MS)) continue;
      listed.add(conn);
      const recent = entries.get(conn);
      if (recent && now - recent.seen <= GRACE_MS && recent.fromDelta) {
        recent.seen = now; // a delta newer than this roster may say more
        continue;
      }
      entries.set(conn, { user, name, initials, editing: statement, seen: now });
    }
    for (const [conn, entry] of entries) {
      if (!listed.has(conn) && !(entry.fromDelta && now - entry.seen <= GRACE_MS)) entries.delete(conn);
    }
    more = Number(payload.more) || 0;
  }

  function setEditing(statementId) {
    if (statementId === editing) return;
    editing = statementId;
    connection.send({ editing });
  }

  connection
    .on("open", () => {
      if (editing !== null) connection.send({ editing }); // a new socket starts with none
      render();
    })
    .on("message", (payload) => {
      if (payload.type !== "presence") return;
      if (payload.event === "roster" ? !Array.isArray(payload.entries)
        : typeof payload.conn !== "string") return;
      if (payload.event === "roster") {
        roster(payload);
      } else if (payload.event === "here") {
        const { user, name, initials, editing: statement } = payload;
        entries.set(payload.conn, {
          user, name, initials, editing: statement, seen: Date.now(), fromDelta: true,
        });
        gone.delete(payload.conn);
      } else if (payload.event === "left") {
        entries.delete(payload.conn);
        gone.set(payload.conn, Date.now());
      }
      render();
    });

  // The statement editor: editing while the text has the focus or unsaved changes.
  // Delegated: a live refresh may show the editor later (the statement sent back).
  const editorOf = (target) => (target instanceof HTMLTextAreaElement
    ? target.closest("form[data-presence-editor]") : null);
  const idOf = (form) => Number(form.dataset.presenceEditor);
  const onEditor = (event) => {
    const form = editorOf(event.target);
    if (form) setEditing(idOf(form));
  };
  document.addEventListener("focusin", onEditor);
  document.addEventListener("input", onEditor);
  document.addEventListener("focusout", (event) => {
    const form = editorOf(event.target);
    if (form) setEditing(event.target.value !== event.target.defaultValue ? idOf(form) : null);
  });
  document.addEventListener("submit", (event) => {
    if (event.target.matches?.("form[data-presence-editor]")) setEditing(null);
  });
  window.addEventListener("pagehide", () => setEditing(null));

  // Statement cards come and go with htmx refreshes of their panel.
  document.body.addEventListener("htmx:afterSwap", render);
  document.addEventListener("visibilitychange", sweep);
  setInterval(sweep, 5000);

  window.crisisPresence = { get entries() { return entries; }, get editing() { return editing; } };
})();
