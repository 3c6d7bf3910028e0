// The chat-bot commands of step 4: a chat token made for the streamer's bot, and for
// each bot (Nightbot, StreamElements, Fossabot, Streamlabs, Streamer.bot) the command
// lines to paste, as the server renders them (chat/snippets.py). The token is in every
// line and exists only in the answer that made it: the lines are shown this once.

import { api, describeError } from "../../core/api.js";
import { el } from "../../core/dom.js";
import { wireCopyButtons } from "../../core/copy.js";

let made = null; // the answer that made the token: {bots: [...]}

function commandRow(bot, command, index) {
  const id = `chat-${bot.bot}-${index}`;
  return el(
    "div",
    { class: "chat-snippet" },
    el("h3", {}, command.command, command.moderators_only ? " (moderators)" : ""),
    el(
      "div",
      { class: "copy-row" },
      el("input", { id, type: "text", readonly: true, value: command.text, "aria-label": `${bot.name} ${command.command}`, spellcheck: "false" }),
      el("button", { type: "button", class: "btn", "data-copy": id }, "Copy"),
    ),
  );
}

function showBot(box, bot) {
  box.replaceChildren(el("p", { class: "muted small" }, bot.how), ...bot.commands.map((c, i) => commandRow(bot, c, i)));
  wireCopyButtons(box);
}

function renderBots(container) {
  const picker = el("select", { id: "chat-bot", "aria-label": "Your chat bot" });
  for (const bot of made.bots) picker.append(el("option", { value: bot.bot }, bot.name));
  const box = el("div", { id: "chat-lines" });
  picker.addEventListener("change", () => showBot(box, made.bots.find((b) => b.bot === picker.value)));
  container.append(
    el("label", { for: "chat-bot" }, "Your chat bot"),
    picker,
    el("p", { class: "muted small" }, "These lines hold your chat token: anyone who reads them can send commands as your bot. They are shown only now; revoke the token on the dashboard if they leak."),
    box,
  );
  showBot(box, made.bots[0]);
}

async function makeToken(container, button) {
  button.disabled = true;
  try {
    made = await api.post("/v1/chat-tokens", { label: "chat bot (made by setup)" });
    button.remove();
    renderBots(container);
  } catch (error) {
    const { message, fix } = describeError(error);
    container.append(el("p", { class: "form-error" }, fix ? `${message} ${fix}` : message));
    button.disabled = false;
  }
}

/** Fill `container` with the chat commands to paste (made on request, once). */
export async function renderChatCommands(container) {
  if (container.dataset.rendered) return;
  container.dataset.rendered = "true";
  const button = el("button", { class: "btn", type: "button", id: "chat-create" }, "Make my chat commands");
  button.addEventListener("click", () => makeToken(container, button));
  container.replaceChildren(
    el("h2", {}, "Song requests from chat"),
    el("p", {}, "Viewers can ask for songs with !sr, see what plays with !song, and more. Pick your chat bot and paste each line as a new command."),
    button,
  );
}

