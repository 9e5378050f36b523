// Trialdesk progressive enhancement: focus and announcements after htmx swaps; confirm dialogs.
document.addEventListener("htmx:afterSwap", (event) => {
  // A page restored from htmx's history (the Back button) is swapped in with no target: nothing to focus.
  const target = event.detail.target;
  if (!target) return;
  const focus = target.querySelector("[data-focus], [aria-invalid='true'], h1, h2");
  if (focus && target.id !== "customer-rows") {
    if (!focus.hasAttribute("tabindex") && !/^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(focus.tagName)) {
      focus.setAttribute("tabindex", "-1");
    }
    focus.focus({ preventScroll: false });
  }
  const live = document.getElementById("live");
  const message = target.querySelector("[data-announce]");
  if (live && message) live.textContent = message.getAttribute("data-announce");
});
document.addEventListener("htmx:beforeSwap", (event) => {
  // Forms answer 400/422 with the form and its errors next to the fields: swap them in.
  const status = event.detail.xhr && event.detail.xhr.status;
  if (status === 400 || status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
// <dialog> confirmations: a button with data-dialog="id" opens it; without JS the form posts
// to a confirmation page instead.
document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-dialog]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.dialog);
    if (dialog && dialog.showModal) { event.preventDefault(); dialog.showModal(); }
  }
  const closer = event.target.closest("[data-close]");
  if (closer) { event.preventDefault(); closer.closest("dialog").close(); }
});
// R-GEO-01: the data residency region appears as soon as a country is picked.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-region-output]");
  if (!select) return;
  const output = document.getElementById(select.dataset.regionOutput);
  const option = select.selectedOptions[0];
  if (output) output.textContent = (option && option.dataset.region) || "—";
});
// Phones (app.css): a stacked table row names each cell's column, from the table's header.
function labelCells(root) {
  root.querySelectorAll("table").forEach((table) => {
    const heads = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
    if (!heads.length) return;
    table.querySelectorAll("tbody tr").forEach((row) => {
      let column = 0;
      Array.from(row.children).forEach((cell) => {
        if (heads[column] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[column]);
        column += cell.colSpan || 1;
      });
    });
  });
}
document.addEventListener("DOMContentLoaded", () => labelCells(document));
document.addEventListener("htmx:afterSettle", () => labelCells(document));
// Every action that waits shows it (issue 27 item 6): while its request runs, the submit buttons
// of the form that sent it are disabled and busy (Pico draws a spinner). (hx-disabled-elt inherited
// from <body> would do the first, but logs an error for every boosted link, which has no button.)
document.addEventListener("htmx:beforeRequest", (event) => {
  event.detail.elt.querySelectorAll("button[type=submit]").forEach((button) => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  });
});
document.addEventListener("htmx:afterRequest", (event) => {
  event.detail.elt.querySelectorAll("button[aria-busy]").forEach((button) => {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  });
});
// Dates and times are shown in the reader's time zone (server.i18n.zone_of): tell the server which.
(function rememberTimeZone() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  // IANA names use only cookie-safe characters (letters, digits, / _ + -).
  if (/^[A-Za-z0-9/_+-]+$/.test(zone || "") && !document.cookie.split("; ").includes("td_tz=" + zone)) {
    document.cookie = "td_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
  }
})();
// A fixed field's error goes when it is fixed (issue 27 item 11): editing a field marked invalid
// clears its mark and its message; the server checks it again on the next step.
document.addEventListener("input", (event) => {
  const field = event.target.closest("[aria-invalid='true']");
  if (!field) return;
  field.removeAttribute("aria-invalid");
  (field.getAttribute("aria-describedby") || "").split(" ").forEach((id) => {
    const message = id && document.getElementById(id);
    if (message && message.classList.contains("field-error")) message.remove();
  });
  field.removeAttribute("aria-describedby");
});
// R-DEV-01: a device model's limit comes from the catalog (each option's data-max); picking a model
// sets its quantity field's max, so the wizard and the shipment form offer the same limits.
function applyLimit(select) {
  const field = document.getElementById(select.dataset.limits);
  const option = select.selectedOptions[0];
  if (field && option && option.dataset.max) field.max = option.dataset.max;
}
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-limits]");
  if (select) applyLimit(select);
});
function applyLimits(root) { root.querySelectorAll("select[data-limits]").forEach(applyLimit); }
document.addEventListener("DOMContentLoaded", () => applyLimits(document));
document.addEventListener("htmx:afterSettle", () => applyLimits(document));
