// Small enhancements only; every page works without JavaScript.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  field.select();
  const done = () => { button.textContent = "Copied"; setTimeout(() => (button.textContent = "Copy"), 1500); };
  if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, () => document.execCommand("copy") && done());
  else if (document.execCommand("copy")) done();
});

document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});

// "Use Default": the field shows it will be reset and cannot be edited while ticked.
function syncUseDefault(box) {
  const form = box.form;
  const input = form.querySelector(`[name="${box.dataset.useDefault}"]`);
  if (input) input.disabled = box.checked;
}
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-use-default]")) syncUseDefault(event.target);
  // A choice that reloads the page (the Content-Security-Policy allows no inline onchange).
  if (event.target.matches("[data-submit-on-change]")) event.target.form.submit();
});
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-use-default]").forEach(syncUseDefault);
});
