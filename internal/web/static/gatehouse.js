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
  // Passkeys: a form marked data-passkey asks its data-options address for
  // a ceremony (posting the form), has the browser create or use a passkey,
  // and submits the form with the browser's answer. Without WebAuthn the
  // form's message says no passkey was used.
  var b64 = {
    decode: function (s) {
      s = s.replace(/-/g, "+").replace(/_/g, "/");
      while (s.length % 4) { s += "="; }
      return Uint8Array.from(atob(s), function (c) { return c.charCodeAt(0); }).buffer;
    },
    encode: function (buf) {
      var bytes = new Uint8Array(buf), s = "";
      for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
      return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    }
  };
  var creationOptions = function (o) {
    o.challenge = b64.decode(o.challenge);
    o.user.id = b64.decode(o.user.id);
    (o.excludeCredentials || []).forEach(function (c) { c.id = b64.decode(c.id); });
    return o;
  };
  var requestOptions = function (o) {
    o.challenge = b64.decode(o.challenge);
    (o.allowCredentials || []).forEach(function (c) { c.id = b64.decode(c.id); });
    return o;
  };
  var credentialJSON = function (cred) {
    var r = cred.response, out = { id: cred.id, rawId: b64.encode(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}, response: {
        clientDataJSON: b64.encode(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = b64.encode(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = b64.encode(r.authenticatorData);
      out.response.signature = b64.encode(r.signature);
      if (r.userHandle) { out.response.userHandle = b64.encode(r.userHandle); }
    }
    return JSON.stringify(out);
  };
  var ceremony = function (form) {
    return fetch(form.dataset.options, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(new FormData(form)) })
      .then(function (r) { if (!r.ok) { throw new Error("options " + r.status); } return r.json(); });
  };
  var finish = function (form, c, cred) {
    form.elements.ceremony.value = c.ceremony;
    form.elements.credential.value = credentialJSON(cred);
    form.submit();
  };
  var pending = null; // the conditional request waiting in the username field
  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var failed = form.querySelector("[data-passkey-error]");
    var fail = function () { if (failed) { failed.hidden = false; } };
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!window.PublicKeyCredential) { fail(); return; }
      if (failed) { failed.hidden = true; }
      if (pending) { pending.abort(); pending = null; }
      ceremony(form).then(function (c) {
        var pk = c.options.publicKey;
        var asked = form.dataset.passkey === "create" ?
          navigator.credentials.create({ publicKey: creationOptions(pk) }) :
          navigator.credentials.get({ publicKey: requestOptions(pk) });
        return asked.then(function (cred) { if (!cred) { throw new Error("none"); } finish(form, c, cred); });
      }).catch(fail);
    });
    // Passkeys offered among the username field's suggestions, where the
    // browser can (conditional mediation).
    if (form.dataset.conditional && window.PublicKeyCredential && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (!ok) { return; }
        ceremony(form).then(function (c) {
          pending = new AbortController();
          return navigator.credentials.get({ publicKey: requestOptions(c.options.publicKey), mediation: "conditional", signal: pending.signal })
            .then(function (cred) { if (cred) { finish(form, c, cred); } });
        }).catch(function () {});
      });
    }
  });
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
