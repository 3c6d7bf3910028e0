/* TuneDeck overlay builder: sign in (the dashboard's session cookie), pick options with a
 * live preview of what plays now, mint an overlay token and copy its URL; list and revoke
 * tokens. Talks to TuneDeck's own API only. A new token lives in this page's memory
 * until it is closed: only its hash is stored, so its URL cannot be shown again. */
(function () {
  "use strict";
  var TD = window.TuneDeck;
  var $ = function (id) { return document.getElementById(id); };

  var csrf = null; // the session's CSRF token, for changes made with the cookie
  var options = TD.options.defaults();
  var token = null; // {token, base} of the token minted on this page
  var SIZES = { "1920x1080": [1920, 1080], "1280x720": [1280, 720], "400x120": [400, 120] };

  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
    return fetch(path, {
      method: method,
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      if (response.status === 204) return null;
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok) {
          var err = new Error((data && data.error && data.error.message) || response.statusText);
          err.status = response.status;
          throw err;
        }
        return data;
      });
    });
  }

  /* -- sign in ---------------------------------------------------------------------- */

  function boot() {
    // The session this browser already has (the dashboard's, or an earlier sign-in).
    api("GET", "/v1/session")
      .then(function (session) {
        csrf = session.csrf_token || null;
        return session.me;
      })
      .catch(function () { return api("GET", "/v1/me"); })
      .then(signedIn, showSignIn);
  }

  function showSignIn() {
    $("app").hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    $("key").focus();
  }

  $("signin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    $("signin-error").textContent = "";
    var key = $("key").value.trim();
    api("POST", "/v1/session", { key: key })
      .then(function (session) {
        $("key").value = "";
        csrf = session.csrf_token || null;
        signedIn(session.me);
      })
      .catch(function (err) { $("signin-error").textContent = err.message; });
  });

  $("signout").addEventListener("click", function () {
    api("DELETE", "/v1/session").catch(function () {}).then(function () {
      csrf = null;
      token = null;
      $("preview").contentWindow.location.replace("about:blank");
      showSignIn();
    });
  });

  function signedIn(me) {
    $("signin").hidden = true;
    $("app").hidden = false;
    $("who").hidden = false;
    $("who-name").textContent = me.account.name + " · " + me.label;
    var admin = me.permissions.indexOf("admin") >= 0;
    $("tokens-denied").hidden = admin;
    $("create-form").hidden = !admin;
    $("tokens").hidden = !admin;
    buildForm();
    sizeStage();
    update();
    if (admin) listTokens();
  }

  /* -- options ---------------------------------------------------------------------- */

  function buildForm() {
    var form = $("options");
    form.textContent = "";
    TD.options.SPEC.forEach(function (spec) {
      var row = document.createElement("div");
      row.className = "field field-" + spec.kind;
      var id = "opt-" + spec.name;
      var label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = spec.label;
      var input = inputFor(spec, id);
      row.appendChild(label);
      row.appendChild(input);
      if (spec.kind === "color") row.appendChild(swatchFor(spec, input));
      form.appendChild(row);
    });
    form.addEventListener("input", readForm);
    form.addEventListener("change", readForm);
  }

  function inputFor(spec, id) {
    var input;
    if (spec.kind === "choice") {
      input = document.createElement("select");
      spec.choices.forEach(function (choice) {
        var option = document.createElement("option");
        option.value = option.textContent = choice;
        input.appendChild(option);
      });
      input.value = options[spec.name];
    } else if (spec.kind === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
      input.checked = options[spec.name];
    } else {
      input = document.createElement("input");
      input.type = spec.kind === "number" ? "number" : "text";
      if (spec.kind === "number") {
        input.min = spec.min;
        input.max = spec.max;
        input.step = spec.step;
      }
      if (spec.kind === "color") input.placeholder = spec.art ? "hex, name or art" : "hex or name";
      if (spec.kind === "font") input.placeholder = "e.g. Montserrat, Segoe UI";
      input.value = options[spec.name];
    }
    input.id = id;
    input.name = spec.name;
    return input;
  }

  function swatchFor(spec, text) {
    var swatch = document.createElement("input");
    swatch.type = "color";
    swatch.setAttribute("aria-label", spec.label + " picker");
    swatch.tabIndex = -1;
    var hex = /^[0-9a-f]{6}/i.exec(text.value);
    if (hex) swatch.value = "#" + hex[0];
    swatch.addEventListener("input", function (event) {
      event.stopPropagation();
      var alpha = /^[0-9a-f]{6}([0-9a-f]{2})$/i.exec(text.value);
      text.value = swatch.value.slice(1) + (alpha ? alpha[1] : "");
      readForm();
    });
    return swatch;
  }

  function readForm() {
    var raw = [];
    TD.options.SPEC.forEach(function (spec) {
      var input = $("opt-" + spec.name);
      var value = spec.kind === "bool" ? (input.checked ? "1" : "0") : input.value;
      raw.push(encodeURIComponent(spec.name) + "=" + encodeURIComponent(value));
    });
    // The overlay's own parser decides: what it would ignore falls back to the default.
    var parsed = TD.options.parse("#" + raw.join("&"));
    options = parsed.options;
    TD.options.SPEC.forEach(function (spec) {
      $("opt-" + spec.name).classList.toggle("invalid", parsed.unknown.indexOf(spec.name) >= 0);
    });
    update();
  }

  $("reset").addEventListener("click", function () {
    options = TD.options.defaults();
    buildForm();
    update();
  });

  /* -- preview and URL -------------------------------------------------------------- */

  function update() {
    var hash = TD.options.toHash("", options);
    // Signed in by now: the preview's feed authenticates with this browser's session.
    $("preview").contentWindow.location.replace("/overlay#preview=1" + (hash ? "&" + hash : ""));
    if (token) {
      $("url").value = token.base + "#" + TD.options.toHash(token.token, options);
      $("copy").disabled = false;
      $("url-hint").textContent = "Paste this URL into OBS. Anyone with it sees what you play.";
    }
  }

  function sizeStage() {
    var size = SIZES[$("source-size").value];
    var stage = $("stage");
    var frame = $("preview");
    var scale = Math.min(1, stage.clientWidth / size[0]);
    frame.style.width = size[0] + "px";
    frame.style.height = size[1] + "px";
    frame.style.transform = "scale(" + scale + ")";
    stage.style.height = Math.ceil(size[1] * scale) + "px";
  }

  $("source-size").addEventListener("change", sizeStage);
  window.addEventListener("resize", sizeStage);
  $("scene").addEventListener("change", function () {
    $("stage").className = "stage scene-" + $("scene").value;
  });

  $("copy").addEventListener("click", function () {
    var url = $("url").value;
    var done = function () {
      $("copy").textContent = "Copied";
      setTimeout(function () { $("copy").textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(done, fallback);
    } else {
      fallback();
    }
    function fallback() {
      $("url").select();
      if (document.execCommand("copy")) done();
    }
  });

  /* -- tokens ----------------------------------------------------------------------- */

  $("create-form").addEventListener("submit", function (event) {
    event.preventDefault();
    $("tokens-error").textContent = "";
    api("POST", "/v1/overlay-tokens", { label: $("label").value.trim() || "overlay" })
      .then(function (created) {
        token = { token: created.token, base: created.overlay_url.split("#")[0] };
        update();
        listTokens(created.id);
      })
      .catch(function (err) { $("tokens-error").textContent = err.message; });
  });

  function listTokens(fresh) {
    api("GET", "/v1/overlay-tokens")
      .then(function (tokens) {
        var body = $("tokens").querySelector("tbody");
        body.textContent = "";
        tokens.sort(function (a, b) { return a.created_at < b.created_at ? 1 : -1; });
        tokens.forEach(function (t) { body.appendChild(tokenRow(t, t.id === fresh)); });
      })
      .catch(function (err) { $("tokens-error").textContent = err.message; });
  }

  function tokenRow(t, fresh) {
    var row = document.createElement("tr");
    row.dataset.id = t.id;
    if (fresh) row.className = "fresh";
    [t.label, t.prefix + "…", new Date(t.created_at).toLocaleString(),
     t.revoked_at ? "revoked" : fresh ? "active · in the URL above" : "active"]
      .forEach(function (text) {
        var cell = document.createElement("td");
        cell.textContent = text;
        row.appendChild(cell);
      });
    var action = document.createElement("td");
    if (!t.revoked_at) {
      var revoke = document.createElement("button");
      revoke.type = "button";
      revoke.className = "danger";
      revoke.textContent = "Revoke";
      revoke.addEventListener("click", function () { revokeToken(t); });
      action.appendChild(revoke);
    }
    row.appendChild(action);
    return row;
  }

  function revokeToken(t) {
    if (!window.confirm("Revoke \"" + t.label + "\"? Overlays using it disappear at once.")) return;
    api("DELETE", "/v1/overlay-tokens/" + encodeURIComponent(t.id))
      .then(function () {
        if (token && token.token.indexOf(t.prefix) === 0) {
          token = null;
          $("url").value = "";
          $("copy").disabled = true;
          $("url-hint").textContent = "That token is revoked: create another one.";
        }
        listTokens();
      })
      .catch(function (err) { $("tokens-error").textContent = err.message; });
  }

  boot();
})();
