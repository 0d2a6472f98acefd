// Work is never lost to an expired session or a stale CSRF token.
//
// 1. Forms marked data-keep="<stable key>" keep what is typed in them in localStorage (per
//    signed-in user and key, 24 hours at most, bounded size) and give it back when the page
//    is loaded again with the form untouched ("Restored what you typed…", with Discard).
//    The kept copy goes once the server accepted the form: a 2xx answer to htmx, or, for
//    an ordinary post, the next page showing a success message.
// 2. An htmx request that comes back "signed out" (401 + X-Sign-In: required, from
//    crisiscell.middleware.HtmxSignInMiddleware) or "stale token" (403 + X-Sign-In: csrf,
//    crisiscell.errors.csrf_failure) is not swapped into the page: after a sign-in dialog
//    (or at once, if this browser is still signed in as the same person) the page's tokens
//    are refreshed and the request is sent once more. The form keeps its text throughout.
(() => {
  "use strict";

  const body = document.body;
  const user = body.dataset.user || "";
  const PREFIX = "crisiscell:keep:";
  const PENDING = "crisiscell:keep-pending";
  const MAX_AGE_MS = 24 * 60 * 60 * 1000;
  const MAX_CHARS = 100_000;  // one form's kept copy, serialised
  const MAX_DRAFTS = 50;
  const RETRY_HEADER = "X-Keep-Retry";

  const strings = () => document.getElementById("keep-strings")?.dataset ?? {};
  const appStrings = () => document.getElementById("i18n-strings")?.dataset ?? {};
  const storageKey = (form) => `${PREFIX}${user}:${form.dataset.keep}`;

  function storage(kind) {
    try { return window[kind]; } catch { return null; }  // disabled storage: keep nothing
  }
  const local = storage("localStorage");
  const session = storage("sessionStorage");

  // ---- 1. Keeping what was typed -------------------------------------------------------

  const SKIPPED = new Set(["file", "password", "submit", "button", "reset", "image"]);
  const TEXT = new Set(["textarea", "text", "url", "search", "email", "tel"]);

  function fields(form) {
    return [...form.elements].filter((el) => el.name && el.name !== "csrfmiddlewaretoken"
      && !SKIPPED.has(el.type) && el.tagName !== "BUTTON" && el.tagName !== "FIELDSET");
  }
  const isText = (el) => TEXT.has(el.type);
  const fieldId = (el) => (el.type === "checkbox" || el.type === "radio" ? `${el.name}=${el.value}` : el.name);

  function valueOf(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked;
    if (el.type === "select-multiple") return [...el.selectedOptions].map((o) => o.value).join("\n");
    return el.value;
  }
  function initialOf(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.defaultChecked;
    if (el.type === "select-multiple") return [...el.options].filter((o) => o.defaultSelected).map((o) => o.value).join("\n");
    if (el.type === "select-one") return ([...el.options].find((o) => o.defaultSelected) || el.options[0])?.value ?? "";
    return el.defaultValue;
  }
  function setValue(el, value) {
    if (el.type === "checkbox" || el.type === "radio") el.checked = Boolean(value);
    else if (el.type === "select-multiple") {
      const chosen = new Set(String(value).split("\n"));
      [...el.options].forEach((o) => { o.selected = chosen.has(o.value); });
    } else el.value = value;
  }
  const pristine = (form) => fields(form).every((el) => valueOf(el) === initialOf(el));

  function read(key) {
    if (!local) return null;
    try {
      const draft = JSON.parse(local.getItem(key));
      if (draft && Date.now() - draft.t < MAX_AGE_MS && draft.f) return draft;
    } catch { /* unreadable: dropped below */ }
    local.removeItem(key);
    return null;
  }

  function forget(form) {
    local?.removeItem(storageKey(form));
    form.querySelector(".keep-note")?.remove();
  }

  function save(form) {
    if (!local || !user) return;
    // A form back to what the page gave it keeps nothing (e.g. a statement's saved text).
    if (pristine(form)) { local.removeItem(storageKey(form)); return; }
    const values = {};
    fields(form).forEach((el) => { values[fieldId(el)] = valueOf(el); });
    const text = JSON.stringify({ t: Date.now(), path: location.pathname, f: values });
    if (text.length > MAX_CHARS) return;  // far beyond any field's limit: not kept
    try {
      local.setItem(storageKey(form), text);
    } catch {
      prune(0);  // full: make room once
      try { local.setItem(storageKey(form), text); } catch { /* nothing more to do */ }
    }
  }

  // Expired copies go; at most MAX_DRAFTS (the most recent) stay.
  function prune(keep = MAX_DRAFTS) {
    if (!local) return;
    const drafts = [];
    for (let i = 0; i < local.length; i += 1) {
      const key = local.key(i);
      if (!key?.startsWith(PREFIX)) continue;
      let t = 0;
      try { t = JSON.parse(local.getItem(key)).t || 0; } catch { /* unreadable */ }
      drafts.push({ key, t });
    }
    drafts.sort((a, b) => b.t - a.t);
    drafts.forEach(({ key, t }, index) => {
      if (index >= keep || Date.now() - t >= MAX_AGE_MS) local.removeItem(key);
    });
  }

  // Forms already looked at (not an attribute: a live refresh morphs the page to the
  // server's HTML, static/js/morph.js).
  const seen = new WeakSet();
  function restore(form) {
    if (!user || seen.has(form)) return;
    seen.add(form);
    const draft = read(storageKey(form));
    if (!draft || !pristine(form)) return;
    const textFields = fields(form).filter(isText);
    const differs = textFields.some((el) => (draft.f[fieldId(el)] ?? el.value) !== el.value);
    if (!differs) return;
    fields(form).forEach((el) => {
      const id = fieldId(el);
      if (id in draft.f) setValue(el, draft.f[id]);
    });
    // Counters and other listeners see the restored text.
    textFields.forEach((el) => el.dispatchEvent(new Event("input", { bubbles: true })));
    const t = strings();
    const note = document.createElement("p");
    note.className = "keep-note";
    note.setAttribute("role", "status");
    note.setAttribute("data-morph-keep", "");  // not in the server's HTML: a refresh keeps it
    note.append(document.createTextNode(`${t.restored || "Restored what you typed before signing in."} `));
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button button-small button-quiet";
    discard.textContent = t.discard || "Discard";
    discard.addEventListener("click", () => {
      form.reset();
      forget(form);
      textFields.forEach((el) => el.dispatchEvent(new Event("input", { bubbles: true })));
    });
    note.append(discard);
    form.prepend(note);
  }

  function restoreAll(root) {
    root.querySelectorAll?.("form[data-keep]").forEach(restore);
  }

  const onEdit = (event) => {
    const form = event.target.form;
    if (form?.dataset.keep) save(form);
  };
  document.addEventListener("input", onEdit);
  document.addEventListener("change", onEdit);

  // htmx forms: the server accepted them (2xx; 422 is "fix the form").
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    const status = event.detail.xhr?.status ?? 0;
    if (form instanceof HTMLFormElement && form.dataset.keep && status >= 200 && status < 300) forget(form);
  });
  // Ordinary posts: remembered for the next page (on window: after app.js's confirm, and
  // htmx's and evidence.js's own handling, which cancel the browser's submission).
  window.addEventListener("submit", (event) => {
    const form = event.target;
    if (!event.defaultPrevented && form.dataset.keep && user) session?.setItem(PENDING, storageKey(form));
  });
  function settlePending() {
    const key = session?.getItem(PENDING);
    if (!key) return;
    session.removeItem(PENDING);
    if (document.querySelector(".message-success")) local?.removeItem(key);
  }

  // ---- 2. Signing in again without leaving the page ------------------------------------

  const dialog = document.getElementById("sign-in-dialog");
  const sessionUrl = body.dataset.sessionUrl;
  const loginPath = body.dataset.loginPath;
  let waiting = [];  // requests to send again once signed in

  function setToken(token) {
    let headers = {};
    try { headers = JSON.parse(body.getAttribute("hx-headers") || "{}"); } catch { /* rebuilt */ }
    headers["X-CSRFToken"] = token;
    body.setAttribute("hx-headers", JSON.stringify(headers));
    document.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach((input) => { input.value = token; });
  }

  async function sessionCall(init = {}) {
    const response = await fetch(sessionUrl, {
      credentials: "same-origin", ...init, headers: { Accept: "application/json", ...(init.headers || {}) },
    });
    const data = await response.json().catch(() => ({}));
    return { ok: response.ok, data };
  }

  function resume(data) {
    const retries = waiting;
    waiting = [];
    setToken(data.csrf_token);
    retries.forEach((retry) => retry());
  }

  async function needSignIn(retry, reason) {
    waiting.push(retry);
    if (waiting.length > 1) return;  // a dialog (or a check) is already under way
    if (reason === "csrf") {
      // Often still signed in (another tab signed in again): a fresh token is enough.
      try {
        const state = await sessionCall();
        if (state.ok && String(state.data.user) === user) { resume(state.data); return; }
      } catch { /* unreachable: the dialog says so */ }
    }
    const error = dialog.querySelector(".form-error");
    error.hidden = true;
    if (!dialog.open) dialog.showModal();
    dialog.querySelector("[name=username]").focus();
  }

  if (dialog && sessionUrl) {
    const form = dialog.querySelector("form");
    const error = dialog.querySelector(".form-error");
    const showError = (message) => { error.textContent = message; error.hidden = false; };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      let state;
      try {
        const fresh = await sessionCall();  // a token the server accepts now
        state = await sessionCall({
          method: "POST",
          body: new URLSearchParams(new FormData(form)),
          headers: { "X-CSRFToken": fresh.data.csrf_token },
        });
      } catch {
        showError(appStrings().offline || "The server cannot be reached.");
        return;
      }
      if (!state.ok) { showError(state.data.detail || appStrings().error || "Error"); return; }
      form.querySelector("[name=password]").value = "";
      if (String(state.data.user) !== user) {
        // Another account: nothing is sent under its name; the kept copy stays with its owner.
        waiting = [];
        dialog.close();
        window.alert(strings().otherUser || "Signed in as someone else.");
        window.location.reload();
        return;
      }
      const data = state.data;
      dialog.close();
      resume(data);
    });
    dialog.querySelector("[data-sign-in-cancel]").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => { waiting = []; });  // cancelled: the text stays put
  }

  const isLoginPage = (xhr) => {
    try { return Boolean(loginPath) && new URL(xhr.responseURL).pathname === loginPath; } catch { return false; }
  };

  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail;
    const xhr = detail.xhr;
    const signal = xhr.getResponseHeader("X-Sign-In");
    let reason = null;
    if (xhr.status === 401 && signal === "required") reason = "signin";
    else if (xhr.status === 403 && signal === "csrf") reason = "csrf";
    else if (isLoginPage(xhr)) reason = "signin";  // a redirect the middleware did not see
    if (!reason || !user || !dialog) return;
    if (detail.requestConfig?.headers?.[RETRY_HEADER]) return;  // once only: show the error
    detail.shouldSwap = false;
    detail.isError = false;
    const source = detail.requestConfig.elt;  // detail.elt is the target here
    const target = detail.target;
    const verb = detail.requestConfig.verb;
    const path = detail.pathInfo.requestPath;
    needSignIn(() => window.htmx.ajax(verb, path, {
      source, target, headers: { [RETRY_HEADER]: "1" },
    }), reason);
  });

  document.addEventListener("DOMContentLoaded", () => {
    settlePending();
    prune();
    restoreAll(document);
  });
  document.addEventListener("htmx:afterSettle", (event) => restoreAll(event.target));

  window.crisisCellKeep = { clear: forget };
})();
