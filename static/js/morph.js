// Live refreshes never destroy what someone is typing.
//
// A panel (an element marked data-panel="<name>", see incidents/panels.py) that re-renders
// itself, after a live event or the person's own action, is MORPHED into the server's new
// HTML (idiomorph, static/vendor/idiomorph, through its htmx extension) instead of being
// replaced: nodes that did not change stay the same nodes, so focus, caret and scroll stay
// put, and:
//   - a form the person is filling (a field typed in since the page, or the form's last
//     successful send, gave it its value; or a text field with the focus) keeps every one
//     of its fields as they are, hidden ones included (its `revision` stays the one the
//     person started from, so saving over somebody else's newer text is still a conflict);
//   - a node holding such a form is never removed (it is marked data-stale instead: the
//     server refuses what no longer applies, and the text is still there to copy);
//   - an open <details> stays open and a closed one closed (the person chose).
// A field's typed state is cleared when its form is reset or sent successfully, so the
// next refresh shows the server's values again (the add-member form is ready for the next
// person, still open).
(() => {
  "use strict";

  if (!window.Idiomorph || !window.htmx) return;

  const TEXT_TYPES = new Set([
    "text", "search", "url", "email", "tel", "number", "password",
    "date", "datetime-local", "time", "month", "week",
  ]);
  const typed = new WeakSet(); // fields changed by the person since the server gave them

  const isField = (node) => node instanceof HTMLInputElement
    || node instanceof HTMLTextAreaElement || node instanceof HTMLSelectElement;
  const isTextEntry = (node) => node instanceof HTMLTextAreaElement
    || (node instanceof HTMLInputElement && TEXT_TYPES.has(node.type));

  // What the server gave the field (its default), compared with what it holds now.
  function changed(field) {
    if (field instanceof HTMLSelectElement) {
      const options = [...field.options];
      if (field.multiple) return options.some((option) => option.selected !== option.defaultSelected);
      return field.selectedIndex !== Math.max(0, options.findIndex((option) => option.defaultSelected));
    }
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field.type === "file") return field.files && field.files.length > 0;
    return field.value !== field.defaultValue;
  }

  function inUse(field) {
    return typed.has(field) || (field === document.activeElement && isTextEntry(field));
  }

  // The fields a morph must leave alone: every field of a form in use (hidden ones too),
  // or the field itself when it belongs to no form.
  function protectedField(node) {
    if (!isField(node)) return false;
    const form = node.form;
    if (!form) return inUse(node);
    return [...form.elements].some((el) => isField(el) && inUse(el));
  }

  function holdsWork(node) {
    if (!(node instanceof Element)) return false;
    if (isField(node)) return inUse(node);
    return [...node.querySelectorAll("input, textarea, select")].some(inUse);
  }

  function forget(form) {
    if (!form) return;
    [...form.elements].forEach((el) => typed.delete(el));
  }

  // Typing marks a field; putting it back as the server gave it unmarks it.
  const onEdit = (event) => {
    const field = event.target;
    if (!isField(field) || field.type === "hidden") return;
    if (changed(field)) typed.add(field);
    else typed.delete(field);
  };
  document.addEventListener("input", onEdit, true);
  document.addEventListener("change", onEdit, true);
  document.addEventListener("reset", (event) => forget(event.target), true);
  // Sent and accepted: the server's next rendering is the truth again. (401/403 are sent
  // again after signing in, static/js/keep.js; 422 is "fix the form": both keep the marks.)
  document.addEventListener("htmx:afterRequest", (event) => {
    const status = event.detail.xhr?.status ?? 0;
    if (status < 200 || status >= 300) return;
    const elt = event.detail.elt;
    forget(elt instanceof HTMLFormElement ? elt : elt?.form || elt?.closest?.("form"));
  });

  const callbacks = Idiomorph.defaults.callbacks;
  callbacks.beforeNodeMorphed = (oldNode, newNode) => {
    if (protectedField(oldNode)) return false;
    // Forms have no ids: never turn a form in use into another form (another action).
    if (oldNode instanceof HTMLFormElement && newNode instanceof Element
        && oldNode.getAttribute("action") !== newNode.getAttribute("action") && holdsWork(oldNode)) {
      return false;
    }
    return true;
  };
  callbacks.beforeNodeRemoved = (node) => {
    // What a script added for the person (static/js/keep.js's "Restored…" note).
    if (node instanceof Element && node.hasAttribute("data-morph-keep")) return false;
    if (!holdsWork(node)) return true;
    node.setAttribute("data-stale", "");
    return false;
  };
  callbacks.beforeAttributeUpdated = (name, element) => {
    if (name === "open" && element instanceof HTMLDetailsElement) return false;
    return true;
  };

  // Every swap into a panel morphs (the panel's own hx-swap, innerHTML or outerHTML,
  // morphed): declared here once rather than on each panel of each page.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail;
    const target = detail.target;
    if (!detail.shouldSwap || !(target instanceof Element) || !target.hasAttribute("data-panel")) return;
    const declared = (target.getAttribute("hx-swap") || "innerHTML").trim().split(/\s+/)[0];
    if (declared === "innerHTML" || declared === "outerHTML") {
      // The override replaces the whole swap: keep the requesting element's modifiers
      // ("show:#mentions-panel:top" on a pager brings the new page's top into view).
      const own = (detail.requestConfig && detail.requestConfig.elt
        && detail.requestConfig.elt.getAttribute("hx-swap")) || "";
      const modifiers = own.trim().split(/\s+/).filter((part) => part.includes(":"));
      detail.swapOverride = [`morph:${declared}`, ...modifiers].join(" ");
    }
  });
})();
