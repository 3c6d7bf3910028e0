// Stats: over a stream or a period (today, 7 days, 30 days, dates chosen), what played
// most, who asked most, how often songs were skipped (requests against the streamer's own
// music), minutes heard and requests taken or refused — as pictures (charts.js) whose
// figures are also written out.

import { api } from "../../core/api.js";
import { formatDuration } from "../../core/format.js";
import { $, el, userText } from "../../core/dom.js";
import { debounce, showError } from "./ui.js";
import { store, TOPIC } from "./store.js";
import { barList, skipChart, timeline } from "./charts.js";
import { dayName, dayPeriod, isolated, streamName, todayValue } from "./plays.js";

const RULES = {
  closed: "requests were closed",
  not_allowed: "not allowed for them",
  banned: "banned viewer",
  too_many_waiting: "too many of theirs waiting",
  cooldown: "asked again too soon",
  queue_full: "queue full",
  track_blocked: "song blocked",
  artist_blocked: "artist blocked",
  not_in_allowlist: "not on the allowed list",
  explicit: "explicit",
  track_too_long: "song too long",
  already_queued: "already in the queue",
  played_recently: "played recently",
  not_found: "song not found",
  not_available: "not available",
  rejected: "turned down by a moderator",
};

const plural = (count, one, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
const minutes = (ms) => formatDuration(ms / 1000);

// ---- the scope: a stream or a period --------------------------------------------------

function readScope() {
  const value = $("#stats-scope").value;
  if (value.startsWith("stream:")) return { stream: value.slice(7) };
  if (value === "custom") {
    const from = $("#stats-from").value;
    const to = $("#stats-to").value;
    if (!from || !to) return { problem: "Choose the first and the last day." };
    if (to < from) return { problem: "The last day comes before the first one: swap them." };
    return { from: dayPeriod(from).since, to: dayPeriod(to).until };
  }
  const days = value === "today" ? 1 : Number(value);
  return { from: dayPeriod(todayValue(1 - days)).since, to: dayPeriod(todayValue()).until };
}

/** What the stats are of, as parts of a sentence (a stream's title isolated). */
function scopeWords(stats) {
  if (stats.stream_id) {
    const stream = (store.streams || []).find((item) => item.id === stats.stream_id);
    return stream ? userText(streamName(stream)) : "this stream";
  }
  const last = new Date(Date.parse(stats.until) - 1).toISOString();
  const first = dayName(stats.since);
  return first === dayName(last) ? first : `${first} – ${dayName(last)}`;
}

// ---- drawing ---------------------------------------------------------------------------

function figure(term, value) {
  return el("div", { class: "figure" }, el("dt", {}, term), el("dd", {}, value));
}

function showFigures(stats) {
  const wait = stats.request_wait_ms == null ? "—" : formatDuration(stats.request_wait_ms / 1000);
  $("#stats-figures").replaceChildren(
    figure("Songs played", String(stats.plays)),
    figure("Time heard", minutes(stats.listened_ms)),
    figure("Requests taken", String(stats.requests_accepted)),
    figure("Wait for a request", wait),
  );
}

function showTops(stats) {
  const heard = (row) => (row.heard == null ? "" : `, ${Math.round(row.heard * 100)}% heard`);
  barList($("#stats-tracks"), stats.top_tracks, {
    label: (row) => row.label,
    value: (row) => row.plays,
    describe: (row) => `${plural(row.plays, "play")}${heard(row)}`,
  });
  barList($("#stats-artists"), stats.top_artists, {
    label: (row) => row.label,
    value: (row) => row.plays,
    describe: (row) => `${plural(row.plays, "play")}, ${minutes(row.listened_ms)}`,
  });
  barList($("#stats-requesters"), stats.top_requesters, {
    label: (row) => row.label,
    value: (row) => row.plays,
    describe: (row) => plural(row.plays, "song"),
  });
  for (const [list, nothing] of [
    ["#stats-tracks", "No songs yet."],
    ["#stats-artists", "No artists yet."],
    ["#stats-requesters", "No requests played yet."],
  ]) {
    if (!$(list).children.length) $(list).append(el("li", { class: "muted" }, nothing));
  }
}

function showRequests(stats) {
  const refused = stats.requests_refused.reduce((sum, row) => sum + row.count, 0);
  const box = $("#stats-requests");
  const summary = el("p", {}, `${plural(stats.requests_accepted, "request")} taken, ${refused} refused.`);
  if (!refused) {
    box.replaceChildren(summary);
    return;
  }
  const list = el("ol", { class: "bars", "aria-label": "Refused requests by rule" });
  barList(list, stats.requests_refused, {
    label: (row) => RULES[row.rule] || row.rule.replace(/_/g, " "),
    value: (row) => row.count,
    describe: (row) => plural(row.count, "request"),
  });
  box.replaceChildren(summary, el("p", { class: "muted small" }, "Refused, by rule:"), list);
}

function showStats({ stats }) {
  $("#stats-body").hidden = false;
  const scope = scopeWords(stats);
  $("#stats-status").replaceChildren(...(stats.plays ? ["Stats of ", scope, "."] : ["Nothing played in ", scope, " yet."]));
  showFigures(stats);
  const byStream = Boolean(stats.stream_id);
  $("#stats-timeline-box").hidden = !byStream;
  if (byStream) $("#stats-timeline").replaceChildren(...timeline(stats.timeline, stats.since, stats.until));
  showTops(stats);
  $("#stats-skips").replaceChildren(
    skipChart([
      { name: "All songs", rate: stats.skip_rate },
      { name: "Requests", rate: stats.skip_rate_requests },
      { name: "Your own music", rate: stats.skip_rate_own },
    ]),
  );
  showRequests(stats);
}

// ---- the feature -----------------------------------------------------------------------

export function createStats() {
  const local = { loaded: false, request: null, visible: false };

  async function load() {
    const scope = readScope();
    if (scope.problem) {
      $("#stats-status").textContent = scope.problem;
      $("#stats-body").hidden = true;
      return;
    }
    if (local.request) local.request.abort();
    const controller = new AbortController();
    local.request = controller;
    try {
      const stats = await api.get("/v1/stats", scope, controller.signal);
      store.setStats(scope, stats);
    } catch (error) {
      if (error.name !== "AbortError") showError(error);
    } finally {
      if (local.request === controller) local.request = null;
    }
  }

  function showStreams(streams) {
    const select = $("#stats-scope");
    const chosen = select.value;
    $("#stats-streams").replaceChildren(
      ...(streams || []).map((stream) =>
        el("option", { value: `stream:${stream.id}`, dir: "auto" }, `${isolated(streamName(stream))} — ${dayName(stream.started_at)}`),
      ),
    );
    select.value = chosen;
    if (select.value !== chosen) select.value = "today";
  }

  async function open() {
    local.loaded = true;
    if (store.streams === null) {
      try {
        store.setStreams((await api.get("/v1/streams")).items);
      } catch (error) {
        showError(error);
      }
    }
    const newest = (store.streams || [])[0];
    if (newest) $("#stats-scope").value = `stream:${newest.id}`;
    await load();
  }

  function init() {
    const today = todayValue();
    $("#stats-from").value = todayValue(-6);
    $("#stats-to").value = today;
    $("#stats-scope").addEventListener("change", () => {
      $("#stats-custom").hidden = $("#stats-scope").value !== "custom";
      load();
    });
    $("#stats-from").addEventListener("change", load);
    $("#stats-to").addEventListener("change", load);
    store.on(TOPIC.STATS, showStats);
    store.on(TOPIC.STREAMS, showStreams);
    const refresh = debounce(load, 2000);
    store.on(TOPIC.PLAY, () => {
      if (local.loaded && local.visible) refresh();
    });
    store.on(TOPIC.TAB, (name) => {
      local.visible = name === "stats";
      if (local.visible && !local.loaded) open();
    });
    store.on(TOPIC.SIGNED_IN, () => {
      local.loaded = false;
    });
  }

  return { init };
}
