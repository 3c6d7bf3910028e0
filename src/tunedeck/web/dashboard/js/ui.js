// The dashboard's own DOM helpers: icons, toasts, errors in words, permission gating,
// action buttons, dialogs, track lines. (Elements and text from outside: core/dom.js.)

import { api, describeError } from "../../core/api.js";
import { startConnecting } from "../../core/spotify_problems.js";
import { $, el, userText } from "../../core/dom.js";
import { store } from "./store.js";

const SVG = "http://www.w3.org/2000/svg";

export function icon(name, extra = "") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", `icon ${extra}`.trim());
  svg.setAttribute("aria-hidden", "true");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `#i-${name}`);
  svg.append(use);
  return svg;
}

export function debounce(fn, wait) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

// ---- toasts and errors -----------------------------------------------------------------

export function toast(message, { kind = "info", fix = "", timeout = 6000, action = null } = {}) {
  const box = $("#toasts");
  const item = el(
    "div",
    { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
    el("strong", {}, message),
    fix ? el("span", {}, fix) : null,
    action
      ? el("button", { class: "btn small primary", type: "button", onclick: () => { item.remove(); action.run(); } }, action.label)
      : null,
    el(
      "button",
      { class: "icon-btn", type: "button", "aria-label": "Dismiss", onclick: () => item.remove() },
      icon("close", "sm"),
    ),
  );
  box.append(item);
  while (box.children.length > 4) box.firstElementChild.remove();
  if (timeout) setTimeout(() => item.remove(), timeout);
  return item;
}

export function showError(error) {
  if (error && error.name === "AbortError") return;
  if (error && error.status === 401) return; // the sign-in form says it
  const { message, fix, action } = describeError(error);
  const button = action ? actionFor(action) : null;
  const more = action && !button ? " Ask the streamer (an admin) to connect it." : "";
  toast(message, { kind: "error", fix: fix + more, timeout: button ? 15000 : 9000, action: button });
}

/** Connect Spotify from the dashboard: to Spotify's consent page and back here; without
 * app credentials yet, to the Connection tab's form for them. */
export async function connectSpotify() {
  try {
    await startConnecting(api, "/");
  } catch (error) {
    if (error && error.code === "spotify_not_connected") {
      $("#tab-connection").click();
      $("#app-client-id").focus();
      toast("First paste your Spotify app's client ID and secret.", {
        fix: "They are in your app's settings on Spotify's developer dashboard.",
      });
    } else {
      showError(error);
    }
  }
}

function actionFor(name) {
  if (name === "connect_spotify" && store.can("admin")) return { label: "Connect Spotify", run: connectSpotify };
  return null;
}

// ---- permissions -------------------------------------------------------------------------

export function permissionTitle(permission) {
  return `Needs the ${permission} permission`;
}

/** Disable (with a tooltip naming the permission) a control the session may not use. */
export function gate(node, permission) {
  const allowed = store.can(permission);
  node.dataset.permission = permission;
  if (node.matches("input, select, textarea")) {
    node.disabled = !allowed;
  }
  if (allowed) {
    node.removeAttribute("aria-disabled");
    if (node.dataset.gatedTitle !== undefined) {
      node.title = node.dataset.gatedTitle;
      delete node.dataset.gatedTitle;
    }
  } else {
    node.setAttribute("aria-disabled", "true");
    if (node.dataset.gatedTitle === undefined) node.dataset.gatedTitle = node.title || "";
    node.title = permissionTitle(permission);
  }
  return node;
}

export function applyPermissions(root = document) {
  for (const node of root.querySelectorAll("[data-permission]")) gate(node, node.dataset.permission);
}

// A control that is not allowed explains itself instead of acting.
document.addEventListener(
  "click",
  (event) => {
    const blocked = event.target.closest && event.target.closest('[aria-disabled="true"]');
    if (!blocked) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (blocked.dataset.permission) {
      toast(`${permissionTitle(blocked.dataset.permission)}.`, {
        kind: "error",
        fix: "Ask an admin for a key that holds it.",
      });
    }
  },
  true,
);

/** A button that runs `action` (a promise); busy while it runs, errors shown. */
export function actionButton(label, { permission, onclick, className = "btn", iconName, title, text }) {
  const iconOnly = Boolean(iconName) && className.includes("icon-btn");
  const button = el(
    "button",
    { class: className, type: "button", title, "aria-label": iconOnly || text ? label : undefined },
    iconName ? icon(iconName, "sm") : null,
    iconOnly ? null : text || label,
  );
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    try {
      await onclick();
    } catch (error) {
      showError(error);
    } finally {
      button.removeAttribute("aria-busy");
    }
  });
  if (permission) gate(button, permission);
  return button;
}

// ---- dialogs -----------------------------------------------------------------------------

/** Ask for confirmation (`text`: a string, or parts with userText in them); resolves
 * true when confirmed. */
export function confirmDialog(text, okLabel = "Delete") {
  const dialog = $("#confirm-dialog");
  $("#confirm-text").replaceChildren(...[].concat(text));
  $("#confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

/**
 * Ask for a decision with an optional text (`input`: its label) and an optional checkbox
 * (`check`: its label, `checked`); resolves {ok, value, checked}.
 */
export function askDialog({ title, text, input = "", placeholder = "", check = "", checked = false, okLabel = "OK" }) {
  const dialog = $("#ask-dialog");
  $("#ask-title").textContent = title;
  $("#ask-text").replaceChildren(...[].concat(text));
  $("#ask-input-label").textContent = input;
  $("#ask-input-label").hidden = !input;
  const field = $("#ask-input");
  field.hidden = !input;
  field.value = "";
  field.placeholder = placeholder;
  $("#ask-check-row").hidden = !check;
  $("#ask-check-label").textContent = check;
  $("#ask-check").checked = checked;
  $("#ask-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  if (input) field.focus();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => resolve({ ok: dialog.returnValue === "ok", value: field.value.trim(), checked: $("#ask-check").checked }),
      { once: true },
    );
  });
}

/** A button that copies `text` to the clipboard. */
export function copyButton(text, label = "Copy") {
  return el(
    "button",
    {
      class: "btn small",
      type: "button",
      onclick: async (event) => {
        const button = event.currentTarget;
        try {
          await navigator.clipboard.writeText(text);
          button.textContent = "Copied";
        } catch {
          toast("Select the text and copy it by hand.", { kind: "error" });
        }
      },
    },
    label,
  );
}

/** A track's name and artists, each isolated text from Spotify. */
export function trackLine(track) {
  return el(
    "div",
    { class: "track-meta" },
    userText(track.name, "track-name"),
    userText((track.artists || []).join(", "), "track-artists muted"),
  );
}

export function artImage(url, size = 40) {
  if (!url) return el("span", { class: "thumb thumb-empty", "aria-hidden": "true" }, icon("music", "sm"));
  return el("img", { class: "thumb", src: url, alt: "", width: size, height: size, loading: "lazy" });
}
