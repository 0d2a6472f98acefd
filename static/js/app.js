// Crisis Cell browser helpers: viewer time zone, first-response countdowns, error toasts.
(() => {
  "use strict";

  // Times are rendered server-side in the viewer's zone, read from this cookie.
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && !document.cookie.split("; ").includes(`tz=${zone}`)) {
    document.cookie = `tz=${zone}; path=/; max-age=31536000; SameSite=Lax`;
  }

  const strings = () => document.getElementById("i18n-strings")?.dataset ?? {};

  function formatDuration(ms) {
    const total = Math.floor(Math.abs(ms) / 1000);
    if (total >= 86400) {  // a week's deadline reads "6 d 23 h", not "167:58:59"
      const days = Math.floor(total / 86400);
      const hours = Math.floor((total % 86400) / 3600);
      return (strings().days ?? "{d} d {h} h").replace("{d}", days).replace("{h}", hours);
    }
    // With units: "04:17" (minutes) beside "23:19:12" (hours) read alike.
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    if (h > 0) return (strings().hours ?? "{h} h {m} min").replace("{h}", h).replace("{m}", m);
    return (strings().minutes ?? "{m} min {s} s").replace("{m}", m).replace("{s}", s);
  }

  function tick() {
    const now = Date.now();
    const t = strings();
    document.querySelectorAll("[data-deadline]").forEach((el) => {
      const remaining = Date.parse(el.dataset.deadline) - now;
      const value = el.querySelector(".countdown-value");
      if (!value) return;
      el.classList.toggle("is-overdue", remaining < 0);
      el.classList.toggle("is-urgent", remaining >= 0 && remaining < 15 * 60 * 1000);
      const template = remaining >= 0 ? t.left ?? "{time} left" : t.overdue ?? "overdue by {time}";
      value.textContent = template.replace("{time}", formatDuration(remaining));
    });
  }

  function toast(message) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = "toast";
    item.textContent = message;
    box.appendChild(item);
    setTimeout(() => item.remove(), 6000);
  }

  // Live character counter against the channel's limit (statements editor). The server
  // counts (statements/limits.py: X weighs emoji, CJK and URLs its own way), so the counter
  // and the actions never disagree; requests are debounced and the stale one aborted.
  const counterRequests = new WeakMap();
  function updateCounter(counter) {
    const field = document.getElementById(counter.dataset.counterFor);
    if (!field) return;
    const channel = counter.dataset.channel || field.closest("form")?.querySelector("[name=channel]")?.value;
    if (!channel) return;
    const pending = counterRequests.get(counter);
    if (pending) { clearTimeout(pending.timer); pending.controller?.abort(); }
    const state = {};
    state.timer = setTimeout(async () => {
      state.controller = new AbortController();
      const body = new URLSearchParams({ text: field.value, channel });
      try {
        const response = await fetch(counter.dataset.lengthUrl, {
          method: "POST", body, signal: state.controller.signal, credentials: "same-origin",
          headers: { "X-CSRFToken": csrfToken() },
        });
        // Signed out (the login page, after a redirect): keep.js signs in on the next save.
        if (!response.ok || response.redirected) return;
        const { length, limit, over } = await response.json();
        counter.querySelector(".counter-value").textContent = limit ? `${length} / ${limit}` : String(length);
        counter.classList.toggle("is-over", over > 0);
        counter.querySelector(".over").hidden = !(over > 0);
      } catch (error) {
        if (error.name !== "AbortError") throw error;
      }
    }, 150);
    counterRequests.set(counter, state);
  }

  function csrfToken() {
    const headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch { return ""; }
  }

  // Not an attribute: a live refresh morphs the page to the server's HTML, which has none.
  const counted = new WeakSet();
  function bindCounters(root) {
    root.querySelectorAll("[data-counter-for]").forEach((counter) => {
      const field = document.getElementById(counter.dataset.counterFor);
      if (!field || counted.has(field)) return;
      counted.add(field);
      const update = () => updateCounter(counter);
      field.addEventListener("input", update);
      field.closest("form")?.querySelector("[name=channel]")?.addEventListener("change", update);
      update();
    });
  }

  // Copy the exact approved text for the spokesperson.
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.querySelector(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(source.value ?? source.textContent);
    } catch {
      source.classList.remove("visually-hidden");
      source.select();
      document.execCommand("copy");
      source.classList.add("visually-hidden");
    }
    const label = button.textContent;
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 2000);
  });

  // A select that saves as soon as it changes (a member's role, the severity) asks first,
  // naming the choice ({choice}): a slip of the finger on a phone changed a role at once.
  // Cancelled, it shows the saved value again.
  document.addEventListener("htmx:confirm", (event) => {
    const form = event.detail.elt;
    const select = form instanceof HTMLFormElement && form.querySelector("select[data-confirm-change]");
    if (!select) return;
    event.preventDefault();
    const choice = select.options[select.selectedIndex]?.text ?? "";
    if (window.confirm(select.dataset.confirmChange.replace("{choice}", choice))) {
      select.dataset.saved = select.value;
      event.detail.issueRequest(true);
    } else {
      const saved = select.dataset.saved ?? [...select.options].find((o) => o.defaultSelected)?.value;
      if (saved !== undefined) select.value = saved;
    }
  });

  // "Cancel" in an answer shown in a form's slot (resolving: what is still open) empties
  // the slot; without JavaScript it is a link back to the room.
  document.addEventListener("click", (event) => {
    const cancel = event.target.closest("[data-clear-slot]");
    const slot = cancel?.closest(".form-slot");
    if (!slot) return;
    event.preventDefault();
    slot.replaceChildren();
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    // One click, one request: a second click would make a second incident, draft or entry.
    // data-once="Importing…" also says what the wait is for (a long import, a big file).
    const button = event.submitter;
    if (button && button.hasAttribute("data-once")) {
      // Not on a form whose own script sends it (or not: evidence with no file chosen).
      setTimeout(() => {
        button.disabled = true;
        button.setAttribute("aria-busy", "true"); // sent and waiting, not off: app.css
        if (button.dataset.once) {
          button.dataset.label = button.textContent;
          button.textContent = button.dataset.once;
        }
      }, 0);
    }
  });

  // Refresh the page's panels by name: each element marked data-panel="<name>" re-fetches
  // itself (its hx-get, on a "panel-refresh" event dispatched to it alone). The names come
  // from the server (incidents/panels.py): live events and resyncs carry them.
  function refreshPanels(names) {
    const elements = new Set();
    for (const name of names || []) {
      document.querySelectorAll(`[data-panel~="${CSS.escape(name)}"]`).forEach((el) => elements.add(el));
    }
    elements.forEach((el) => el.dispatchEvent(new CustomEvent("panel-refresh")));
  }

  document.addEventListener("DOMContentLoaded", () => {
    tick();
    setInterval(tick, 1000);
    bindCounters(document);
    // A page opened at an item (a form came back to it: the reply queue) is scrolled away
    // from its messages at the top: say them where the eye is too.
    if (location.hash) {
      document.querySelectorAll(".messages .message").forEach((m) => toast(m.textContent));
    }
  });
  document.addEventListener("htmx:afterSettle", (event) => bindCounters(event.target));
  window.crisisCell = { tick, refreshPanels };
  document.addEventListener("htmx:afterSettle", tick);

  // A poll (hx-trigger="every …": the notice of missing posts and the signals' re-check,
  // the campaigns' freeze, an evidence export being prepared) is sent by the page, not by
  // the person: while the server cannot be reached it fails at every turn (every minute,
  // every 3 s), and a toast each time said nothing new. A poll's failure is said once:
  // "cannot be reached" once for all the polls, until a request gets an answer again
  // (then "can be reached again"); a refusal once per poll, until that poll succeeds.
  // What the person asked for (a click, a form, a select) is always answered.
  // A proxy's answer that the app itself is down: nginx's 502/503/504 and Cloudflare's
  // 520–527 (origin unreachable, timed out, TLS failed...) and 530 (origin DNS).
  const GATEWAY = new Set([502, 503, 504, 520, 521, 522, 523, 524, 525, 526, 527, 530]);
  const polled = (detail) => !detail.requestConfig?.triggeringEvent
    && /(^|,)\s*every\s/.test(detail.requestConfig?.elt?.getAttribute?.("hx-trigger") ?? "");
  const reached = (xhr) => Boolean(xhr) && xhr.status > 0 && !GATEWAY.has(xhr.status);
  let unreachableSince = null;  // when "cannot be reached" was said, no answer since (a Date)
  const refusedPolls = new WeakSet();  // polls whose refusal was said, no success since

  // The toast goes after 6 s, and the page then shows what may be no longer true ("Nothing
  // abnormal: no open signal") with no sign of it: the bar (base.html, #offline-notice)
  // says since when, as long as unreachableSince holds. Filled and emptied, never hidden:
  // a live region already on the page is read out when its text arrives.
  function showOffline() {
    const bar = document.getElementById("offline-notice");
    if (!bar) return;
    if (!unreachableSince) { bar.textContent = ""; return; }
    // The page's TIME_FORMAT, "H:i" in every language (crisiscell/formats), in the
    // viewer's zone (the browser's, as the tz cookie tells the server).
    const time = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
      { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(unreachableSince);
    bar.textContent = bar.dataset.text.replace("{time}", time);
  }

  function sayUnreachable(detail) {
    const quiet = polled(detail) && unreachableSince;
    if (!unreachableSince) {
      unreachableSince = new Date();
      showOffline();
    }
    if (!quiet) toast(strings().offline);
  }

  // Refused requests (403, 404, 409...) carry a readable message: show it, never fail silently.
  document.addEventListener("htmx:responseError", (event) => {
    const detail = event.detail;
    const xhr = detail.xhr;
    if (polled(detail)) {
      if (GATEWAY.has(xhr.status)) { sayUnreachable(detail); return; }
      const elt = detail.requestConfig.elt;
      if (refusedPolls.has(elt)) return;
      refusedPolls.add(elt);
    }
    let message = strings().error;
    try {
      message = JSON.parse(xhr.responseText).detail || message;
    } catch {
      const text = new DOMParser().parseFromString(xhr.responseText, "text/html").body.textContent;
      if (text && text.trim().length < 300) message = text.trim();
    }
    toast(message);
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const detail = event.detail;
    if (!reached(detail.xhr)) return;
    if (unreachableSince) {
      unreachableSince = null;
      showOffline();
      toast(strings().online);
    }
    if (detail.successful && polled(detail)) refusedPolls.delete(detail.requestConfig.elt);
  });
  // A refusal (422) to a form that swaps nothing (the room's Detach: its panel refreshes
  // itself) has no place to go: show it as a message too.
  document.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail.xhr;
    if (xhr?.status !== 422 || event.detail.elt?.getAttribute?.("hx-swap") !== "none") return;
    const text = new DOMParser().parseFromString(xhr.responseText, "text/html").body.textContent;
    toast(text?.trim() || strings().error);
  });
  document.addEventListener("htmx:sendError", (event) => sayUnreachable(event.detail));
  // What an action says besides refreshing the panels (incidents/shortcuts.py, `done`).
  document.addEventListener("room-message", (event) => {
    if (event.detail?.message) toast(event.detail.message);
  });

  // No inline handlers (the Content-Security-Policy allows no inline script): forms marked
  // data-reset-on-success empty themselves once htmx posted them successfully, and the
  // language menu submits its form on change.
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (!(form instanceof HTMLFormElement)) return;
    if ("resetOnSuccess" in form.dataset && event.detail.xhr.status === 200) {
      form.reset();
    }
    // The answer is in: a form still on the page (its answer went to another element, e.g.
    // an error beside it) can be sent again once corrected.
    form.querySelectorAll("[data-once]").forEach((button) => {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (button.dataset.label) button.textContent = button.dataset.label;
    });
  });
  document.addEventListener("change", (event) => {
    if (event.target.id === "language") event.target.form.submit();
  });

  // A panel that pages and filters in place keeps what it shows in the address bar, so a
  // reload or a shared link opens the same view: its state element, marked
  // data-address-state="<prefix>", holds the state the server rendered as hidden inputs
  // named with that prefix (the page reads the same names). Once it is swapped in, the
  // address's parameters with that prefix become those inputs; the others stay.
  function keepStateInAddress(root) {
    const holders = root.matches?.("[data-address-state]") ? [root] : [];
    holders.push(...(root.querySelectorAll?.("[data-address-state]") ?? []));
    if (!holders.length) return;
    const url = new URL(window.location.href);
    for (const holder of holders) {
      const prefix = holder.dataset.addressState;
      [...url.searchParams.keys()]
        .filter((name) => name.startsWith(prefix))
        .forEach((name) => url.searchParams.delete(name));
      holder.querySelectorAll("input[type=hidden][name]").forEach((input) => {
        if (input.name.startsWith(prefix) && input.value) url.searchParams.append(input.name, input.value);
      });
    }
    if (url.href !== window.location.href) window.history.replaceState(window.history.state, "", url);
  }
  document.addEventListener("htmx:afterSettle", (event) => keepStateInAddress(event.target));

  // The campaigns page: the running and upcoming campaigns' "during a promotion freeze"
  // marks follow the freeze notice. Those no event reaches see the notice turn on its
  // own minute refresh: the list, rendered with the state its data-frozen says, then
  // refreshes once (the server marks; nothing is decided here).
  document.addEventListener("htmx:afterSettle", (event) => {
    const notice = document.getElementById("campaign-freeze");
    const list = document.getElementById("upcoming-campaigns");
    if (!notice || !list || !(event.target instanceof Element) || !event.target.closest("#campaign-freeze")) return;
    if (list.dataset.frozen !== String(!notice.hidden)) list.dispatchEvent(new CustomEvent("panel-refresh"));
  });
})();
