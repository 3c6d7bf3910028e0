// History: what played, by stream or by day, paged and searchable, live from the feed's
// `play` messages; the account's streams (start, stop) and what to do with one afterwards
// (YouTube chapters to copy, CSV / JSON / Markdown / M3U files, a Spotify playlist).
// Titles, artists, requesters and stream titles are text from outside: isolated, wrapping.

import { api } from "../../core/api.js";
import { $, el, userText } from "../../core/dom.js";
import { debounce, gate, showError, toast, artImage } from "./ui.js";
import { store, TOPIC } from "./store.js";
import {
  dayName,
  dayPeriod,
  endedHow,
  heardText,
  isolated,
  streamFigures,
  streamName,
  streamOffset,
  streamSpan,
  timeOfDay,
  todayValue,
  wasSkipped,
} from "./plays.js";

const PAGE = 25;
const FILE_FORMATS = { csv: "CSV", json: "JSON", markdown: "Markdown", m3u: "M3U" };
const TOO_FEW_CHAPTERS =
  "YouTube only shows chapters when there are at least three, each 10 seconds or longer, " +
  "the first at 0:00. This stream does not have that many songs yet (songs shorter than " +
  "10 seconds are joined to the one next to them). Play a few more songs, or download " +
  "the list in another format.";

// ---- what is shown: a query built from the filters ---------------------------------------

function searchMatches(play, search) {
  if (!search) return true;
  const text = [play.name, ...(play.artists || []), play.album, play.requested_by].join("\n");
  return text.toLowerCase().includes(search.toLowerCase());
}

/** The plays the filters ask for: the API's parameters, and whether a live play belongs. */
function readQuery() {
  const mode = $("#history-mode").value;
  const search = $("#history-search").value.trim();
  if (mode === "stream") {
    const stream = $("#history-stream").value || null;
    return {
      mode,
      stream,
      search,
      params: { stream, search },
      matches: (play) => Boolean(stream) && play.stream_id === stream && searchMatches(play, search),
    };
  }
  const day = $("#history-day").value || todayValue();
  const { since, until } = dayPeriod(day);
  return {
    mode,
    day,
    search,
    params: { since, until, search },
    matches: (play) =>
      new Date(play.started_at) >= new Date(since) && new Date(play.started_at) < new Date(until) && searchMatches(play, search),
  };
}

// ---- a play -----------------------------------------------------------------------------

function playFacts(play, query) {
  const facts = [el("time", { datetime: play.started_at }, timeOfDay(play.started_at))];
  const offset = query && query.mode === "stream" ? streamOffset(play) : null;
  if (offset) facts.push(" · ", offset);
  if (play.ended_at) facts.push(" · ", heardText(play));
  const ended = el("span", { class: wasSkipped(play) ? "ended skipped" : "ended" }, ...endedHow(play));
  facts.push(" · ", ended);
  if (play.ended_estimated) facts.push(" (its end is an estimate)");
  return facts;
}

function playRow(play, query) {
  const requested = play.requested_by
    ? el("span", { class: "requested" }, "requested by ", userText(play.requested_by, "actor"))
    : null;
  return el(
    "li",
    { class: play.ended_at ? "play" : "play playing", dataset: { id: play.id, endReason: play.end_reason || "" } },
    artImage(play.art_url),
    el(
      "div",
      { class: "play-meta" },
      userText(play.name, "play-name"),
      userText((play.artists || []).join(", "), "play-artists muted"),
      el("span", { class: "play-facts muted small" }, ...playFacts(play, query)),
      requested,
    ),
  );
}

function emptyText(query) {
  if (query.search) return ["No plays match “", userText(query.search), "”."];
  if (query.mode === "day") return [`Nothing played on ${dayName(`${query.day}T12:00:00`)}.`];
  if (!query.stream) return ["No streams yet. Start one when you go live: every song that plays until you stop it is listed here."];
  return ["No songs in this stream yet. They show up here as they play."];
}

// ---- the feature -----------------------------------------------------------------------

export function createHistory() {
  const local = { loaded: false, request: null };

  function showPlays(history) {
    const query = history.query;
    if (!query) return;
    $("#history-list").replaceChildren(...history.items.map((play) => playRow(play, query)));
    const empty = $("#history-empty");
    empty.hidden = history.items.length > 0;
    if (!empty.hidden) empty.replaceChildren(...emptyText(query));
    $("#history-more").hidden = !history.nextCursor;
  }

  async function loadPlays({ more = false } = {}) {
    if (local.request) local.request.abort();
    const controller = new AbortController();
    local.request = controller;
    const current = store.history;
    const query = more ? current.query : readQuery();
    try {
      if (query.mode === "stream" && !query.stream) {
        store.setHistoryPage(query, { items: [], next_cursor: null });
        return;
      }
      const cursor = more ? current.nextCursor : null;
      const page = await api.get("/v1/history", { ...query.params, limit: PAGE, cursor }, controller.signal);
      store.setHistoryPage(query, page, { more });
    } catch (error) {
      if (error.name !== "AbortError") showError(error);
    } finally {
      if (local.request === controller) local.request = null;
    }
  }

  // ---- streams ----

  function streamRow(stream) {
    const live = !stream.stopped_at;
    const show = el("button", { class: "btn small", type: "button" }, "Show its songs");
    show.addEventListener("click", () => pickStream(stream.id));
    const actions = [show];
    if (live) {
      const stop = el("button", { class: "btn small danger", type: "button" }, "Stop the stream");
      stop.addEventListener("click", () => stopStream(stream, stop));
      actions.push(gate(stop, "streams:manage"));
    }
    return el(
      "li",
      { class: live ? "stream live" : "stream", dataset: { id: stream.id } },
      el(
        "div",
        { class: "stream-text" },
        el("span", { class: "stream-name" }, live ? el("span", { class: "badge" }, "Live") : null, userText(streamName(stream))),
        el("span", { class: "muted small" }, `${streamSpan(stream)} · ${streamFigures(stream)}`),
      ),
      el("div", { class: "row" }, ...actions),
    );
  }

  function showStreams(streams) {
    const items = streams || [];
    $("#stream-list").replaceChildren(...items.map(streamRow));
    $("#stream-start").hidden = items.some((stream) => !stream.stopped_at);
    const select = $("#history-stream");
    const chosen = select.value;
    select.replaceChildren(
      ...items.map((stream) => el("option", { value: stream.id, dir: "auto" }, `${isolated(streamName(stream))} — ${dayName(stream.started_at)}`)),
    );
    if (items.some((stream) => stream.id === chosen)) select.value = chosen;
    select.disabled = items.length === 0;
    showExports();
    // The first stream (started elsewhere): show it rather than "no streams yet".
    if (local.loaded && !chosen && select.value && $("#history-mode").value === "stream") loadPlays();
  }

  async function loadStreams() {
    try {
      const answer = await api.get("/v1/streams");
      store.setStreams(answer.items);
    } catch (error) {
      showError(error);
    }
  }

  function pickStream(id) {
    $("#history-mode").value = "stream";
    showMode();
    $("#history-stream").value = id;
    resetExports();
    loadPlays();
    $("#history-plays-title").scrollIntoView({ block: "start" });
  }

  async function startStream(event) {
    event.preventDefault();
    const title = $("#stream-title").value.trim();
    const button = event.target.querySelector("button");
    button.setAttribute("aria-busy", "true");
    try {
      const stream = await api.post("/v1/streams", title ? { title } : {});
      $("#stream-title").value = "";
      toast("The stream is live: songs from now on are kept with their time in it.");
      await loadStreams();
      pickStream(stream.id);
    } catch (error) {
      showError(error);
    } finally {
      button.removeAttribute("aria-busy");
    }
  }

  async function stopStream(stream, button) {
    button.setAttribute("aria-busy", "true");
    try {
      await api.post(`/v1/streams/${encodeURIComponent(stream.id)}/stop`);
      toast("The stream is over. Its songs stay here, ready to export.");
      await loadStreams();
    } catch (error) {
      showError(error);
    } finally {
      button.removeAttribute("aria-busy");
    }
  }

  // ---- exports ----

  function exportPath(suffix) {
    return `/v1/streams/${encodeURIComponent($("#history-stream").value)}/${suffix}`;
  }

  function resetExports() {
    $("#chapters").hidden = true;
    $("#export-note").replaceChildren();
  }

  function showExports() {
    const streamMode = $("#history-mode").value === "stream";
    $("#history-exports").hidden = !(streamMode && $("#history-stream").value);
  }

  function chapterOptions() {
    const offset = Number($("#chapters-offset").value) || 0;
    const prefix = $("#chapters-prefix").value.trim();
    return { format: "youtube", offset_seconds: Math.max(0, Math.min(86400, Math.round(offset))), prefix: offset ? prefix : "" };
  }

  async function showChapters() {
    resetExports();
    try {
      const file = await api.getFile(exportPath("export"), chapterOptions());
      $("#chapters-text").value = file.text;
      $("#chapters").hidden = false;
    } catch (error) {
      const fields = (error.details && error.details.fields) || [];
      if (fields.some((field) => field.type === "too_few_chapters")) {
        $("#export-note").replaceChildren(el("strong", {}, "No YouTube chapters yet. "), TOO_FEW_CHAPTERS);
      } else {
        showError(error);
      }
    }
  }

  async function copyChapters() {
    const text = $("#chapters-text");
    try {
      await navigator.clipboard.writeText(text.value);
    } catch {
      text.select(); // a page without clipboard access: copied the old way
      document.execCommand("copy");
    }
    toast("Chapters copied: paste them into the video’s description.");
  }

  async function download(format) {
    try {
      const file = await api.getFile(exportPath("export"), { format });
      const url = URL.createObjectURL(new Blob([file.text], { type: file.type }));
      const link = el("a", { href: url, download: file.filename, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (error) {
      showError(error);
    }
  }

  async function savePlaylist() {
    resetExports();
    try {
      const saved = await api.post(exportPath("playlist"), {});
      const songs = saved.tracks === 1 ? "1 song" : `${saved.tracks} songs`;
      const link = saved.url
        ? el("a", { href: saved.url, target: "_blank", rel: "noopener noreferrer", class: "playlist-link" }, "Open it in Spotify")
        : "It is in your Spotify library.";
      $("#export-note").replaceChildren(`Saved ${songs} as a new Spotify playlist. `, link);
    } catch (error) {
      if (error.status === 422) {
        $("#export-note").replaceChildren("This stream played no song that can go in a playlist (podcasts, ads and local files cannot).");
      } else {
        showError(error);
      }
    }
  }

  // ---- wiring ----

  function showMode() {
    const byStream = $("#history-mode").value === "stream";
    $("#history-stream-field").hidden = !byStream;
    $("#history-day-field").hidden = byStream;
    if (!$("#history-day").value) $("#history-day").value = todayValue();
    showExports();
    resetExports();
  }

  async function open() {
    local.loaded = true;
    await loadStreams();
    const streams = store.streams || [];
    if (!streams.length && $("#history-mode").value === "stream") {
      $("#history-mode").value = "day";
      showMode();
    }
    await loadPlays();
  }

  function initExports() {
    $("#export-youtube").addEventListener("click", showChapters);
    $("#chapters-refresh").addEventListener("click", showChapters);
    $("#chapters-copy").addEventListener("click", copyChapters);
    for (const [format, label] of Object.entries(FILE_FORMATS)) {
      const button = el("button", { class: "btn small", type: "button", dataset: { format } }, label);
      button.addEventListener("click", () => download(format));
      $("#export-files").append(button);
    }
    const save = $("#save-playlist");
    save.addEventListener("click", async () => {
      save.setAttribute("aria-busy", "true");
      await savePlaylist();
      save.removeAttribute("aria-busy");
    });
  }

  function init() {
    $("#stream-start").addEventListener("submit", startStream);
    $("#history-mode").addEventListener("change", () => {
      showMode();
      loadPlays();
    });
    $("#history-stream").addEventListener("change", () => {
      resetExports();
      loadPlays();
    });
    $("#history-day").addEventListener("change", () => loadPlays());
    $("#history-search").addEventListener("input", debounce(() => loadPlays(), 300));
    $("#history-more").addEventListener("click", () => loadPlays({ more: true }));
    initExports();
    store.on(TOPIC.HISTORY, showPlays);
    store.on(TOPIC.STREAMS, showStreams);
    const refreshStreams = debounce(loadStreams, 1500);
    store.on(TOPIC.PLAY, ({ play }) => {
      if (local.loaded && play.stream_id) refreshStreams();
    });
    store.on(TOPIC.TAB, (name) => {
      if (name === "history" && !local.loaded) open();
    });
    store.on(TOPIC.SIGNED_IN, () => {
      local.loaded = false;
    });
  }

  return { init };
}
