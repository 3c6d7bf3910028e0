// Now playing and its controls: art, marquee title, artists, album, device; the progress
// bar drawn from the store's playhead (the overlay's model), seek by click or drag;
// play/pause, previous, next, shuffle, repeat (off -> context -> track), a debounced
// volume slider. Every action is optimistic, and the live feed brings the true state: a
// command's event sets the poller reading Spotify at once, and what changed arrives as
// `now_playing` (another client's actions alike). Only a failed action reads the state
// back, to show what is true after it.

import { api } from "../../core/api.js";
import { clock } from "../../core/format.js";
import { $, setUserText } from "../../core/dom.js";
import { ProgressBar } from "../../core/progress.js";
import { debounce, showError } from "./ui.js";
import { store, TOPIC } from "./store.js";

const SEEK_STEP_MS = 5000;
const VOLUME_STEP = 5;
const VOLUME_DEBOUNCE_MS = 250;
const END_CHECK_MS = 1000;
const REPEAT_NEXT = { off: "context", context: "track", track: "off" };
const REPEAT_LABEL = { off: "Repeat: off", context: "Repeat: all", track: "Repeat: this track" };

export function createPlayer() {
  const local = {
    dragging: false, // the seek bar is held
    volumeHeld: false, // the volume slider is being moved or its change is in flight
    lastTrackUri: null,
    stateRequest: null,
    // Commands leave in the order they were given: two quick presses (play, then pause)
    // sent side by side could reach Spotify the other way round.
    commands: Promise.resolve(),
    endChecked: null,
  };
  const seek = $("#seek");
  const bar = new ProgressBar(store.playhead, {
    bars: [$("#seek-fill"), $("#seek-head")],
    onTime: (position, duration) => {
      $("#np-elapsed").textContent = clock(position);
      seek.setAttribute("aria-valuenow", String(Math.round(position)));
      seek.setAttribute("aria-valuetext", `${clock(position)} of ${clock(duration)}`);
      seek.dataset.positionMs = String(Math.round(position));
    },
  });

  // ---- reading the true state ----------------------------------------------------------

  /** Read GET /v1/spotify/state and publish its parts (now_playing, queue, devices...). */
  async function refreshState() {
    if (local.stateRequest) local.stateRequest.abort();
    const controller = new AbortController();
    local.stateRequest = controller;
    try {
      const fresh = await api.get("/v1/spotify/state", null, controller.signal);
      if (fresh.errors && fresh.errors.now_playing) {
        store.emit(TOPIC.STATE_ERROR, fresh.errors.now_playing);
      } else if (!local.dragging) {
        store.setNowPlaying(fresh.now_playing);
      }
      if (fresh.queue) store.setQueue(fresh.queue);
      if (fresh.devices) store.setDevices(fresh.devices);
      return fresh;
    } catch (error) {
      if (error.name !== "AbortError") showError(error);
      return null;
    } finally {
      if (local.stateRequest === controller) local.stateRequest = null;
    }
  }

  /** Read the state back shortly (after a failure: what is true now). */
  const refreshSoon = debounce(refreshState, 300);

  /** Send a playback command after those before it; `optimistic` updates the page first. */
  function playback(body, optimistic) {
    const before = store.nowPlaying;
    const playhead = store.playheadSnapshot();
    if (optimistic && before) store.assumeNowPlaying(optimistic);
    const sent = local.commands.then(() => send(body, optimistic, before, playhead));
    local.commands = sent;
    return sent;
  }

  async function send(body, optimistic, before, playhead) {
    try {
      await api.post("/v1/spotify/playback", body);
    } catch (error) {
      // Nothing changed at Spotify: back to what was true (then read it again).
      if (optimistic && before) store.restoreNowPlaying(before, playhead);
      showError(error);
      refreshSoon();
    }
  }

  // ---- rendering -------------------------------------------------------------------------

  function render(np) {
    const track = np && np.track;
    setUserText($("#np-title"), track ? track.name : "Nothing playing");
    setUserText($("#np-artists"), track ? track.artists.join(", ") : "");
    setUserText($("#np-album"), track && track.album ? track.album : "");
    const requester = track && np.requested_by ? np.requested_by : "";
    setUserText($("#np-requester-name"), requester);
    $("#np-requester").hidden = !requester;
    const device = np && np.device;
    setUserText($("#np-device"), device ? `${device.name} · ${device.type}` : "No active device");
    $("#np-nodevice").hidden = Boolean(device);

    const art = $("#np-art");
    const artUrl = track && track.album_art_url;
    if (artUrl) {
      if (art.getAttribute("src") !== artUrl) art.src = artUrl;
      art.alt = track.album ? `Cover of ${track.album}` : "Album cover";
      art.hidden = false;
      $("#np-art-empty").hidden = true;
    } else {
      art.hidden = true;
      art.removeAttribute("src");
      $("#np-art-empty").hidden = false;
    }

    const playing = Boolean(np && np.is_playing);
    const play = $("#btn-play");
    play.setAttribute("aria-label", playing ? "Pause" : "Play");
    play.querySelector("use").setAttribute("href", playing ? "#i-pause" : "#i-play");

    $("#btn-shuffle").setAttribute("aria-pressed", String(Boolean(np && np.shuffle)));
    const mode = (np && np.repeat) || "off";
    const repeat = $("#btn-repeat");
    repeat.dataset.mode = mode;
    repeat.setAttribute("aria-label", REPEAT_LABEL[mode] || "Repeat");
    repeat.setAttribute("aria-pressed", String(mode !== "off"));
    // A control the session may not use keeps the tooltip naming the permission.
    if (repeat.getAttribute("aria-disabled") === "true") repeat.dataset.gatedTitle = REPEAT_LABEL[mode] || "Repeat";
    else repeat.title = REPEAT_LABEL[mode] || "Repeat";

    const volume = np && (np.volume_percent ?? (device && device.volume_percent));
    const slider = $("#volume");
    if (!local.volumeHeld && volume != null) showVolume(volume);
    if (store.can("spotify:playback")) slider.disabled = !device || device.supports_volume === false;

    seek.setAttribute("aria-valuemax", String(track ? track.duration_ms : 0));
    $("#np-duration").textContent = clock(track ? track.duration_ms : 0);

    const uri = track ? track.uri : null;
    if (uri !== local.lastTrackUri) {
      local.lastTrackUri = uri;
      $("#np-announcer").textContent = track
        ? `Now playing: ${track.name} by ${track.artists.join(", ")}`
        : "Nothing is playing";
      fitMarquee();
    }
    document.title = track ? `${track.name} · TuneDeck` : "TuneDeck";
    if (!local.dragging) bar.render();
  }

  function fitMarquee() {
    const wrap = $("#np-title-wrap");
    const title = $("#np-title");
    wrap.classList.remove("scrolling");
    // A right-to-left title starts at the right edge and scrolls the other way.
    const rtl = getComputedStyle(title).direction === "rtl";
    wrap.dir = rtl ? "rtl" : "ltr";
    const overflow = title.scrollWidth - wrap.clientWidth;
    if (overflow > 4) {
      wrap.style.setProperty("--marquee-shift", `${rtl ? "" : "-"}${overflow + 24}px`);
      wrap.style.setProperty("--marquee-time", `${Math.max(6, overflow / 25)}s`);
      wrap.classList.add("scrolling");
    }
  }

  function showVolume(value) {
    $("#volume").value = String(value);
    $("#volume-value").textContent = `${value}%`;
  }

  // ---- actions ---------------------------------------------------------------------------

  function togglePlay() {
    const np = store.nowPlaying;
    if (np && np.is_playing) return playback({ action: "pause" }, { is_playing: false });
    return playback({ action: "play" }, { is_playing: true });
  }

  const next = () => playback({ action: "next" });
  const previous = () => playback({ action: "previous" });

  function seekTo(target) {
    const np = store.nowPlaying;
    if (!np || !np.track) return Promise.resolve();
    const position = Math.round(Math.max(0, Math.min(np.track.duration_ms - 1000, target)));
    return playback({ action: "seek", position_ms: position }, { progress_ms: position });
  }

  const seekBy = (deltaMs) => seekTo(store.playhead.position() + deltaMs);

  const sendVolume = debounce(async (value) => {
    try {
      await api.post("/v1/spotify/playback", { action: "volume", volume_percent: value });
      store.assumeNowPlaying({ volume_percent: value });
    } catch (error) {
      const np = store.nowPlaying;
      const known = np && (np.volume_percent ?? (np.device && np.device.volume_percent));
      if (known != null) showVolume(known);
      showError(error);
      refreshSoon();
    } finally {
      local.volumeHeld = false;
    }
  }, VOLUME_DEBOUNCE_MS);

  function setVolume(value) {
    const volume = Math.max(0, Math.min(100, Math.round(value)));
    local.volumeHeld = true;
    showVolume(volume);
    sendVolume(volume);
  }

  function nudgeVolume(direction) {
    setVolume(Number($("#volume").value) + direction * VOLUME_STEP);
  }

  function seekFraction(event) {
    const rect = seek.getBoundingClientRect();
    return Math.max(0, Math.min(1, (event.clientX - rect.left) / rect.width));
  }

  function wireSeek() {
    const duration = () => store.playhead.duration;
    const drag = (event) => bar.freeze(seekFraction(event) * duration());
    seek.addEventListener("pointerdown", (event) => {
      if (seek.getAttribute("aria-disabled") === "true" || !duration() || event.button !== 0) return;
      local.dragging = true;
      seek.setPointerCapture(event.pointerId);
      seek.classList.add("dragging");
      drag(event);
    });
    seek.addEventListener("pointermove", (event) => {
      if (local.dragging) drag(event);
    });
    const release = (event, commit) => {
      if (!local.dragging) return;
      local.dragging = false;
      seek.classList.remove("dragging");
      const target = seekFraction(event) * duration();
      bar.freeze(null);
      if (commit) seekTo(target);
    };
    seek.addEventListener("pointerup", (event) => release(event, true));
    seek.addEventListener("pointercancel", (event) => release(event, false));
    seek.addEventListener("keydown", (event) => {
      if (seek.getAttribute("aria-disabled") === "true") return;
      const keys = { ArrowLeft: -SEEK_STEP_MS, ArrowDown: -SEEK_STEP_MS, ArrowRight: SEEK_STEP_MS, ArrowUp: SEEK_STEP_MS };
      if (event.key in keys && !event.shiftKey) {
        event.preventDefault();
        event.stopPropagation();
        seekBy(keys[event.key]);
      } else if (event.key === "Home") {
        event.preventDefault();
        seekTo(0);
      }
    });
  }

  /** Past the end of a track with no news: read the state (the feed may be slow). */
  function checkEnd() {
    const head = store.playhead;
    if (!head.playing || !head.duration || head.position() < head.duration) return;
    const key = `${head.uri}:${head.holdUntil}`;
    if (local.endChecked === key) return;
    local.endChecked = key;
    setTimeout(refreshState, 1500);
  }

  function init() {
    $("#btn-play").addEventListener("click", togglePlay);
    $("#btn-next").addEventListener("click", next);
    $("#btn-prev").addEventListener("click", previous);
    $("#btn-shuffle").addEventListener("click", () => {
      const on = !(store.nowPlaying && store.nowPlaying.shuffle);
      playback({ action: "shuffle", state: on }, { shuffle: on });
    });
    $("#btn-repeat").addEventListener("click", () => {
      const mode = REPEAT_NEXT[(store.nowPlaying && store.nowPlaying.repeat) || "off"];
      playback({ action: "repeat", mode }, { repeat: mode });
    });
    $("#volume").addEventListener("input", (event) => setVolume(Number(event.target.value)));
    wireSeek();
    store.on(TOPIC.NOW_PLAYING, render);
    window.addEventListener("resize", debounce(fitMarquee, 200));
    setInterval(checkEnd, END_CHECK_MS);
    render(null);
  }

  return { init, refreshState, playback, togglePlay, next, previous, seekBy, nudgeVolume };
}
