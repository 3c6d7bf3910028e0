// Small DOM helpers shared by the feature modules: elements, icons, toasts, errors,
// permission gating, dialogs, formatting.

import { can } from "./store.js";

export const $ = (selector, root = document) => root.querySelector(selector);

/** Create an element: el("button", {class: "btn", onclick}, "text", child...). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.className = value;
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

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

export function formatMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return "0:00";
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** Seconds in words: "45 s", "3 min", "2 h 5 min". */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  if (total < 120) return `${total} s`;
  const minutes = Math.round(total / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

export function formatTime(iso) {
  if (!iso) return "never";
  const date = new Date(iso);
  return date.toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
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

export function toast(message, { kind = "info", fix = "", timeout = 6000 } = {}) {
  const box = $("#toasts");
  const item = el(
    "div",
    { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
    el("strong", {}, message),
    fix ? el("span", {}, fix) : null,
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

const REASONS = {
  RESTRICTION_VIOLATED: "the device or the item does not allow this right now",
  DEVICE_NOT_CONTROLLABLE: "this device cannot be controlled remotely (a restricted device)",
};

/** What went wrong and what to do about it, in words (never the raw JSON). */
export function describeError(error) {
  if (!error || error.name !== "ApiError") {
    return { message: "Something went wrong.", fix: String((error && error.message) || "") };
  }
  const details = error.details || {};
  switch (error.code) {
    case "no_active_device":
      return {
        message: "No Spotify device is active.",
        fix: "Open Spotify on your phone or computer, or pick a device under Devices and press “Play here”.",
      };
    case "premium_required":
      return {
        message: "Spotify Premium is required to control playback.",
        fix: "Connect a Spotify account with Premium (Connection tab).",
      };
    case "rate_limited":
      return {
        message: "Spotify is rate limiting TuneDeck.",
        fix: details.retry_after
          ? `Try again in ${formatDuration(details.retry_after)}.`
          : "Try again in a little while.",
      };
    case "missing_permission":
      return {
        message: `This needs the ${details.permission} permission.`,
        fix: "Ask an admin for a key that holds it.",
      };
    case "spotify_needs_reauth":
      return {
        message: "Spotify needs to be connected again.",
        fix: "Open the Connection tab and press “Reconnect Spotify”.",
      };
    case "player_refused": {
      const reason = REASONS[details.spotify_reason];
      return {
        message: "Spotify refused the command.",
        fix: reason ? `Spotify says ${reason}.` : error.message,
      };
    }
    case "csrf_failed":
      return { message: "This page is out of date.", fix: "Reload the page." };
    case "network":
      return { message: error.message, fix: "Check that TuneDeck is running, then try again." };
    default: {
      const hint = details.hint ? `${details.hint[0].toUpperCase()}${details.hint.slice(1)}.` : "";
      return { message: error.message, fix: hint };
    }
  }
}

export function showError(error) {
  if (error && error.name === "AbortError") return;
  if (error && error.status === 401) return; // the sign-in form says it
  const { message, fix } = describeError(error);
  toast(message, { kind: "error", fix, timeout: 9000 });
}

// ---- permissions -------------------------------------------------------------------------

export function permissionTitle(permission) {
  return `Needs the ${permission} permission`;
}

/** Disable (with a tooltip naming the permission) a control the session may not use. */
export function gate(node, permission) {
  const allowed = can(permission);
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

/** A button that runs `action` (a promise); disabled while it runs, errors shown. */
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

/** Ask for confirmation; resolves true when confirmed. */
export function confirmDialog(text, okLabel = "Delete") {
  const dialog = $("#confirm-dialog");
  $("#confirm-text").textContent = text;
  $("#confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

export function trackLine(track) {
  return el(
    "div",
    { class: "track-meta" },
    el("span", { class: "track-name" }, track.name),
    el("span", { class: "track-artists muted" }, (track.artists || []).join(", ")),
  );
}

export function artImage(url, size = 40) {
  if (!url) return el("span", { class: "thumb thumb-empty", "aria-hidden": "true" }, icon("music", "sm"));
  return el("img", { class: "thumb", src: url, alt: "", width: size, height: size, loading: "lazy" });
}
