// Now playing and its controls: art, marquee title, artists, album, device; progress
// interpolated between updates, seek by click or drag; play/pause, previous, next,
// shuffle, repeat (off -> context -> track), a debounced volume slider.
// Every action is optimistic, then the true state is read back (also after a failure).

import { api, get } from "./api.js";
import { $, debounce, formatMs, showError } from "./ui.js";
import { can, emit, on, positionMs, setNowPlaying, state } from "./store.js";

const SEEK_STEP_MS = 5000;
const VOLUME_STEP = 5;
const VOLUME_DEBOUNCE_MS = 250;
const REPEAT_NEXT = { off: "context", context: "track", track: "off" };
const REPEAT_LABEL = { off: "Repeat: off", context: "Repeat: all", track: "Repeat: this track" };

let dragging = false; // the seek bar is held
let volumeHeld = false; // the volume slider is being moved or its change is in flight
let lastTrackUri = null;
let stateRequest = null;

// ---- reading the true state ------------------------------------------------------------

/** Read GET /v1/spotify/state and publish its parts (now_playing, queue, devices...). */
export async function refreshState() {
  if (stateRequest) stateRequest.abort();
  const controller = new AbortController();
  stateRequest = controller;
  try {
    const fresh = await get("/v1/spotify/state", null, controller.signal);
    if (fresh.errors && fresh.errors.now_playing) {
      emit("state_error", fresh.errors.now_playing);
    } else {
      setNowPlaying(fresh.now_playing);
    }
    if (fresh.queue) {
      state.queue = fresh.queue;
      emit("queue", fresh.queue);
    }
    if (fresh.devices) {
      state.devices = fresh.devices;
      emit("devices", fresh.devices);
    }
    return fresh;
  } catch (error) {
    if (error.name !== "AbortError") showError(error);
    return null;
  } finally {
    if (stateRequest === controller) stateRequest = null;
  }
}

/** Read the state back shortly (commands take a moment to land at Spotify). */
export const refreshSoon = debounce(refreshState, 300);

// Commands leave in the order they were given: two quick presses (play, then pause) sent
// side by side could reach Spotify the other way round and leave the wrong state.
let commands = Promise.resolve();

/** Send a playback command after those before it; `optimistic` updates the page first. */
export function playback(body, optimistic) {
  const before = state.nowPlaying;
  const beforeAt = state.receivedAt;
  if (optimistic && before) {
    setNowPlaying({ ...before, progress_ms: positionMs(), ...optimistic });
  }
  const sent = commands.then(() => send(body, optimistic, before, beforeAt));
  commands = sent;
  return sent;
}

async function send(body, optimistic, before, beforeAt) {
  try {
    await api("/v1/spotify/playback", { method: "POST", body });
  } catch (error) {
    // Nothing changed at Spotify: back to what was true (then read it again).
    if (optimistic && before) {
      const elapsed = before.is_playing ? performance.now() - beforeAt : 0;
      setNowPlaying({ ...before, progress_ms: (before.progress_ms || 0) + elapsed });
    }
    showError(error);
  } finally {
    refreshSoon();
  }
}

// ---- rendering -----------------------------------------------------------------------------

function render(np) {
  const track = np && np.track;
  const title = $("#np-title");
  title.textContent = track ? track.name : np ? "Nothing playing" : "Nothing playing";
  $("#np-artists").textContent = track ? track.artists.join(", ") : "";
  $("#np-album").textContent = track && track.album ? track.album : "";
  const device = np && np.device;
  $("#np-device").textContent = device ? `${device.name} · ${device.type}` : "No active device";
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

  const shuffle = $("#btn-shuffle");
  shuffle.setAttribute("aria-pressed", String(Boolean(np && np.shuffle)));
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
  if (!volumeHeld && volume != null) {
    slider.value = String(volume);
    $("#volume-value").textContent = `${volume}%`;
  }
  if (can("spotify:playback")) slider.disabled = !device || device.supports_volume === false;

  const seek = $("#seek");
  seek.setAttribute("aria-valuemax", String(track ? track.duration_ms : 0));
  $("#np-duration").textContent = formatMs(track ? track.duration_ms : 0);

  const uri = track ? track.uri : null;
  if (uri !== lastTrackUri) {
    lastTrackUri = uri;
    $("#np-announcer").textContent = track
      ? `Now playing: ${track.name} by ${track.artists.join(", ")}`
      : "Nothing is playing";
    fitMarquee();
  }
  document.title = track ? `${track.name} · TuneDeck` : "TuneDeck";
  renderProgress();
}

function fitMarquee() {
  const wrap = $("#np-title-wrap");
  const title = $("#np-title");
  wrap.classList.remove("scrolling");
  const overflow = title.scrollWidth - wrap.clientWidth;
  if (overflow > 4) {
    wrap.style.setProperty("--marquee-shift", `-${overflow + 24}px`);
    wrap.style.setProperty("--marquee-time", `${Math.max(6, overflow / 25)}s`);
    wrap.classList.add("scrolling");
  }
}

function renderProgress(position = dragging ? Number($("#seek").dataset.dragMs || 0) : positionMs()) {
  const np = state.nowPlaying;
  const duration = np && np.track ? np.track.duration_ms : 0;
  const fraction = duration ? Math.min(1, position / duration) : 0;
  $("#seek-fill").style.width = `${fraction * 100}%`;
  $("#seek-thumb").style.left = `${fraction * 100}%`;
  $("#np-elapsed").textContent = formatMs(position);
  const seek = $("#seek");
  seek.setAttribute("aria-valuenow", String(Math.round(position)));
  seek.setAttribute("aria-valuetext", `${formatMs(position)} of ${formatMs(duration)}`);
}

// ---- actions --------------------------------------------------------------------------------

export function togglePlay() {
  const np = state.nowPlaying;
  if (np && np.is_playing) return playback({ action: "pause" }, { is_playing: false });
  return playback({ action: "play" }, { is_playing: true });
}

export const next = () => playback({ action: "next" });
export const previous = () => playback({ action: "previous" });

export function seekTo(positionMs_) {
  const np = state.nowPlaying;
  if (!np || !np.track) return Promise.resolve();
  const position = Math.round(Math.max(0, Math.min(np.track.duration_ms - 1000, positionMs_)));
  return playback({ action: "seek", position_ms: position }, { progress_ms: position });
}

export const seekBy = (deltaMs) => seekTo(positionMs() + deltaMs);

const sendVolume = debounce(async (value) => {
  try {
    await api("/v1/spotify/playback", { method: "POST", body: { action: "volume", volume_percent: value } });
    if (state.nowPlaying) setNowPlaying({ ...state.nowPlaying, progress_ms: positionMs(), volume_percent: value });
  } catch (error) {
    const np = state.nowPlaying;
    const known = np && (np.volume_percent ?? (np.device && np.device.volume_percent));
    if (known != null) {
      $("#volume").value = String(known);
      $("#volume-value").textContent = `${known}%`;
    }
    showError(error);
  } finally {
    volumeHeld = false;
    refreshSoon();
  }
}, VOLUME_DEBOUNCE_MS);

export function setVolume(value) {
  const volume = Math.max(0, Math.min(100, Math.round(value)));
  volumeHeld = true;
  $("#volume").value = String(volume);
  $("#volume-value").textContent = `${volume}%`;
  sendVolume(volume);
}

export function nudgeVolume(direction) {
  setVolume(Number($("#volume").value) + direction * VOLUME_STEP);
}

function seekFraction(event) {
  const rect = $("#seek").getBoundingClientRect();
  return Math.max(0, Math.min(1, (event.clientX - rect.left) / rect.width));
}

function wireSeek() {
  const seek = $("#seek");
  const duration = () => (state.nowPlaying && state.nowPlaying.track ? state.nowPlaying.track.duration_ms : 0);
  seek.addEventListener("pointerdown", (event) => {
    if (seek.getAttribute("aria-disabled") === "true" || !duration() || event.button !== 0) return;
    dragging = true;
    seek.setPointerCapture(event.pointerId);
    seek.dataset.dragMs = String(seekFraction(event) * duration());
    seek.classList.add("dragging");
    renderProgress();
  });
  seek.addEventListener("pointermove", (event) => {
    if (!dragging) return;
    seek.dataset.dragMs = String(seekFraction(event) * duration());
    renderProgress();
  });
  const release = (event, commit) => {
    if (!dragging) return;
    dragging = false;
    seek.classList.remove("dragging");
    if (commit) seekTo(seekFraction(event) * duration());
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

export function initPlayer() {
  $("#btn-play").addEventListener("click", togglePlay);
  $("#btn-next").addEventListener("click", next);
  $("#btn-prev").addEventListener("click", previous);
  $("#btn-shuffle").addEventListener("click", () => {
    const on_ = !(state.nowPlaying && state.nowPlaying.shuffle);
    playback({ action: "shuffle", state: on_ }, { shuffle: on_ });
  });
  $("#btn-repeat").addEventListener("click", () => {
    const mode = REPEAT_NEXT[(state.nowPlaying && state.nowPlaying.repeat) || "off"];
    playback({ action: "repeat", mode }, { repeat: mode });
  });
  $("#volume").addEventListener("input", (event) => setVolume(Number(event.target.value)));
  wireSeek();
  on("now_playing", render);
  on("feed_now_playing", (np) => {
    if (!dragging) setNowPlaying(np);
  });
  // Another TuneDeck client acted: its effect is on Spotify now.
  on("event", () => refreshSoon());
  window.addEventListener("resize", debounce(fitMarquee, 200));
  let endChecked = null;
  setInterval(() => {
    if (!dragging) renderProgress();
    // Past the end of a track with no news: read the state (the feed may be slow).
    const np = state.nowPlaying;
    if (np && np.is_playing && np.track && positionMs() >= np.track.duration_ms) {
      const key = `${np.track.uri}:${state.receivedAt}`;
      if (endChecked !== key && performance.now() - state.receivedAt > 1500) {
        endChecked = key;
        setTimeout(refreshState, 1500);
      }
    }
  }, 250);
  render(null);
}
