// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  var announcer = document.getElementById("announcer");

  function announce(text) {
    if (!announcer) return;
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // Copy buttons: shown only when script runs; copy the named read-only field.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var label = button.firstChild;
      var done = function () {
        announce("Copied to the clipboard");
        label.textContent = "Copied";
        window.setTimeout(function () { label.textContent = "Copy"; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.select();
        try { if (document.execCommand("copy")) done(); } catch (e) { /* the text stays selected */ }
      }
    });
  });

  // A field for one choice of a select (data-shown-for="<select id>:<value>"): hidden and
  // disabled otherwise, so it is neither seen nor sent; required while shown when marked so.
  document.querySelectorAll("[data-shown-for]").forEach(function (block) {
    var rule = block.getAttribute("data-shown-for").split(":");
    var select = document.getElementById(rule[0]);
    if (!select) return;
    var controls = block.querySelectorAll("input, select, textarea");
    var update = function () {
      var shown = select.value === rule[1];
      block.hidden = !shown;
      controls.forEach(function (control) {
        control.disabled = !shown;
        if (control.hasAttribute("data-required-when-shown")) control.required = shown;
      });
    };
    select.addEventListener("change", update);
    update();
  });

  // Confirmations for destructive forms (the server still requires the CSRF token).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
})();
