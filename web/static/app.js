// Trialdesk progressive enhancement: focus and announcements after htmx swaps; confirm dialogs.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
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
  if (event.detail.xhr.status === 400 || event.detail.xhr.status === 422) {
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
