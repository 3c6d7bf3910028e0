// Admin: the account's API keys (create with a permission picker, the secret shown once,
// list, revoke) and overlay tokens (the shared component: create, list, revoke).

import { api } from "../../core/api.js";
import { formatTime } from "../../core/format.js";
import { $, el, userText } from "../../core/dom.js";
import { OverlayTokens } from "../../core/overlay_tokens.js";
import { actionButton, confirmDialog, showError, toast } from "./ui.js";
import { store, TOPIC } from "./store.js";

const PERMISSIONS = [
  ["spotify:read", "see now playing, queue, devices, playlists, search, activity"],
  ["spotify:playback", "play, pause, skip, seek, volume, shuffle, repeat"],
  ["spotify:queue", "add tracks to the queue"],
  ["spotify:playlist", "play and edit playlists"],
  ["spotify:device", "move playback to another device"],
  ["spotify:worker", "start and stop manual connect"],
  ["overlay:read", "now playing only (a now-playing bot)"],
  ["requests:read", "see the song request queue, its history, rules and bans"],
  ["requests:submit", "request songs on a viewer's behalf (chat bots, tools)"],
  ["requests:moderate", "approve, reject, move, skip, ban; open, close, change the rules"],
  ["admin", "keys, overlay tokens, the Spotify connection"],
];

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

export function createAdmin() {
  const local = { loaded: false };
  const tokens = new OverlayTokens($("#token-table tbody"), {
    confirm: (token) =>
      confirmDialog(["Revoke the overlay token “", userText(token.label), "”? Overlays using it go blank."], "Revoke"),
    onError: showError,
    onRevoked: (token) => toast(["Revoked ", userText(token.label)]),
  });

  async function loadKeys() {
    const body = $("#key-table tbody");
    try {
      const keys = (await api.get("/v1/keys")).sort((a, b) => Boolean(a.revoked_at) - Boolean(b.revoked_at));
      body.replaceChildren(
        ...keys.map((key) =>
          el(
            "tr",
            { class: key.revoked_at ? "revoked" : "", dataset: { id: key.id } },
            el("td", { class: "label-cell" }, userText(key.label)),
            el("td", {}, el("code", {}, `${key.prefix}…`)),
            el("td", { class: "small perms" }, key.permissions.join(", ")),
            el(
              "td",
              { class: "small hide-narrow" },
              key.revoked_at ? `revoked ${formatTime(key.revoked_at)}` : formatTime(key.last_used_at),
            ),
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
                      const mine = Boolean(store.me) && key.id === store.me.key_id;
                      const warning = mine
                        ? " This is the key you are signed in with: you will be signed out."
                        : "";
                      const question = ["Revoke the key “", userText(key.label), `”? Its sessions end at once.${warning}`];
                      if (!(await confirmDialog(question, "Revoke"))) return;
                      await api.delete(`/v1/keys/${key.id}`);
                      toast(["Revoked ", userText(key.label)]);
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

  function init() {
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
        const created = await api.post("/v1/keys", { label: form.elements.label.value.trim(), permissions });
        showSecret($("#key-secret"), ["New key “", userText(created.label), "”"], created.key);
        form.elements.label.value = "";
        await loadKeys();
      } catch (error) {
        showError(error);
      }
    });
    $("#token-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      const created = await tokens.create(form.elements.label.value);
      if (!created) return;
      showSecret(
        $("#token-secret"),
        ["New overlay token “", userText(created.label), "”"],
        created.token,
        el(
          "span",
          { class: "small" },
          "Overlay URL for OBS: ",
          el("code", {}, created.overlay_url),
          " ",
          copyButton(created.overlay_url),
        ),
      );
      form.elements.label.value = "";
    });
    store.on(TOPIC.SIGNED_IN, () => {
      local.loaded = false;
      tokens.clear();
      $("#key-secret").hidden = true;
      $("#token-secret").hidden = true;
    });
    store.on(TOPIC.TAB, (name) => {
      if (name !== "admin" || local.loaded) return;
      if (!store.can("admin")) {
        $("#key-table tbody").replaceChildren(
          el("tr", {}, el("td", { colspan: 5 }, "Managing keys needs the admin permission.")),
        );
        $("#token-table tbody").replaceChildren(
          el("tr", {}, el("td", { colspan: 5 }, "Managing overlay tokens needs the admin permission.")),
        );
        return;
      }
      local.loaded = true;
      loadKeys();
      tokens.load();
    });
  }

  return { init };
}
