// The chat-bot commands of step 4: the lines to paste into a chat bot for song requests
// (!sr, !song, !queue...). They come with a chat token and one snippet per bot, which
// this version of TuneDeck does not serve yet: the step says so, and this one function
// is where they are shown once it does.

import { el } from "../../core/dom.js";

/** Fill `container` with the chat commands to paste (or why there are none yet). */
export async function renderChatCommands(container) {
  container.replaceChildren(
    el("h2", {}, "Chat commands"),
    el(
      "p",
      { class: "muted" },
      "Song requests from chat (!sr, !song, !queue) are not part of this version of TuneDeck yet. " +
        "When they are, the lines to paste into Nightbot, StreamElements, Fossabot, Streamlabs or Streamer.bot appear here.",
    ),
  );
}
