// Evidence upload in the incident room: drop files, paste a screenshot (Ctrl+V) or choose
// files; each is sent on its own to the API with the details typed in the form, so each
// shows its own progress, its hash when stored, or the server's reason when refused.
// Without JavaScript the form posts every file at once to the page view.
(() => {
  "use strict";

  const form = document.getElementById("evidence-upload");
  if (!form || !window.fetch || !window.FormData) return;

  const input = form.querySelector("input[type=file]");
  const dropzone = form.querySelector(".dropzone");
  const queue = form.querySelector(".upload-queue");
  const slot = form.querySelector(".form-slot");
  const labels = form.dataset;
  let pending = [];

  function row(file) {
    const li = document.createElement("li");
    li.className = "upload-row";
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    const state = document.createElement("span");
    state.className = "upload-state muted small";
    state.textContent = labels.labelWaiting;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button button-small button-quiet";
    remove.textContent = labels.labelRemove;
    remove.addEventListener("click", () => {
      pending = pending.filter((entry) => entry.li !== li);
      li.remove();
    });
    li.append(name, state, remove);
    queue.append(li);
    return { li, state, remove };
  }

  function add(files) {
    slot.textContent = "";
    for (const file of files) {
      const named = file.name && file.name !== "image.png"
        ? file
        : new File([file], `${labels.labelPasted} ${new Date().toISOString().slice(0, 19).replace(/:/g, "-")}.png`, { type: file.type });
      pending.push({ file: named, ...row(named) });
    }
  }

  function detailsData() {
    const data = new FormData();
    form.querySelectorAll(".evidence-details [name]").forEach((field) => {
      if (!field.value) return;
      let value = field.value;
      // datetime-local has no zone: send it with the browser's offset.
      if (field.type === "datetime-local") value = new Date(value).toISOString();
      data.append(field.name, value);
    });
    if (!data.has("kind")) data.append("kind", form.querySelector("[name=kind]").value);
    return data;
  }

  async function send(entry) {
    const data = detailsData();
    data.append("file", entry.file, entry.file.name);
    entry.state.textContent = labels.labelSending;
    entry.remove.hidden = true;
    entry.li.dataset.state = "sending";
    let response;
    try {
      response = await fetch(labels.api, {
        method: "POST", body: data, credentials: "same-origin",
        // Read now: keep.js refreshes the form's token after signing in again.
        headers: { "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value, Accept: "application/json" },
      });
    } catch {
      entry.state.textContent = labels.labelFailed;
      entry.li.dataset.state = "failed";
      entry.remove.hidden = false;
      return false;
    }
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      const item = body[0];
      entry.li.dataset.state = "done";
      entry.state.textContent = `${labels.labelDone} ${item.label} · SHA-256 ${item.sha256.slice(0, 16)}…`;
      return true;
    }
    entry.li.dataset.state = "failed";
    entry.state.textContent = body.detail || labels.labelFailed;
    entry.remove.hidden = false;
    return false;
  }

  input.addEventListener("change", () => {
    add(input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach((type) => dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    dropzone.classList.add("is-over");
  }));
  ["dragleave", "drop"].forEach((type) => dropzone.addEventListener(type, () => {
    dropzone.classList.remove("is-over");
  }));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    add(event.dataTransfer.files);
  });
  // A pasted screenshot anywhere in the room, unless the person is typing text.
  document.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])];
    if (!files.length) return;
    event.preventDefault();
    add(files);
    form.scrollIntoView({ block: "nearest" });
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const waiting = pending.filter((entry) => entry.li.dataset.state !== "done" && entry.li.dataset.state !== "sending");
    if (!waiting.length) {
      slot.innerHTML = "";
      const p = document.createElement("p");
      p.className = "form-error";
      p.textContent = labels.labelNone;
      slot.append(p);
      return;
    }
    const button = event.submitter;
    if (button) button.disabled = true;
    let stored = 0;
    for (const entry of waiting) {
      if (await send(entry)) stored += 1;
    }
    if (button) button.disabled = false;
    pending = pending.filter((entry) => entry.li.dataset.state !== "done");
    if (stored) {
      window.crisisCell.refreshPanels(["evidence"]);
      if (!pending.length) {
        form.querySelectorAll(".evidence-details [name]").forEach((field) => {
          if (field.tagName === "SELECT") field.selectedIndex = 0; else field.value = "";
        });
        window.crisisCellKeep?.clear(form);  // static/js/keep.js: the kept description too
      }
    }
  });
})();
