// Activity: the account's event log (who did what, when, to which track), live from the
// feed, filtered by type and by who (the API key that acted) on the server, paged back in
// time.

import { get } from "./api.js";
import { $, artImage, el, formatMs, formatTime, showError } from "./ui.js";
import { on } from "./store.js";

const PAGE = 25;
const VERBS = {
  "spotify:play": "played",
  "spotify:pause": "paused",
  "spotify:skip": "skipped",
  "spotify:previous": "went back",
  "spotify:seek": "seeked",
  "spotify:volume": "changed the volume",
  "spotify:shuffle": "toggled shuffle",
  "spotify:repeat": "set repeat",
  "spotify:queue_add": "queued a track",
  "spotify:device": "moved playback",
  "spotify:playlist": "started a playlist",
};

let cursor = null;
let loaded = false;
let request = null;
const actors = new Map(); // key_id -> label

function detail(event) {
  const params = event.params || {};
  switch (event.type) {
    case "spotify:volume":
      return params.old_volume == null ? `to ${params.new_volume}%` : `${params.old_volume}% → ${params.new_volume}%`;
    case "spotify:seek":
      return `to ${formatMs(params.position_ms)}`;
    case "spotify:shuffle":
      return params.state ? "on" : "off";
    case "spotify:repeat":
      return params.mode;
    case "spotify:device":
      return params.device_name ? `to ${params.device_name}` : "";
    case "spotify:playlist":
      return params.name || "";
    default:
      return "";
  }
}

function noteActor(actor) {
  const key = actor.key_id;
  if (!key || actors.has(key)) return; // only a key's actions can be asked for by actor
  actors.set(key, actor.label);
  $("#activity-actor").append(el("option", { value: key }, actor.label));
}

function matches(event) {
  const type = $("#activity-type").value;
  const actor = $("#activity-actor").value;
  return (!type || event.type === type) && (!actor || event.actor.key_id === actor);
}

function row(event) {
  const track = event.track;
  const what = `${event.actor.label} ${VERBS[event.type] || event.type}`;
  const extra = detail(event);
  return el(
    "li",
    { dataset: { type: event.type, id: event.id } },
    artImage(track && track.art_url),
    el(
      "div",
      { class: "track-meta" },
      el("span", { class: "what" }, extra ? `${what} ${extra}` : what),
      el(
        "span",
        { class: "track-artists muted" },
        track ? `${track.name} — ${(track.artists || []).join(", ")}` : "",
      ),
    ),
    el("time", { class: "when muted", datetime: event.occurred_at }, formatTime(event.occurred_at)),
  );
}

function updateEmpty() {
  $("#activity-empty").hidden = $("#activity-list").children.length > 0;
}

async function load({ more = false } = {}) {
  if (request) request.abort();
  const controller = new AbortController();
  request = controller;
  const list = $("#activity-list");
  try {
    const page = await get(
      "/v1/spotify/events",
      {
        limit: PAGE,
        type: $("#activity-type").value,
        actor: $("#activity-actor").value,
        cursor: more ? cursor : null,
      },
      controller.signal,
    );
    if (!more) list.replaceChildren();
    for (const event of page.items) {
      noteActor(event.actor);
      list.append(row(event));
    }
    cursor = page.next_cursor;
    $("#activity-more").hidden = !cursor;
    loaded = true;
    updateEmpty();
  } catch (error) {
    if (error.name !== "AbortError") showError(error);
  } finally {
    if (request === controller) request = null;
  }
}

export function initActivity() {
  on("event", (event) => {
    noteActor(event.actor);
    if (!loaded || !matches(event)) return;
    const list = $("#activity-list");
    if (list.querySelector(`[data-id="${CSS.escape(event.id)}"]`)) return;
    list.prepend(row(event));
    updateEmpty();
  });
  on("tab", (name) => {
    if (name === "activity" && !loaded) load();
  });
  $("#activity-type").addEventListener("change", () => load());
  $("#activity-actor").addEventListener("change", () => load());
  $("#activity-more").addEventListener("click", () => load({ more: true }));
  on("signed_in", () => {
    loaded = false;
    cursor = null;
  });
}
