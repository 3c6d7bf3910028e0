// The Requests tab's other sections: the banned viewers (unban), the chat bots (chat
// tokens created, listed and revoked like overlay tokens; the commands to paste into each
// bot, with copy buttons) and the public queue page (turn on, new link, turn off).

import { api } from "../../core/api.js";
import { formatTime } from "../../core/format.js";
import { $, el, userText } from "../../core/dom.js";
import { OverlayTokens } from "../../core/overlay_tokens.js";
import { actionButton, applyPermissions, confirmDialog, copyButton, showError, toast } from "./ui.js";
import { store, TOPIC } from "./store.js";

const MODERATE = "requests:moderate";

// ---- bans ------------------------------------------------------------------------------------

function banRow(ban, reload) {
  const facts = [ban.platform, ban.reason ? `“${ban.reason}”` : "", ban.actor ? `by ${ban.actor}` : "", formatTime(ban.created_at)];
  return el(
    "li",
    { class: "req-ban", dataset: { id: `${ban.platform}:${ban.id}` } },
    el("div", { class: "req-ban-who" }, userText(ban.display_name, "track-name"), el("span", { class: "muted small" }, userText(facts.filter(Boolean).join(" · ")))),
    actionButton(`Unban ${ban.display_name}`, {
      className: "btn small",
      text: "Unban",
      permission: MODERATE,
      onclick: async () => {
        await api.call("/v1/requests/bans", { method: "DELETE", query: { platform: ban.platform, id: ban.id } });
        toast(["Unbanned ", userText(ban.display_name)]);
        await reload();
      },
    }),
  );
}

// ---- chat bots --------------------------------------------------------------------------------

function snippetList(bots) {
  return el(
    "div",
    { class: "snippets" },
    bots.map((bot) =>
      el(
        "details",
        { class: "snippet-bot" },
        el("summary", {}, bot.name),
        el("p", { class: "muted small" }, bot.how),
        el(
          "ul",
          { class: "snippet-list" },
          bot.commands.map((command) =>
            el(
              "li",
              {},
              el("div", { class: "snippet-head" }, el("strong", {}, command.command), command.moderators_only ? el("span", { class: "muted small" }, " moderators") : null, copyButton(command.text, `Copy ${command.command}`)),
              el("code", { class: "snippet" }, command.text),
            ),
          ),
        ),
      ),
    ),
  );
}

function buildBots(box) {
  box.replaceChildren(
    el("p", { class: "muted small" }, "Chat bots (Nightbot, StreamElements, Fossabot, Streamlabs, Streamer.bot) take requests with a chat token in their commands' links. Create one, then paste each command into your bot."),
    el(
      "form",
      { id: "chat-token-form", class: "row", autocomplete: "off" },
      el("label", { for: "chat-token-label" }, "Label"),
      el("input", { id: "chat-token-label", name: "label", maxlength: 100, placeholder: "Nightbot", "data-permission": "admin" }),
      el("label", { class: "check" }, el("input", { type: "checkbox", name: "trust_roles", checked: true, "data-permission": "admin" }), el("span", {}, "Trust the roles the bot reports")),
      el("button", { class: "btn primary", type: "submit", "data-permission": "admin" }, "Create chat token"),
    ),
    el("div", { id: "chat-token-secret", class: "secret", role: "status", hidden: true }),
    el(
      "div",
      { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Chat tokens" },
      el(
        "table",
        { class: "table", id: "chat-token-table" },
        el("caption", { class: "visually-hidden" }, "Chat tokens of this account"),
        el("thead", {}, el("tr", {}, ["Label", "Token", "Created", "Status", ""].map((name, index) => el("th", { scope: "col", class: index === 2 ? "hide-narrow" : undefined }, name)))),
        el("tbody"),
      ),
    ),
    el("h3", { class: "subtitle" }, "Commands to paste"),
    el("div", { id: "chat-snippets" }, el("p", { class: "muted small" }, "Open this section signed in as an admin to see them.")),
  );
}

// ---- the public queue page --------------------------------------------------------------------

function pageView(page, actions) {
  if (!page || !page.enabled) {
    return [
      el("p", { class: "muted small" }, "A page anyone with its link can open: what plays and what is coming, with the requesters' names, live. Nothing else. It is off until you turn it on."),
      actionButton("Turn on the public queue page", { className: "btn primary", permission: MODERATE, onclick: actions.enable }),
    ];
  }
  const obs = `${page.url}?transparent=1`;
  return [
    el("p", { class: "small" }, "On. Anyone with this link sees the queue (and !songlist in chat gives it):"),
    el("div", { class: "row link-row" }, el("code", { id: "queue-page-url" }, page.url), copyButton(page.url, "Copy link")),
    el("p", { class: "small" }, "For an OBS browser source (transparent background):"),
    el("div", { class: "row link-row" }, el("code", {}, obs), copyButton(obs, "Copy OBS link")),
    el(
      "div",
      { class: "row" },
      el("a", { class: "btn small", href: page.url, target: "_blank", rel: "noopener" }, "Open it"),
      actionButton("Make a new link (the old one stops working)", { className: "btn small", text: "New link", permission: MODERATE, onclick: actions.rotate }),
      actionButton("Turn off the public queue page", { className: "btn small danger", text: "Turn off", permission: MODERATE, onclick: actions.disable }),
    ),
  ];
}

export function createRequestExtras() {
  const tokens = new OverlayTokens(null, {
    path: "/v1/chat-tokens",
    confirm: (token) => confirmDialog(["Revoke the chat token “", userText(token.label), "”? Its bot's commands stop working."], "Revoke"),
    onError: showError,
    onRevoked: (token) => toast(["Revoked ", userText(token.label)]),
  });
  const loaded = { bots: false };

  async function loadBans() {
    if (!store.can("requests:read")) return;
    try {
      store.setRequestBans(await api.get("/v1/requests/bans"));
    } catch (error) {
      showError(error);
    }
  }

  async function loadSnippets(token = null) {
    try {
      const bots = await api.post("/v1/chat-tokens/snippets", { token });
      $("#chat-snippets").replaceChildren(
        token ? null : el("p", { class: "muted small" }, "YOUR_CHAT_TOKEN stands for a token: create one and the commands here carry it."),
        snippetList(bots),
      );
    } catch (error) {
      showError(error);
    }
  }

  async function loadPage() {
    if (!store.can("requests:read")) return;
    try {
      store.setQueuePage(await api.get("/v1/queue-page"));
    } catch (error) {
      showError(error);
    }
  }

  const pageActions = {
    enable: async () => {
      store.setQueuePage(await api.post("/v1/queue-page"));
      toast("The public queue page is on.");
    },
    rotate: async () => {
      if (!(await confirmDialog("Make a new link? The current link stops working at once.", "New link"))) return;
      store.setQueuePage(await api.post("/v1/queue-page"));
      toast("A new link: the old one no longer works.");
    },
    disable: async () => {
      if (!(await confirmDialog("Turn the public queue page off? Its link stops working at once.", "Turn off"))) return;
      store.setQueuePage(await api.delete("/v1/queue-page"));
      toast("The public queue page is off.");
    },
  };

  function initBots() {
    const box = $("#req-bots");
    buildBots(box);
    tokens.setBody($("#chat-token-table tbody"));
    $("#chat-token-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      const created = await tokens.create(form.elements.label.value, { trust_roles: form.elements.trust_roles.checked });
      if (!created) return;
      const secret = $("#chat-token-secret");
      secret.replaceChildren(
        el("strong", {}, "New chat token “", userText(created.label), "”"),
        el("span", {}, "Copy it now, or the commands below that carry it: it is shown this once and never again."),
        el("code", {}, created.token),
        el("div", { class: "row" }, copyButton(created.token)),
      );
      secret.hidden = false;
      $("#chat-snippets").replaceChildren(snippetList(created.bots));
      form.elements.label.value = "";
    });
    $("#req-bots-section").addEventListener("toggle", (event) => {
      if (!event.target.open || loaded.bots) return;
      if (!store.can("admin")) {
        $("#chat-token-table tbody").replaceChildren(el("tr", {}, el("td", { colspan: 5 }, "Managing chat tokens needs the admin permission.")));
        return;
      }
      loaded.bots = true;
      tokens.load();
      loadSnippets();
    });
  }

  function init() {
    initBots();
    store.on(TOPIC.REQUEST_BANS, (bans) => {
      const list = $("#req-bans");
      list.replaceChildren(...(bans || []).map((ban) => banRow(ban, loadBans)));
      $("#req-bans-empty").hidden = !bans || bans.length > 0;
      applyPermissions(list);
    });
    store.on(TOPIC.QUEUE_PAGE, (page) => {
      $("#req-page").replaceChildren(...pageView(page, pageActions));
    });
    $("#req-bans-section").addEventListener("toggle", (event) => {
      if (event.target.open) loadBans();
    });
    $("#req-page-section").addEventListener("toggle", (event) => {
      if (event.target.open) loadPage();
    });
    store.on(TOPIC.SIGNED_IN, () => {
      loaded.bots = false;
      tokens.clear();
      $("#chat-token-secret").hidden = true;
      applyPermissions($("#req-bots"));
    });
    store.on(TOPIC.REQUEST_CHANGED, (change) => {
      const type = change.type === "event" || !change.event ? change.type : change.event;
      if (/banned|unbanned/.test(String(type)) && $("#req-bans-section").open) loadBans();
    });
  }

  return { init, loadBans };
}
