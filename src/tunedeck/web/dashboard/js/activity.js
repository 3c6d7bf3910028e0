// Activity: the account's event log (who did what, when, to which track), live from the
// feed, filtered by type and by who (the API key that acted) on the server, paged back in
// time. Key labels and track names are text from outside: isolated, so a label with a
// right-to-left override cannot reorder the rest of its row.

import { api } from "../../core/api.js";
import { clock, formatTime } from "../../core/format.js";
import { $, el, userText } from "../../core/dom.js";
import { artImage, showError } from "./ui.js";
import { store, TOPIC } from "./store.js";

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

function detail(event) {
  const params = event.params || {};
  switch (event.type) {
    case "spotify:volume":
      return params.old_volume == null ? `to ${params.new_volume}%` : `${params.old_volume}% → ${params.new_volume}%`;
    case "spotify:seek":
      return `to ${clock(params.position_ms)}`;
    case "spotify:shuffle":
      return params.state ? "on" : "off";
    case "spotify:repeat":
      return params.mode;
    case "spotify:device":
      return params.device_name ? ["to ", userText(params.device_name)] : "";
    case "spotify:playlist":
      return params.name ? userText(params.name) : "";
    default:
      return "";
  }
}

function row(event) {
  const track = event.track;
  const extra = detail(event);
  return el(
    "li",
    { dataset: { type: event.type, id: event.id } },
    artImage(track && track.art_url),
    el(
      "div",
      { class: "track-meta" },
      el("span", { class: "what" }, userText(event.actor.label, "actor"), ` ${VERBS[event.type] || event.type}`, extra ? " " : "", extra),
      el(
        "span",
        { class: "track-artists muted" },
        track ? [userText(track.name), " — ", userText((track.artists || []).join(", "))] : "",
      ),
    ),
    el("time", { class: "when muted", datetime: event.occurred_at }, formatTime(event.occurred_at)),
  );
}

export function createActivity() {
  const local = { cursor: null, loaded: false, request: null, actors: new Map() }; // actors: key_id -> label

  function noteActor(actor) {
    const key = actor.key_id;
    if (!key || local.actors.has(key)) return; // only a key's actions can be asked for by actor
    local.actors.set(key, actor.label);
    $("#activity-actor").append(el("option", { value: key, dir: "auto" }, actor.label));
  }

  function matches(event) {
    const type = $("#activity-type").value;
    const actor = $("#activity-actor").value;
    return (!type || event.type === type) && (!actor || event.actor.key_id === actor);
  }

  function updateEmpty() {
    $("#activity-empty").hidden = $("#activity-list").children.length > 0;
  }

  async function load({ more = false } = {}) {
    if (local.request) local.request.abort();
    const controller = new AbortController();
    local.request = controller;
    const list = $("#activity-list");
    try {
      const page = await api.get(
        "/v1/spotify/events",
        {
          limit: PAGE,
          type: $("#activity-type").value,
          actor: $("#activity-actor").value,
          cursor: more ? local.cursor : null,
        },
        controller.signal,
      );
      if (!more) list.replaceChildren();
      for (const event of page.items) {
        noteActor(event.actor);
        list.append(row(event));
      }
      local.cursor = page.next_cursor;
      $("#activity-more").hidden = !local.cursor;
      local.loaded = true;
      updateEmpty();
    } catch (error) {
      if (error.name !== "AbortError") showError(error);
    } finally {
      if (local.request === controller) local.request = null;
    }
  }

  function init() {
    store.on(TOPIC.EVENT, (event) => {
      noteActor(event.actor);
      if (!local.loaded || !matches(event)) return;
      const list = $("#activity-list");
      if (list.querySelector(`[data-id="${CSS.escape(event.id)}"]`)) return;
      list.prepend(row(event));
      updateEmpty();
    });
    store.on(TOPIC.TAB, (name) => {
      if (name === "activity" && !local.loaded) load();
    });
    $("#activity-type").addEventListener("change", () => load());
    $("#activity-actor").addEventListener("change", () => load());
    $("#activity-more").addEventListener("click", () => load({ more: true }));
    store.on(TOPIC.SIGNED_IN, () => {
      local.loaded = false;
      local.cursor = null;
    });
  }

  return { init };
}
