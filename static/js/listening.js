// The Listening page's "Attach selected to incident…" (templates/listening/_stream.html):
// a plain form that works without this script, which adds "Select all shown", the count
// of selected mentions, and one rule for the live refresh:
//
// While any mention is selected, the stream does not refresh itself (its live
// "panel-refresh" request is cancelled and a note says new mentions wait); it refreshes
// once when the selection is attached or cleared. A refresh would move the mentions under
// the person's pointer while they tick them, and could drop from the page (or keep as a
// stale ghost) a mention they had ticked: neither is acceptable while choosing what to
// attach. What changed meanwhile is the server's to sort out: a mention that someone else
// attached elsewhere in the meantime is named on the confirmation page and left there.
(() => {
  "use strict";

  const stream = document.getElementById("listening-stream");
  if (!stream) return;
  const strings = () => document.getElementById("listening-strings")?.dataset ?? {};
  let waiting = false; // a refresh was held back while something was selected

  const boxes = () => [...stream.querySelectorAll('input[type="checkbox"][name="mentions"][form="attach-selected"]')];
  const selectedCount = () => boxes().filter((box) => box.checked).length;

  function update() {
    const form = document.getElementById("attach-selected");
    if (!form) return;
    const all = boxes();
    const n = all.filter((box) => box.checked).length;
    const toggleLabel = form.querySelector("[data-select-all-label]");
    const toggle = form.querySelector("[data-select-all]");
    const count = form.querySelector("[data-selected-count]");
    const clear = form.querySelector("[data-clear-selection]");
    if (toggleLabel) toggleLabel.hidden = all.length === 0;
    if (toggle) {
      toggle.checked = n > 0 && n === all.length;
      toggle.indeterminate = n > 0 && n < all.length;
    }
    if (count) {
      count.hidden = n === 0;
      count.textContent = (n === 1 ? strings().selectedOne : strings().selectedMany || "{n}").replace("{n}", n);
    }
    if (clear) clear.hidden = n === 0;
    // Nothing ticked, nothing to attach: the button waits (without this script, the
    // server says "Tick at least one mention").
    const attach = form.querySelector("[data-attach-selected]");
    if (attach) attach.disabled = n === 0;
    form.querySelector("[data-stream-paused]").hidden = !(waiting && n > 0);
    stream.toggleAttribute("data-selecting", n > 0);
    if (n === 0 && waiting) {
      waiting = false;
      stream.dispatchEvent(new CustomEvent("panel-refresh"));
    }
  }

  stream.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches?.("[data-select-all]")) {
      boxes().forEach((box) => { box.checked = target.checked; });
    }
    update();
  });
  // "Clear" is the form's reset button: the boxes are reset after the event.
  stream.addEventListener("reset", () => setTimeout(update, 0));

  // The stream's own live refresh (its hx-get on "panel-refresh"): held while selecting.
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt !== stream || selectedCount() === 0) return;
    event.preventDefault();
    waiting = true;
    update();
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.target === stream || stream.contains(event.target)) update();
  });
  document.addEventListener("DOMContentLoaded", update);
  // Back to the page from the confirmation: the browser may restore ticked boxes.
  window.addEventListener("pageshow", update);
})();
