// Sanad's only script besides htmx: small conveniences, no inline handlers (CSP).
document.addEventListener("DOMContentLoaded", () => {
  // Confirm buttons that change data irreversibly.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (e) => {
      if (!window.confirm(el.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
  // Auto-submit selects (language switcher).
  document.querySelectorAll("select[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form && el.form.requestSubmit());
  });
});
