// The queue: what plays next, with skip-to; queue the current track again. Read again when
// an event (this page's or another client's) says it changed, once per change.

import { api } from "../../core/api.js";
import { $, el, userText } from "../../core/dom.js";
import { actionButton, artImage, showError, toast, trackLine } from "./ui.js";
import { store, TOPIC } from "./store.js";

/** Whether a playback event changes what plays next. */
function changesQueue(event) {
  switch (event.type) {
    case "spotify:queue_add":
    case "spotify:skip":
    case "spotify:previous":
    case "spotify:shuffle":
      return true;
    case "spotify:play": // a new track or context, not a resume
      return Boolean(event.params && (event.params.uri || event.params.context_uri));
    default:
      return false;
  }
}

export function createQueue() {
  /** Add a track to the queue (used by search, playlists and this panel); its event
   * reloads the queue. */
  async function addToQueue(track) {
    await api.post("/v1/spotify/queue", { uri: track.uri });
    toast(["Added to the queue: ", userText(track.name)]);
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
            // Its event brings the new queue, the feed what plays now.
            onclick: () => api.post("/v1/spotify/playback", { action: "skip_to", uri: track.uri }),
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
      if (changesQueue(event)) loadQueue();
    });
  }

  return { init, addToQueue, loadQueue };
}
