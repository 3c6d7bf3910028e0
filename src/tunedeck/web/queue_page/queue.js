// The public queue page: what plays and what is coming, with the requesters' names, live
// from /q/<id>/live (Server-Sent Events; the browser reconnects by itself). Names are
// text from viewers and Spotify: set as text, bidi-isolated. ?transparent=1 is for OBS.

import { $, el, setUserText, userText } from "../core/dom.js";
import { clock } from "../core/format.js";

const page = $("#page");
const feedUrl = `${location.pathname.replace(/\/$/, "")}/live`;
const state = { shown: null, timer: null };

if (new URLSearchParams(location.search).get("transparent") === "1") {
  document.documentElement.classList.add("transparent");
}

function etaText(item) {
  if (item.position == null) return "next";
  return item.eta_ms == null ? "" : `in ${clock(item.eta_ms)}`;
}

function itemRow(item) {
  const art = item.track.album_art_url
    ? el("img", { class: "thumb", src: item.track.album_art_url, alt: "", width: 40, height: 40, loading: "lazy", referrerpolicy: "no-referrer" })
    : el("span", { class: "thumb", "aria-hidden": "true" });
  return el(
    "li",
    { class: item.position == null ? "item next" : "item" },
    el("span", { class: "pos" }, item.position == null ? "▶" : String(item.position)),
    art,
    el(
      "div",
      { class: "meta" },
      el("span", { class: "track" }, userText(item.track.name), " — ", userText(item.track.artists.join(", "))),
      el("span", { class: "who" }, "requested by ", userText(item.requested_by)),
    ),
    el("span", { class: "eta" }, etaText(item)),
  );
}

function renderPlaying(playing) {
  const track = playing && playing.track;
  setUserText($("#now-name"), track ? track.name : "Nothing playing");
  setUserText($("#now-artists"), track ? track.artists.join(", ") : "");
  setUserText($("#now-requester-name"), playing && playing.requested_by ? playing.requested_by : "");
  $("#now-requester").hidden = !(playing && playing.requested_by);
  const art = $("#now-art");
  if (track && track.album_art_url) {
    if (art.getAttribute("src") !== track.album_art_url) art.src = track.album_art_url;
    art.hidden = false;
  } else {
    art.hidden = true;
  }
}

/** Move the bar to where the playing song is now. */
function tick() {
  const shown = state.shown;
  const playing = shown && shown.playing;
  const fill = $("#now-fill");
  if (!playing || !playing.track.duration_ms || playing.progress_ms == null) {
    fill.style.transform = "translateX(-100%)";
    return;
  }
  const elapsed = playing.is_playing ? Date.now() - state.receivedAt : 0;
  const ratio = Math.min(1, (playing.progress_ms + elapsed) / playing.track.duration_ms);
  fill.style.transform = `translateX(${(ratio - 1) * 100}%)`;
}

function render(shown) {
  state.shown = shown;
  state.receivedAt = Date.now();
  renderPlaying(shown.playing);
  const closed = $("#closed");
  closed.hidden = shown.open;
  closed.replaceChildren(
    "Requests are closed",
    shown.closed_message ? [": ", userText(shown.closed_message)] : ".",
  );
  $("#coming").replaceChildren(...shown.coming.map(itemRow));
  $("#empty").hidden = shown.coming.length > 0;
  page.dataset.state = "live";
  $("#status").textContent = "";
  tick();
}

function connect() {
  const source = new EventSource(feedUrl);
  source.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type === "queue") render(message);
  });
  source.addEventListener("close", () => {
    source.close();
    page.dataset.state = "gone";
    $("#status").textContent = "This queue page is no longer available.";
  });
  source.addEventListener("error", () => {
    if (page.dataset.state === "gone") return;
    if (source.readyState === EventSource.CLOSED) {
      // Refused (the link was turned off meanwhile): the browser will not try again.
      page.dataset.state = "gone";
      $("#status").textContent = "This queue page is not available.";
      return;
    }
    page.dataset.state = "offline";
    $("#status").textContent = "Reconnecting…";
  });
}

state.timer = setInterval(tick, 1000);
connect();
