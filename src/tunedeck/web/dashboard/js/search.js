// Search as you type: debounced, and a newer query cancels the request of an older one
// (AbortController). Each result: play now, add to queue, add to playlist.

import { api, describeError } from "../../core/api.js";
import { clock } from "../../core/format.js";
import { $, el, userText } from "../../core/dom.js";
import { actionButton, artImage, trackLine } from "./ui.js";

const DEBOUNCE_MS = 250;
const LIMIT = 20;

export function createSearch({ player, queue, playlists, showTab }) {
  const local = { inFlight: null, timer: null };
  const input = $("#search-input");

  function setStatus(...parts) {
    $("#search-status").replaceChildren(...parts);
  }

  function trackActions(track) {
    return el(
      "div",
      { class: "row-actions" },
      actionButton(`Play ${track.name} now`, {
        className: "icon-btn",
        iconName: "play",
        title: "Play now",
        permission: "spotify:playback",
        onclick: () => player.playback({ action: "play", uri: track.uri }),
      }),
      actionButton(`Add ${track.name} to the queue`, {
        className: "icon-btn",
        iconName: "queue",
        title: "Add to queue",
        permission: "spotify:queue",
        onclick: () => queue.addToQueue(track),
      }),
      actionButton(`Add ${track.name} to a playlist`, {
        className: "icon-btn",
        iconName: "plus",
        title: "Add to playlist",
        permission: "spotify:playlist",
        onclick: () => playlists.pickPlaylistFor(track),
      }),
    );
  }

  function render(tracks, query) {
    $("#search-results").replaceChildren(
      ...tracks.map((track) =>
        el(
          "li",
          { class: "track-row", dataset: { uri: track.uri } },
          artImage(track.album_art_url),
          trackLine(track),
          el("span", { class: "muted time hide-narrow" }, clock(track.duration_ms)),
          trackActions(track),
        ),
      ),
    );
    if (tracks.length) setStatus(`${tracks.length} tracks for “`, userText(query), "”");
    else setStatus("No tracks found for “", userText(query), "”.");
  }

  async function run(query) {
    if (local.inFlight) local.inFlight.abort();
    const controller = new AbortController();
    local.inFlight = controller;
    setStatus("Searching for “", userText(query), "”…");
    try {
      const tracks = await api.get("/v1/spotify/search", { query, limit: LIMIT }, controller.signal);
      if (local.inFlight === controller) render(tracks, query);
    } catch (error) {
      if (error.name === "AbortError") return;
      const { message, fix } = describeError(error);
      $("#search-results").replaceChildren();
      setStatus(`Search failed: ${message} ${fix}`);
    } finally {
      if (local.inFlight === controller) local.inFlight = null;
    }
  }

  function init() {
    input.addEventListener("input", () => {
      clearTimeout(local.timer);
      const query = input.value.trim();
      if (!query) {
        if (local.inFlight) local.inFlight.abort();
        $("#search-results").replaceChildren();
        setStatus("Type in the search box above to find tracks.");
        return;
      }
      showTab("search");
      local.timer = setTimeout(() => run(query), DEBOUNCE_MS);
    });
    $("#search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      clearTimeout(local.timer);
      const query = input.value.trim();
      if (query) {
        showTab("search");
        run(query);
      }
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") input.blur();
    });
  }

  function focus() {
    showTab("search");
    input.focus();
    input.select();
  }

  return { init, focus };
}
