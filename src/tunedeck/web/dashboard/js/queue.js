// The queue: what plays next, with skip-to; queue the current track again.

import { api } from "../../core/api.js";
import { $, el, userText } from "../../core/dom.js";
import { actionButton, artImage, showError, toast, trackLine } from "./ui.js";
import { store, TOPIC } from "./store.js";

export function createQueue({ player }) {
  /** Add a track to the queue (used by search, playlists and this panel). */
  async function addToQueue(track) {
    await api.post("/v1/spotify/queue", { uri: track.uri });
    toast(["Added to the queue: ", userText(track.name)]);
    await loadQueue();
  }

  async function loadQueue() {
    try {
      store.setQueue(await api.get("/v1/spotify/queue"));
    } catch (error) {
      showError(error);
    }
  }

  function render(queue) {
    const items = (queue && queue.items) || [];
    $("#queue-list").replaceChildren(
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
              await api.post("/v1/spotify/playback", { action: "skip_to", uri: track.uri });
              player.refreshSoon();
              setTimeout(loadQueue, 400);
            },
          }),
        ),
      ),
    );
    $("#queue-empty").hidden = items.length > 0;
  }

  function init() {
    store.on(TOPIC.QUEUE, render);
    $("#queue-add-current").addEventListener("click", async () => {
      const track = store.nowPlaying && store.nowPlaying.track;
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
    store.on(TOPIC.EVENT, (event) => {
      if (event.type === "spotify:queue_add" || event.type === "spotify:skip") loadQueue();
    });
  }

  return { init, addToQueue, loadQueue };
}
