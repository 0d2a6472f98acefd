// Live updates over the page's WebSocket (socket.js).
//
// In the incident room: every event carries the incident's timeline sequence number. The
// page remembers the last one it applied; an event that arrives ahead of the next one
// waits a second for it (several server processes may deliver in either order), then a
// gap, or a reconnect, fetches what was missed (?after=<seq>) before going on, so nothing
// is lost and nothing is applied twice. Timeline
// entries and header chips arrive as HTML rendered once per event on the server; the other
// panels the event changes are named by the server (`panels`, incidents/panels.py; a
// resync's X-Refresh-Panels header) and asked to refresh themselves
// (crisisCell.refreshPanels, data-panel="...").
//
// On every other signed-in page (dashboard, "My approvals", a statement...): events and
// signals name the panels they change, which refresh themselves the same way; after a lost
// connection every panel of the page refreshes once (what was missed is not replayed).
// A page about one incident (data-live-incident="<id>", e.g. a statement) listens to that
// incident's socket; the others to the person's own (ws/me/). Refreshes morph
// (static/js/morph.js): nothing typed is lost.
(() => {
  "use strict";

  if (!window.crisisSocket || window.crisisLive) return;
  const room = document.getElementById("incident-room");
  // For tests and styles: "connecting", "live" or "paused".
  const setPageState = (state) => { document.body.dataset.live = state; };

  if (!room) {
    livePage();
    return;
  }
  roomPage(room);

  function livePage() {
    const about = document.querySelector("[data-live-incident]");
    if (!about && !document.body.dataset.user) return;  // signed out: nothing to follow
    const connection = about
      ? window.crisisSocket.open(about.dataset.liveIncident)
      : window.crisisSocket.user();
    let wasLive = false;
    let lost = false;
    setPageState("connecting");

    function refreshAll() {
      const names = new Set();
      document.querySelectorAll("[data-panel]").forEach((el) => {
        el.dataset.panel.split(/\s+/).filter(Boolean).forEach((name) => names.add(name));
      });
      window.crisisCell.refreshPanels([...names]);
    }

    connection
      .on("message", (payload) => {
        if (payload.type === "presence") return;
        if (payload.type === "status") {
          setPageState(payload.live ? "live" : "paused");
          if (!payload.live) {
            lost = true;
          } else {
            if (wasLive && lost) refreshAll();  // back after a loss: catch up
            wasLive = true;
            lost = false;
          }
          return;
        }
        if (Array.isArray(payload.panels)) window.crisisCell.refreshPanels(payload.panels);
      })
      .on("close", () => {
        setPageState("paused");
        lost = true;
      });

    window.crisisLive = {
      get socket() { return connection.socket; },
      get state() { return document.body.dataset.live; },
    };
  }

  function roomPage(room) {
    const incidentId = room.dataset.incident;
    const language = room.dataset.language;
    const timelineUrl = room.dataset.timelineUrl;
    const status = document.getElementById("live-status");
    let lastSeq = Number(room.dataset.lastSeq) || 0;
    let resyncing = null;
    // Events ahead of lastSeq + 1, by seq. With several server processes, two entries
    // committed in order may reach the page in either order: the later one waits here a
    // moment for the missing one before the page asks the server (a resync).
    const early = new Map();
    let gapTimer = null;
    const GAP_WAIT_MS = 1000;
    const connection = window.crisisSocket.open(incidentId);

    // Timeline entries are rendered once for every viewer (the live event, a resync, the
    // page): a part only some may see (a listening signal's link) comes hidden, marked
    // data-for-viewers="<what>", and is shown here when the server names it in the room's
    // data-viewer-may (the viewer's rights, decided on the server). No rule of its own.
    const viewerMay = new Set((room.dataset.viewerMay || "").split(/\s+/).filter(Boolean));
    function showAllowed(root) {
      if (!root || !root.querySelectorAll) return;
      root.querySelectorAll("[data-for-viewers][hidden]").forEach((el) => {
        if (viewerMay.has(el.dataset.forViewers)) el.hidden = false;
      });
    }
    showAllowed(room);
    if (window.htmx) window.htmx.onLoad(showAllowed);  // a timeline refresh, older entries

    // Hidden in the page (without JavaScript nothing connects): shown once this runs.
    status.hidden = false;

    function setStatus(state) {
      setPageState(state);
      status.dataset.state = state;
      status.textContent = status.dataset[`label${state[0].toUpperCase()}${state.slice(1)}`];
    }

    // The server's named format for the page language (crisiscell/formats), its month
    // names as the server writes them: a time re-written in the viewer's zone reads
    // exactly as the server would write it ("1 Dec 2026, 13:05", "1 déc. 2026 13:05").
    const dateFormat = room.dataset.dateFormat || "j M Y, H:i";
    const monthNames = JSON.parse(room.dataset.months || "{}");
    const pad = (n) => String(n).padStart(2, "0");

    function formatDate(date) {
      const parts = {
        d: () => pad(date.getDate()),
        j: () => String(date.getDate()),
        m: () => pad(date.getMonth() + 1),
        n: () => String(date.getMonth() + 1),
        Y: () => String(date.getFullYear()),
        y: () => pad(date.getFullYear() % 100),
        H: () => pad(date.getHours()),
        G: () => String(date.getHours()),
        i: () => pad(date.getMinutes()),
        s: () => pad(date.getSeconds()),
      };
      let out = "";
      for (let i = 0; i < dateFormat.length; i++) {
        const c = dateFormat[i];
        if (c === "\\") out += dateFormat[++i] ?? "";
        else if (monthNames[c]) out += monthNames[c][date.getMonth()];
        else out += parts[c] ? parts[c]() : c;
      }
      return out;
    }

    function localizeTimes(root) {
      root.querySelectorAll("time[data-local]").forEach((el) => {
        el.textContent = formatDate(new Date(el.getAttribute("datetime")));
      });
    }

    function timelineFiltered() {
      const form = document.querySelector(".timeline-filters");
      if (!form) return false;
      return [...form.elements].some((el) => (el.type === "checkbox" ? el.checked : el.value));
    }

    function insertEntries(html) {
      const list = document.querySelector("#timeline ol.timeline");
      if (!list || timelineFiltered()) {
        htmx.trigger(document.body, "timeline-changed");
        return;
      }
      const holder = document.createElement("template");
      holder.innerHTML = html;
      holder.content.querySelectorAll("li.entry").forEach((entry) => {
        if (document.getElementById(entry.id)) return; // already shown (own action refresh)
        const seq = Number(entry.dataset.seq);
        const older = [...list.querySelectorAll(":scope > li.entry")].find(
          (li) => Number(li.dataset.seq) < seq,
        );
        localizeTimes(entry);
        showAllowed(entry);
        list.insertBefore(entry, older || list.querySelector(":scope > .timeline-more"));
        entry.classList.add("is-new");
      });
    }

    function applyHeader(fragments) {
      const chips = document.querySelector("#incident-header .room-title .chips");
      const countdown = document.querySelector("#incident-header .room-countdown");
      if (chips) chips.innerHTML = fragments.chips;
      if (countdown) countdown.innerHTML = fragments.countdown;
      window.crisisCell?.tick();
    }

    function apply(payload) {
      const fragments = payload.html[language] || Object.values(payload.html)[0];
      insertEntries(fragments.entry);
      applyHeader(fragments);
      window.crisisCell.refreshPanels(payload.panels);
      lastSeq = payload.seq;
    }

    // Apply the waiting events that now follow on; forget those already shown.
    function drainEarly() {
      for (const seq of [...early.keys()]) if (seq <= lastSeq) early.delete(seq);
      while (early.has(lastSeq + 1)) {
        const next = early.get(lastSeq + 1);
        early.delete(lastSeq + 1);
        apply(next);
      }
      clearTimeout(gapTimer);
      gapTimer = null;
      if (early.size && !resyncing) {
        // Still a hole: give it a moment, then ask the server for what is missing.
        gapTimer = setTimeout(() => {
          gapTimer = null;
          resync().catch(() => connection.socket && connection.socket.close());
        }, GAP_WAIT_MS);
      }
    }

    // Fetch every entry after lastSeq (rendered for this viewer) and refresh the panels.
    function resync() {
      if (resyncing) return resyncing;
      resyncing = fetch(`${timelineUrl}?after=${lastSeq}`, {
        headers: { "HX-Request": "true" }, credentials: "same-origin",
      })
        .then(async (response) => {
          if (!response.ok) throw new Error(`resync failed: ${response.status}`);
          // The panels the missed entries' live events would have refreshed.
          const panels = (response.headers.get("X-Refresh-Panels") || "")
            .split(",").map((name) => name.trim()).filter(Boolean);
          const more = response.headers.get("X-Timeline-More") === "true";
          return { html: await response.text(), panels, more };
        })
        .then(({ html, panels, more }) => {
          const holder = document.createElement("template");
          holder.innerHTML = html;
          const seqs = [...holder.content.querySelectorAll("li.entry")].map((li) => Number(li.dataset.seq));
          if (seqs.length) {
            insertEntries(html);
            lastSeq = Math.max(lastSeq, ...seqs);
            window.crisisCell.refreshPanels(panels);
          }
          return more && seqs.length;
        })
        .finally(() => { resyncing = null; })
        // Far behind: the server pages what was missed; ask for the next page. Then the
        // events that arrived meanwhile and follow on are applied, not fetched again.
        .then((more) => (more ? resync() : drainEarly()));
      return resyncing;
    }

    function onMessage(payload) {
      // Presence messages (presence.js) share the socket; they never carry a seq.
      if (payload.type === "presence") return;
      // The server says whether it can deliver events (the channel layer may be down).
      if (payload.type === "status") {
        setStatus(payload.live ? "live" : "paused");
        if (payload.live) resync().catch(() => {});
        return;
      }
      if (payload.event === "signal") {
        // Working state outside the timeline (a thumbnail is ready, a capture moved on).
        window.crisisCell.refreshPanels(payload.panels);
        return;
      }
      if (typeof payload.seq !== "number" || payload.seq <= lastSeq) return;
      if (payload.seq > lastSeq + 1 || resyncing) {
        early.set(payload.seq, payload);
        if (!resyncing) drainEarly();
        return;
      }
      apply(payload);
      if (early.size) drainEarly();
    }

    // "Live" only once the server says it is subscribed (a status message), not on the
    // handshake: while the channel layer is down it accepts and closes with 4503.
    connection
      .on("message", onMessage)
      .on("close", () => setStatus("paused"));

    // A refresh of the timeline (after an own action, a filter change) shows entries up to
    // its newest: never ask for them again. A refresh read before a live entry committed
    // but swapped in after it was shown replaces it: fetch what the refresh lacks.
    document.body.addEventListener("htmx:afterSwap", (event) => {
      if (event.detail.target.id !== "timeline") return;
      const seqs = [...event.detail.target.querySelectorAll("li.entry")]
        .map((li) => Number(li.dataset.seq));
      const newest = seqs.length ? Math.max(...seqs) : 0;
      if (newest < lastSeq && seqs.length && !timelineFiltered()) {
        lastSeq = newest;
        resync().catch(() => connection.socket && connection.socket.close());
      } else {
        lastSeq = Math.max(lastSeq, newest);
      }
    });

    window.crisisLive = {
      get lastSeq() { return lastSeq; },
      get waiting() { return early.size; },
      get socket() { return connection.socket; },
    };
  }
})();
