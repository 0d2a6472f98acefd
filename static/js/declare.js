// Declaring an incident: offer only the playbooks that suit the chosen category and
// severity (the server checks it again).
(() => {
  "use strict";

  const select = document.getElementById("id_playbook");
  const data = document.getElementById("playbook-scopes");
  if (!select || !data) return;
  const scopes = JSON.parse(data.textContent);
  const category = document.getElementById("id_category");
  const severity = document.getElementById("id_severity");

  function filter() {
    const level = Number(severity.value);
    for (const option of select.options) {
      const scope = scopes[option.value];
      if (!scope) continue; // "No playbook"
      const suits = (!scope.categories.length || scope.categories.includes(category.value))
        && scope.min <= level && level <= scope.max;
      option.hidden = !suits;
      option.disabled = !suits;
      if (!suits && option.selected) select.value = "";
    }
  }

  category.addEventListener("change", filter);
  severity.addEventListener("change", filter);
  filter();
})();
