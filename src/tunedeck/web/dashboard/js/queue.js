// The queue: what plays next, with skip-to; queue the current track again.

import { api, get } from "./api.js";
import { $, actionButton, artImage, el, showError, toast, trackLine } from "./ui.js";
import { emit, on, state } from "./store.js";
import { refreshSoon } from "./player.js";

/** Add a track to the queue (used by search, playlists and this panel). */
export async function addToQueue(track) {
  await api("/v1/spotify/queue", { method: "POST", body: { uri: track.uri } });
  toast(`Added to the queue: ${track.name}`);
  await loadQueue();
}

export async function loadQueue() {
  try {
    const queue = await get("/v1/spotify/queue");
    state.queue = queue;
    emit("queue", queue);
  } catch (error) {
    showError(error);
  }
}

function render(queue) {
  const list = $("#queue-list");
  const items = (queue && queue.items) || [];
  list.replaceChildren(
    ...items.map((track, index) =>
      el(
        "li",
        { class: "track-row", dataset: { uri: track.uri } },
        el("span", { class: "track-index muted" }, String(index + 1)),
        artImage(track.album_art_url),
        trackLine(track),
        actionButton(`Skip to ${track.name}`, {
          className: "btn small",
          text: "Skip to",
          permission: "spotify:playback",
          onclick: async () => {
            await api("/v1/spotify/playback", { method: "POST", body: { action: "skip_to", uri: track.uri } });
            refreshSoon();
            setTimeout(loadQueue, 400);
          },
        }),
      ),
    ),
  );
  $("#queue-empty").hidden = items.length > 0;
}

export function initQueue() {
  on("queue", render);
  $("#queue-add-current").addEventListener("click", async () => {
    const track = state.nowPlaying && state.nowPlaying.track;
    if (!track) {
      toast("Nothing is playing to add.", { kind: "error" });
      return;
    }
    try {
      await addToQueue(track);
    } catch (error) {
      showError(error);
    }
  });
  on("event", (event) => {
    if (event.type === "spotify:queue_add" || event.type === "spotify:skip") loadQueue();
  });
}
