// Search as you type: debounced, and a newer query cancels the request of an older one
// (AbortController). Each result: play now, add to queue, add to playlist.

import { get } from "./api.js";
import { $, actionButton, artImage, describeError, el, formatMs, trackLine } from "./ui.js";
import { playback } from "./player.js";
import { addToQueue } from "./queue.js";
import { pickPlaylistFor } from "./playlists.js";

const DEBOUNCE_MS = 250;
const LIMIT = 20;

let inFlight = null;
let timer = null;

function setStatus(text) {
  $("#search-status").textContent = text;
}

export function trackActions(track) {
  return el(
    "div",
    { class: "row-actions" },
    actionButton(`Play ${track.name} now`, {
      className: "icon-btn",
      iconName: "play",
      title: "Play now",
      permission: "spotify:playback",
      onclick: () => playback({ action: "play", uri: track.uri }),
    }),
    actionButton(`Add ${track.name} to the queue`, {
      className: "icon-btn",
      iconName: "queue",
      title: "Add to queue",
      permission: "spotify:queue",
      onclick: () => addToQueue(track),
    }),
    actionButton(`Add ${track.name} to a playlist`, {
      className: "icon-btn",
      iconName: "plus",
      title: "Add to playlist",
      permission: "spotify:playlist",
      onclick: () => pickPlaylistFor(track),
    }),
  );
}

function render(tracks, query) {
  const list = $("#search-results");
  list.replaceChildren(
    ...tracks.map((track) =>
      el(
        "li",
        { class: "track-row", dataset: { uri: track.uri } },
        artImage(track.album_art_url),
        trackLine(track),
        el("span", { class: "muted time hide-narrow" }, formatMs(track.duration_ms)),
        trackActions(track),
      ),
    ),
  );
  setStatus(tracks.length ? `${tracks.length} tracks for “${query}”` : `No tracks found for “${query}”.`);
}

async function run(query) {
  if (inFlight) inFlight.abort();
  const controller = new AbortController();
  inFlight = controller;
  setStatus(`Searching for “${query}”…`);
  try {
    const tracks = await get("/v1/spotify/search", { query, limit: LIMIT }, controller.signal);
    if (inFlight === controller) render(tracks, query);
  } catch (error) {
    if (error.name === "AbortError") return;
    const { message, fix } = describeError(error);
    $("#search-results").replaceChildren();
    setStatus(`Search failed: ${message} ${fix}`);
  } finally {
    if (inFlight === controller) inFlight = null;
  }
}

export function initSearch({ showTab }) {
  const input = $("#search-input");
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const query = input.value.trim();
    if (!query) {
      if (inFlight) inFlight.abort();
      $("#search-results").replaceChildren();
      setStatus("Type in the search box above to find tracks.");
      return;
    }
    showTab("search");
    timer = setTimeout(() => run(query), DEBOUNCE_MS);
  });
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    const query = input.value.trim();
    if (query) {
      showTab("search");
      run(query);
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") input.blur();
  });
  return {
    focus() {
      showTab("search");
      input.focus();
      input.select();
    },
  };
}
