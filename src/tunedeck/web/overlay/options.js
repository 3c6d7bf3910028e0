// The overlay's options, in the URL fragment (/overlay#token=...&layout=card...). Shared
// by the overlay page and the builder. Every value is checked here; a bad one falls back
// to its default, so a mistyped URL still shows the overlay.

const POSITIONS = [
  "top-left", "top-center", "top-right",
  "center-left", "center", "center-right",
  "bottom-left", "bottom-center", "bottom-right",
];

/* name: [kind, default, extra]. Colours are hex without '#' (rrggbb or rrggbbaa) or a
 * CSS colour name; accent may also be "art" (the album art's own colour). */
export const SPEC = [
  { name: "layout", kind: "choice", def: "card", choices: ["card", "compact", "bar", "minimal"],
    label: "Layout" },
  { name: "position", kind: "choice", def: "bottom-left", choices: POSITIONS, label: "Position" },
  { name: "scale", kind: "number", def: 1, min: 0.5, max: 3, step: 0.05, label: "Scale" },
  { name: "margin", kind: "number", def: 24, min: 0, max: 400, step: 1, label: "Margin (px)" },
  { name: "width", kind: "number", def: 0, min: 0, max: 3840, step: 10,
    label: "Width (px, 0 = layout's)" },
  { name: "font", kind: "font", def: "", label: "Font family (installed on the PC)" },
  { name: "size", kind: "number", def: 0, min: 0, max: 96, step: 1,
    label: "Title size (px, 0 = layout's)" },
  { name: "text", kind: "color", def: "ffffff", label: "Text colour" },
  { name: "bg", kind: "color", def: "101014c7", label: "Background colour" },
  { name: "accent", kind: "color", def: "1db954", art: true, label: "Accent (or art)" },
  { name: "radius", kind: "number", def: 14, min: 0, max: 60, step: 1, label: "Corner radius (px)" },
  { name: "art", kind: "bool", def: true, label: "Album art" },
  { name: "album", kind: "bool", def: true, label: "Album / show" },
  { name: "requester", kind: "bool", def: true, label: "Who requested it (song requests)" },
  { name: "progress", kind: "bool", def: true, label: "Progress bar" },
  { name: "time", kind: "bool", def: true, label: "Times" },
  { name: "shadow", kind: "bool", def: true, label: "Text shadow" },
  { name: "animate", kind: "bool", def: true, label: "Animations" },
  { name: "hidepaused", kind: "bool", def: false, label: "Hide when paused" },
  { name: "showfor", kind: "number", def: 0, min: 0, max: 3600, step: 1,
    label: "Show for N s after a change (0 = always)" },
  { name: "idle", kind: "choice", def: "show", choices: ["show", "hide"],
    label: "When nothing plays" },
  { name: "ads", kind: "choice", def: "show", choices: ["show", "hide"], label: "During ads" },
  { name: "status", kind: "bool", def: false, label: "Show Spotify problems" },
];

const BY_NAME = {};
SPEC.forEach(function (o) { BY_NAME[o.name] = o; });

export function defaults() {
  var out = {};
  SPEC.forEach(function (o) { out[o.name] = o.def; });
  return out;
}

function cssSupports(prop, value) {
  return !!(window.CSS && CSS.supports && CSS.supports(prop, value));
}

/* A colour option as CSS: "ff0000" -> "#ff0000"; named colours and rgb() as they are. */
export function colorCss(value) {
  if (/^[0-9a-f]{3,4}$|^[0-9a-f]{6}$|^[0-9a-f]{8}$/i.test(value)) return "#" + value;
  return value;
}

function parseValue(spec, raw) {
  var value = raw.trim();
  switch (spec.kind) {
    case "choice":
      return spec.choices.indexOf(value) >= 0 ? value : undefined;
    case "number": {
      var n = Number(value);
      if (value === "" || !isFinite(n)) return undefined;
      return Math.min(spec.max, Math.max(spec.min, n));
    }
    case "bool":
      if (/^(1|true|yes|on)$/i.test(value)) return true;
      if (/^(0|false|no|off)$/i.test(value)) return false;
      return undefined;
    case "color":
      value = value.replace(/^#/, "");
      if (spec.art && value === "art") return value;
      return value.length <= 40 && cssSupports("color", colorCss(value)) ? value : undefined;
    case "font":
      if (value === "") return "";
      return value.length <= 100 && /^[\w\s,'"-]+$/.test(value) &&
        cssSupports("font-family", value) ? value : undefined;
  }
  return undefined;
}

/* The fragment (location.hash) as {token, preview, options, unknown: [names]}. */
export function parse(hash) {
  var params = new URLSearchParams((hash || "").replace(/^#/, ""));
  var options = defaults();
  var unknown = [];
  params.forEach(function (raw, name) {
    if (name === "token" || name === "preview") return;
    var spec = BY_NAME[name];
    var value = spec ? parseValue(spec, raw) : undefined;
    if (value === undefined) unknown.push(name);
    else options[name] = value;
  });
  return {
    token: params.get("token") || "",
    preview: params.get("preview") === "1",
    options: options,
    unknown: unknown,
  };
}

/* A fragment holding the token and the options that differ from their defaults. */
export function toHash(token, options) {
  var params = new URLSearchParams();
  if (token) params.set("token", token);
  SPEC.forEach(function (o) {
    var value = options[o.name];
    if (value === undefined || value === o.def) return;
    params.set(o.name, o.kind === "bool" ? (value ? "1" : "0") : String(value));
  });
  return params.toString();
}
