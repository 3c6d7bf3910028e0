// The request rules editor: the channel's settings (open, closed message, duplicate
// window, blocklists, allowlist playlist) and every rule of each role (broadcaster,
// moderator, vip, subscriber, regular), one role shown at a time. The form is the draft:
// switching roles keeps every role's edits. Each field is checked here, in words, beside
// it; what the server refuses (422 naming the field) is shown beside that field too.

import { api } from "../../core/api.js";
import { $, el } from "../../core/dom.js";
import { applyPermissions, showError, toast } from "./ui.js";
import { store, TOPIC } from "./store.js";

const MODERATE = "requests:moderate";
const ROLES = [
  ["broadcaster", "Broadcaster"],
  ["moderator", "Moderators"],
  ["vip", "VIPs"],
  ["subscriber", "Subscribers"],
  ["regular", "Everyone else"],
];
const DAY = 86400;

/* A rule of a role: its field, label, kind, and for numbers the unit shown, the
 * conversion to the stored value, the range (in shown units) and whether empty means
 * "no limit". */
const ROLE_FIELDS = [
  { name: "can_request", label: "May request songs", kind: "bool" },
  { name: "bypass_closed", label: "May request while requests are closed", kind: "bool" },
  { name: "approval_required", label: "Requests wait for a moderator's approval", kind: "bool" },
  { name: "max_waiting", label: "Requests waiting per viewer", unit: "requests", kind: "number", min: 1, max: 1000, nullable: true },
  { name: "cooldown_seconds", label: "Time between one viewer's requests", unit: "seconds", kind: "number", min: 0, max: DAY },
  { name: "max_queue_length", label: "No new request once this many wait", unit: "songs", kind: "number", min: 1, max: 10000, nullable: true },
  { name: "max_track_ms", label: "Longest song", unit: "seconds", kind: "number", min: 1, max: DAY, nullable: true, scale: 1000 },
  { name: "explicit_allowed", label: "Explicit songs allowed", kind: "bool" },
  { name: "duplicates_allowed", label: "May request a song already waiting or just played", kind: "bool" },
  { name: "lists_apply", label: "Blocked songs, artists and the allowlist apply", kind: "bool" },
];
const CHANNEL_FIELDS = [
  { name: "duplicate_window_minutes", label: "A played song may be requested again after", unit: "minutes", kind: "number", min: 0, max: 7 * 24 * 60 },
  { name: "blocked_tracks", label: "Blocked songs (one Spotify track link or spotify:track: uri a line)", kind: "list", pattern: /^spotify:track:[0-9A-Za-z]{22}$/, what: "track" },
  { name: "blocked_artists", label: "Blocked artists (one Spotify artist link or spotify:artist: uri a line)", kind: "list", pattern: /^spotify:artist:[0-9A-Za-z]{22}$/, what: "artist" },
  { name: "allowlist_playlist", label: "Only songs of this playlist (a link or its id; empty: any song)", kind: "playlist" },
];

const fieldId = (path) => `rule-${path.replace(/\./g, "-")}`;

/** A Spotify link (open.spotify.com/…/track/ID) as its uri; anything else as typed. */
function asUri(text, what) {
  const link = new RegExp(`open\\.spotify\\.com/(?:[a-z-]+/)?${what}/([0-9A-Za-z]{22})`).exec(text);
  return link ? `spotify:${what}:${link[1]}` : text;
}

function errorSlot(path) {
  return el("p", { class: "field-error", id: `${fieldId(path)}-error`, "aria-live": "polite" });
}

function inputFor(field, path) {
  const id = fieldId(path);
  const described = `${id}-error`;
  if (field.kind === "bool") {
    return el(
      "label",
      { class: "check", for: id },
      el("input", { id, type: "checkbox", name: path, "data-permission": MODERATE, "aria-describedby": described }),
      el("span", {}, field.label),
    );
  }
  const control =
    field.kind === "list"
      ? el("textarea", { id, name: path, rows: 3, spellcheck: "false", "data-permission": MODERATE, "aria-describedby": described })
      : el("input", {
          id,
          name: path,
          type: field.kind === "number" ? "number" : "text",
          inputmode: field.kind === "number" ? "numeric" : undefined,
          min: field.min,
          max: field.max,
          step: field.kind === "number" ? 1 : undefined,
          placeholder: field.nullable ? "no limit" : undefined,
          spellcheck: "false",
          "data-permission": MODERATE,
          "aria-describedby": described,
        });
  const unit = field.unit ? el("span", { class: "unit muted small" }, field.unit) : null;
  return el(
    "div",
    { class: "field-line" },
    el("label", { for: id }, field.label),
    el("div", { class: "with-unit" }, control, unit),
  );
}

function fieldRow(field, path) {
  return el("div", { class: `rule-field rule-${field.kind}`, dataset: { path } }, inputFor(field, path), errorSlot(path));
}

function buildForm(form) {
  const picker = el(
    "div",
    { class: "role-picker", role: "radiogroup", "aria-label": "Rules of" },
    ROLES.map(([role, label], index) =>
      el(
        "label",
        { class: "role-choice" },
        el("input", { type: "radio", name: "role-shown", value: role, checked: index === ROLES.length - 1 }),
        el("span", {}, label),
      ),
    ),
  );
  const roleSets = ROLES.map(([role, label]) =>
    el(
      "fieldset",
      { class: "role-rules", dataset: { role }, hidden: role !== "regular" },
      el("legend", {}, `Rules for ${label.toLowerCase()}`),
      ROLE_FIELDS.map((field) => fieldRow(field, `roles.${role}.${field.name}`)),
    ),
  );
  const channel = el(
    "fieldset",
    { class: "role-rules" },
    el("legend", {}, "Every viewer"),
    CHANNEL_FIELDS.map((field) => fieldRow(field, field.name)),
  );
  form.replaceChildren(
    picker,
    ...roleSets,
    channel,
    el(
      "div",
      { class: "row" },
      el("button", { class: "btn primary", type: "submit", "data-permission": MODERATE }, "Save the rules"),
      el("button", { class: "btn", type: "button", id: "req-rules-reset" }, "Undo changes"),
    ),
    el("p", { class: "form-error", id: "req-rules-error", role: "alert" }),
  );
  form.addEventListener("change", (event) => {
    if (event.target.name === "role-shown") showRole(form, event.target.value);
  });
}

function showRole(form, role) {
  for (const set of form.querySelectorAll("fieldset[data-role]")) set.hidden = set.dataset.role !== role;
  const radio = form.querySelector(`input[name="role-shown"][value="${role}"]`);
  if (radio) radio.checked = true;
}

function valueAt(document, path) {
  return path.split(".").reduce((node, key) => (node == null ? undefined : node[key]), document);
}

function fill(form, settings) {
  const put = (field, path) => {
    const input = form.querySelector(`#${fieldId(path)}`);
    const value = valueAt(settings, path);
    if (field.kind === "bool") input.checked = Boolean(value);
    else if (field.kind === "list") input.value = (value || []).slice().sort().join("\n");
    else if (field.kind === "number") input.value = value == null ? "" : String(value / (field.scale || 1));
    else input.value = value || "";
  };
  for (const [role] of ROLES) for (const field of ROLE_FIELDS) put(field, `roles.${role}.${field.name}`);
  for (const field of CHANNEL_FIELDS) put(field, field.name);
  clearErrors(form);
}

function clearErrors(form) {
  for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  $("#req-rules-error").textContent = "";
}

/** A field's value as the server takes it, or {error} in words. */
function readField(field, input) {
  if (field.kind === "bool") return { value: input.checked };
  const text = input.value.trim();
  if (field.kind === "number") {
    if (text === "") return field.nullable ? { value: null } : { error: `Enter a whole number of ${field.unit}.` };
    if (!/^\d+$/.test(text)) return { error: `Enter a whole number of ${field.unit}${field.nullable ? ", or leave it empty for no limit" : ""}.` };
    const number = Number(text);
    const unit = field.min === 1 ? field.unit.replace(/s$/, "") : field.unit;
    if (number < field.min) return { error: `At least ${field.min} ${unit}${field.nullable ? " (or empty: no limit)" : ""}.` };
    if (number > field.max) return { error: `At most ${field.max} ${field.unit}.` };
    return { value: number * (field.scale || 1) };
  }
  if (field.kind === "list") {
    const values = text.split(/\s+/).filter(Boolean).map((line) => asUri(line, field.what));
    const wrong = values.find((value) => !field.pattern.test(value));
    if (wrong) return { error: `“${wrong.slice(0, 60)}” is not a Spotify ${field.what} link or uri.` };
    return { value: [...new Set(values)] };
  }
  if (!text) return { value: null };
  const id = asUri(text, "playlist").replace(/^spotify:playlist:/, "");
  return /^[0-9A-Za-z]{22}$/.test(id) ? { value: id } : { error: "Not a Spotify playlist link or id." };
}

function showFieldError(form, path, message) {
  const slot = form.querySelector(`#${fieldId(path)}-error`);
  if (!slot) return false;
  slot.textContent = message;
  const input = form.querySelector(`#${fieldId(path)}`);
  input.setAttribute("aria-invalid", "true");
  const role = /^roles\.([a-z]+)\./.exec(path);
  if (role) showRole(form, role[1]);
  input.focus();
  return true;
}

/** The document the form says, built over the current settings; {errors} if any field is wrong. */
function readForm(form, current) {
  const doc = JSON.parse(JSON.stringify(current));
  const errors = [];
  const take = (field, path) => {
    const input = form.querySelector(`#${fieldId(path)}`);
    const read = readField(field, input);
    if (read.error) errors.push([path, read.error]);
    else {
      const keys = path.split(".");
      const last = keys.pop();
      keys.reduce((node, key) => node[key], doc)[last] = read.value;
    }
  };
  for (const [role] of ROLES) for (const field of ROLE_FIELDS) take(field, `roles.${role}.${field.name}`);
  for (const field of CHANNEL_FIELDS) take(field, field.name);
  return { document: doc, errors };
}

export function createRequestSettings() {
  async function load() {
    if (!store.can("requests:read")) return;
    try {
      store.setRequestSettings(await api.get("/v1/requests/settings"));
    } catch (error) {
      showError(error);
    }
  }

  async function save(form) {
    const current = store.requestSettings;
    if (!current) return;
    clearErrors(form);
    const { document: wanted, errors } = readForm(form, current.settings);
    if (errors.length) {
      for (const [path, message] of errors.reverse()) showFieldError(form, path, message);
      $("#req-rules-error").textContent = "Some rules need fixing (see beside each field).";
      return;
    }
    try {
      store.setRequestSettings(await api.call("/v1/requests/settings", { method: "PUT", body: wanted }));
      toast("The request rules are saved.");
    } catch (error) {
      if (error.status !== 422 && error.status !== 400) {
        showError(error);
        return;
      }
      // "roles.regular.max_waiting: must be at least 1 request, or null for no limit"
      const named = /^([a-z_.]+): (.*)$/s.exec(error.message || "");
      const path = (error.details && error.details.field) || (named && named[1]);
      const message = named ? named[2] : error.message;
      if (!path || !showFieldError(form, path, `${message[0].toUpperCase()}${message.slice(1)}.`)) {
        $("#req-rules-error").textContent = error.message;
      } else {
        $("#req-rules-error").textContent = "Some rules need fixing (see beside each field).";
      }
    }
  }

  function init() {
    const form = $("#req-rules");
    buildForm(form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      save(form);
    });
    $("#req-rules-reset").addEventListener("click", () => {
      if (store.requestSettings) fill(form, store.requestSettings.settings);
    });
    store.on(TOPIC.REQUEST_SETTINGS, (settings) => {
      if (settings) fill(form, settings.settings);
      applyPermissions(form);
    });
    $("#req-rules-section").addEventListener("toggle", (event) => {
      if (event.target.open) load();
    });
  }

  return { init, load };
}
