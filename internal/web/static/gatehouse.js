// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // The account switcher goes as soon as an account is chosen.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
    var button = select.form.querySelector("button");
    if (button) { button.hidden = true; }
  });
  // "Same as username": the e-mail field is shown only when it differs.
  var same = document.getElementById("same_as_username");
  var emailRow = document.getElementById("email-row");
  if (same && emailRow) {
    var sync = function () { emailRow.hidden = same.checked; };
    same.addEventListener("change", sync);
    sync();
  }
  // A photo chosen is shown before it is sent (read here, never uploaded
  // until the form is).
  document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
    var img = document.getElementById(input.dataset.preview);
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!img || !file || !/^image\/(jpeg|png)$/.test(file.type)) { if (img) { img.hidden = true; } return; }
      var reader = new FileReader();
      reader.onload = function () { img.src = reader.result; img.hidden = false; };
      reader.readAsDataURL(file);
    });
  });
  // A running bulk job: follow its progress without reloading the page.
  var progress = document.querySelector("progress[data-status-url]");
  if (progress) {
    var poll = function () {
      fetch(progress.dataset.statusUrl, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          progress.max = s.to_invite || 1;
          progress.value = s.processed;
          var label = document.getElementById("progress-label");
          if (label) { label.textContent = s.label; }
          if (s.status === "done") { window.location.reload(); } else { setTimeout(poll, 1000); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 1000);
  }
});

// The brand page's preview follows the colours and name as they are typed
// (nothing is saved until the form is).
document.addEventListener("DOMContentLoaded", function () {
  var preview = document.getElementById("brand-preview");
  if (!preview) { return; }
  var colour = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i;
  var follow = function (id, apply) {
    var input = document.getElementById(id);
    if (input) { input.addEventListener("input", function () { apply(input.value.trim()); }); }
  };
  follow("primary_colour", function (v) { if (colour.test(v)) { preview.style.setProperty("--preview-primary", v.charAt(0) === "#" ? v : "#" + v); } });
  follow("accent_colour", function (v) { if (colour.test(v)) { preview.style.setProperty("--preview-accent", v.charAt(0) === "#" ? v : "#" + v); } });
  follow("product_name", function (v) { document.getElementById("preview-name").textContent = v || preview.dataset.defaultName; });
});
