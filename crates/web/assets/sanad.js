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
  // A chosen text file fills the textarea named by data-fill (the design and outcome forms):
  // the file is read here and sent as the pasted text, so the server needs no multipart
  // upload; data-name names a field that gets the file's name (the one errors cite).
  document.querySelectorAll("input[type=file][data-fill]").forEach((el) => {
    el.addEventListener("change", () => {
      const target = document.getElementById(el.getAttribute("data-fill"));
      const named = document.getElementById(el.getAttribute("data-name") || "");
      const file = el.files && el.files[0];
      if (target && file) file.text().then((t) => { target.value = t; });
      if (named && file) named.value = file.name;
    });
  });
});
