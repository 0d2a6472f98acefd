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
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
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

  document.addEventListener("DOMContentLoaded", () => {
    tick();
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSettle", tick);

  // Refused requests (403, 404, 409...) carry a readable message: show it, never fail silently.
  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    let message = strings().error;
    try {
      message = JSON.parse(xhr.responseText).detail || message;
    } catch {
      const text = new DOMParser().parseFromString(xhr.responseText, "text/html").body.textContent;
      if (text && text.trim().length < 300) message = text.trim();
    }
    toast(message);
  });
  document.addEventListener("htmx:sendError", () => toast(strings().offline));
})();
