// The overlay builder: sign in (or the dashboard's session), pick options with a live
// preview of what plays now, mint an overlay token and copy its URL; list and revoke
// tokens (the core's component, as the dashboard's Admin tab). Talks to TuneDeck's own
// API only. A new token lives in this page's memory until it is closed: only its hash is
// stored, so its URL cannot be shown again.

import { api, describeError } from "../core/api.js";
import { setUserText } from "../core/dom.js";
import { OverlayTokens } from "../core/overlay_tokens.js";
import { currentSession, signIn, signInRefusal, signOut } from "../core/session.js";
import { SPEC, defaults, parse, toHash } from "./options.js";

const $ = (id) => document.getElementById(id);
const SIZES = { "1920x1080": [1920, 1080], "1280x720": [1280, 720], "400x120": [400, 120] };

class Builder {
  options = defaults();
  token = null; // {token, base} of the token minted on this page
  tokens = new OverlayTokens($("tokens").querySelector("tbody"), {
    buttonClass: "danger",
    confirm: (token) => Promise.resolve(window.confirm(`Revoke "${token.label}"? Overlays using it disappear at once.`)),
    onError: (error) => {
      const { message, fix } = describeError(error);
      $("tokens-error").textContent = fix ? `${message} ${fix}` : message;
    },
    onRevoked: (token) => {
      if (this.token && this.token.token.startsWith(token.prefix)) {
        this.token = null;
        $("url").value = "";
        $("copy").disabled = true;
        $("url-hint").textContent = "That token is revoked: create another one.";
      }
    },
  });

  async boot() {
    this.wire();
    try {
      const session = await currentSession();
      if (session) this.signedIn(session.me);
      else this.showSignIn();
    } catch (error) {
      const { message, fix } = describeError(error);
      this.showSignIn(fix ? `${message} ${fix}` : message);
    }
  }

  wire() {
    $("signin-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      $("signin-error").textContent = "";
      try {
        const session = await signIn($("key").value.trim());
        $("key").value = ""; // the key is not kept anywhere
        this.signedIn(session.me);
      } catch (error) {
        $("signin-error").textContent = signInRefusal(error);
      }
    });
    $("signout").addEventListener("click", async () => {
      try {
        await signOut();
      } catch {
        // Signed out here either way: the cookie goes with the session.
      }
      this.token = null;
      this.tokens.clear();
      $("preview").contentWindow.location.replace("about:blank");
      this.showSignIn();
    });
    api.onUnauthorized(() => this.showSignIn("Your session has ended. Sign in again."));
    $("reset").addEventListener("click", () => {
      this.options = defaults();
      this.buildForm();
      this.update();
    });
    $("source-size").addEventListener("change", () => this.sizeStage());
    window.addEventListener("resize", () => this.sizeStage());
    $("scene").addEventListener("change", () => {
      $("stage").className = `stage scene-${$("scene").value}`;
    });
    $("copy").addEventListener("click", () => this.copy());
    $("create-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      $("tokens-error").textContent = "";
      const created = await this.tokens.create($("label").value);
      if (!created) return;
      this.token = { token: created.token, base: created.overlay_url.split("#")[0] };
      this.update();
    });
    const form = $("options");
    form.addEventListener("input", () => this.readForm());
    form.addEventListener("change", () => this.readForm());
  }

  showSignIn(message = "") {
    $("app").hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = message;
    $("key").focus();
  }

  signedIn(me) {
    $("signin").hidden = true;
    $("app").hidden = false;
    $("who").hidden = false;
    setUserText($("who-name"), `${me.account.name} · ${me.label}`);
    const admin = me.permissions.includes("admin");
    $("tokens-denied").hidden = admin;
    $("create-form").hidden = !admin;
    $("tokens").hidden = !admin;
    this.buildForm();
    this.sizeStage();
    this.update();
    if (admin) this.tokens.load();
  }

  // -- options ----------------------------------------------------------------------------

  buildForm() {
    const form = $("options");
    form.replaceChildren(
      ...SPEC.map((spec) => {
        const row = document.createElement("div");
        row.className = `field field-${spec.kind}`;
        const id = `opt-${spec.name}`;
        const label = document.createElement("label");
        label.htmlFor = id;
        label.textContent = spec.label;
        const input = this.inputFor(spec, id);
        row.append(label, input);
        if (spec.kind === "color") row.append(this.swatchFor(spec, input));
        return row;
      }),
    );
  }

  inputFor(spec, id) {
    let input;
    if (spec.kind === "choice") {
      input = document.createElement("select");
      for (const choice of spec.choices) {
        const option = document.createElement("option");
        option.value = option.textContent = choice;
        input.append(option);
      }
      input.value = this.options[spec.name];
    } else if (spec.kind === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
      input.checked = this.options[spec.name];
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
      input.value = this.options[spec.name];
    }
    input.id = id;
    input.name = spec.name;
    return input;
  }

  swatchFor(spec, text) {
    const swatch = document.createElement("input");
    swatch.type = "color";
    swatch.setAttribute("aria-label", `${spec.label} picker`);
    swatch.tabIndex = -1;
    const hex = /^[0-9a-f]{6}/i.exec(text.value);
    if (hex) swatch.value = `#${hex[0]}`;
    swatch.addEventListener("input", (event) => {
      event.stopPropagation();
      const alpha = /^[0-9a-f]{6}([0-9a-f]{2})$/i.exec(text.value);
      text.value = swatch.value.slice(1) + (alpha ? alpha[1] : "");
      this.readForm();
    });
    return swatch;
  }

  readForm() {
    const raw = SPEC.map((spec) => {
      const input = $(`opt-${spec.name}`);
      const value = spec.kind === "bool" ? (input.checked ? "1" : "0") : input.value;
      return `${encodeURIComponent(spec.name)}=${encodeURIComponent(value)}`;
    });
    // The overlay's own parser decides: what it would ignore falls back to the default.
    const parsed = parse(`#${raw.join("&")}`);
    this.options = parsed.options;
    for (const spec of SPEC) $(`opt-${spec.name}`).classList.toggle("invalid", parsed.unknown.includes(spec.name));
    this.update();
  }

  // -- preview and URL --------------------------------------------------------------------

  update() {
    const hash = toHash("", this.options);
    // Signed in by now: the preview's feed authenticates with this browser's session.
    $("preview").contentWindow.location.replace(`/overlay#preview=1${hash ? `&${hash}` : ""}`);
    if (this.token) {
      $("url").value = `${this.token.base}#${toHash(this.token.token, this.options)}`;
      $("copy").disabled = false;
      $("url-hint").textContent = "Paste this URL into OBS. Anyone with it sees what you play.";
    }
  }

  sizeStage() {
    const [width, height] = SIZES[$("source-size").value];
    const stage = $("stage");
    const frame = $("preview");
    const scale = Math.min(1, stage.clientWidth / width);
    frame.style.width = `${width}px`;
    frame.style.height = `${height}px`;
    frame.style.transform = `scale(${scale})`;
    stage.style.height = `${Math.ceil(height * scale)}px`;
  }

  copy() {
    const url = $("url").value;
    const done = () => {
      $("copy").textContent = "Copied";
      setTimeout(() => {
        $("copy").textContent = "Copy";
      }, 1500);
    };
    const fallback = () => {
      $("url").select();
      if (document.execCommand("copy")) done();
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(url).then(done, fallback);
    else fallback();
  }
}

new Builder().boot();
