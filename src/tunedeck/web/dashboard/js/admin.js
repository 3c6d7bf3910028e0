// Admin: the account's API keys (create with a permission picker, the secret shown once,
// list, revoke) and overlay tokens (create, list, revoke).

import { api, get } from "./api.js";
import { $, actionButton, confirmDialog, el, formatTime, showError, toast } from "./ui.js";
import { can, on, state } from "./store.js";

const PERMISSIONS = [
  ["spotify:read", "see now playing, queue, devices, playlists, search, activity"],
  ["spotify:playback", "play, pause, skip, seek, volume, shuffle, repeat"],
  ["spotify:queue", "add tracks to the queue"],
  ["spotify:playlist", "play and edit playlists"],
  ["spotify:device", "move playback to another device"],
  ["spotify:worker", "start and stop manual connect"],
  ["overlay:read", "now playing only (a now-playing bot)"],
  ["admin", "keys, overlay tokens, the Spotify connection"],
];

let loaded = false;

function copyButton(text) {
  return el(
    "button",
    {
      class: "btn small",
      type: "button",
      onclick: async (event) => {
        try {
          await navigator.clipboard.writeText(text);
          event.target.textContent = "Copied";
        } catch {
          toast("Select the text and copy it by hand.", { kind: "error" });
        }
      },
    },
    "Copy",
  );
}

function showSecret(box, title, secret, extra = null) {
  box.replaceChildren(
    el("strong", {}, title),
    el("span", {}, "Copy it now: it is shown this once and never again."),
    el("code", {}, secret),
    el("div", { class: "row" }, copyButton(secret), extra),
  );
  box.hidden = false;
}

async function loadKeys() {
  const body = $("#key-table tbody");
  try {
    const keys = (await get("/v1/keys")).sort((a, b) => Boolean(a.revoked_at) - Boolean(b.revoked_at));
    body.replaceChildren(
      ...keys.map((key) =>
        el(
          "tr",
          { class: key.revoked_at ? "revoked" : "", dataset: { id: key.id } },
          el("td", {}, key.label),
          el("td", {}, el("code", {}, `${key.prefix}…`)),
          el("td", { class: "small perms" }, key.permissions.join(", ")),
          el("td", { class: "small hide-narrow" }, key.revoked_at ? `revoked ${formatTime(key.revoked_at)}` : formatTime(key.last_used_at)),
          el(
            "td",
            {},
            key.revoked_at
              ? el("span", { class: "muted small" }, "revoked")
              : actionButton(`Revoke ${key.label}`, {
                  className: "btn small danger",
                  text: "Revoke",
                  permission: "admin",
                  onclick: async () => {
                    const mine = Boolean(state.me) && key.id === state.me.key_id;
                    const warning = mine ? " This is the key you are signed in with: you will be signed out." : "";
                    if (!(await confirmDialog(`Revoke the key “${key.label}”? Its sessions end at once.${warning}`, "Revoke"))) return;
                    await api(`/v1/keys/${key.id}`, { method: "DELETE" });
                    toast(`Revoked ${key.label}`);
                    await loadKeys();
                  },
                }),
          ),
        ),
      ),
    );
  } catch (error) {
    showError(error);
  }
}

async function loadTokens() {
  const body = $("#token-table tbody");
  try {
    const tokens = (await get("/v1/overlay-tokens")).sort(
      (a, b) => Boolean(a.revoked_at) - Boolean(b.revoked_at),
    );
    body.replaceChildren(
      ...tokens.map((token) =>
        el(
          "tr",
          { class: token.revoked_at ? "revoked" : "", dataset: { id: token.id } },
          el("td", {}, token.label),
          el("td", {}, el("code", {}, `${token.prefix}…`)),
          el("td", { class: "small" }, formatTime(token.created_at)),
          el(
            "td",
            {},
            token.revoked_at
              ? el("span", { class: "muted small" }, "revoked")
              : actionButton(`Revoke ${token.label}`, {
                  className: "btn small danger",
                  text: "Revoke",
                  permission: "admin",
                  onclick: async () => {
                    if (!(await confirmDialog(`Revoke the overlay token “${token.label}”? Overlays using it go blank.`, "Revoke"))) return;
                    await api(`/v1/overlay-tokens/${token.id}`, { method: "DELETE" });
                    toast(`Revoked ${token.label}`);
                    await loadTokens();
                  },
                }),
          ),
        ),
      ),
    );
  } catch (error) {
    showError(error);
  }
}

function buildPicker() {
  const box = $("#key-perms");
  for (const [name, what] of PERMISSIONS) {
    const id = `perm-${name.replace(":", "-")}`;
    box.append(
      el(
        "label",
        { for: id },
        el("input", {
          id,
          type: "checkbox",
          name: "permissions",
          value: name,
          checked: name === "spotify:read",
          "data-permission": "admin",
        }),
        el("span", {}, name, el("span", { class: "muted small" }, ` — ${what}`)),
      ),
    );
  }
}

export function initAdmin() {
  buildPicker();
  $("#key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const permissions = [...form.querySelectorAll("input[name=permissions]:checked")].map((box) => box.value);
    if (!permissions.length) {
      toast("Pick at least one permission.", { kind: "error" });
      return;
    }
    try {
      const created = await api("/v1/keys", {
        method: "POST",
        body: { label: form.elements.label.value.trim(), permissions },
      });
      showSecret($("#key-secret"), `New key “${created.label}”`, created.key);
      form.elements.label.value = "";
      await loadKeys();
    } catch (error) {
      showError(error);
    }
  });
  $("#token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      const created = await api("/v1/overlay-tokens", {
        method: "POST",
        body: { label: form.elements.label.value.trim() || "overlay" },
      });
      showSecret(
        $("#token-secret"),
        `New overlay token “${created.label}”`,
        created.token,
        el("span", { class: "small" }, "Overlay URL for OBS: ", el("code", {}, created.overlay_url), " ", copyButton(created.overlay_url)),
      );
      form.elements.label.value = "";
      await loadTokens();
    } catch (error) {
      showError(error);
    }
  });
  on("signed_in", () => {
    loaded = false;
    $("#key-secret").hidden = true;
    $("#token-secret").hidden = true;
  });
  on("tab", (name) => {
    if (name !== "admin" || loaded) return;
    if (!can("admin")) {
      $("#key-table tbody").replaceChildren(el("tr", {}, el("td", { colspan: 5 }, "Managing keys needs the admin permission.")));
      $("#token-table tbody").replaceChildren(el("tr", {}, el("td", { colspan: 4 }, "Managing overlay tokens needs the admin permission.")));
      return;
    }
    loaded = true;
    loadKeys();
    loadTokens();
  });
}
