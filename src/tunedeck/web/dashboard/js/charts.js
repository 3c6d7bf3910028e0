// The Stats tab's pictures, in plain SVG built with DOM calls: bars (a labelled list, each
// row's figure written out beside its bar, so the list reads without the picture), a
// stacked skip bar, and a stream's timeline (each play a block at its offset, with a
// table of the same plays for screen readers and copy-paste). Sizes are percentages, so
// a chart fits a 420 px OBS dock as well as a wide window without being drawn again.

import { clock } from "../../core/format.js";
import { el, userText } from "../../core/dom.js";
import { endedHow, isolated, timeOfDay, wasSkipped } from "./plays.js";

const SVG = "http://www.w3.org/2000/svg";
const TICK_STEPS_MIN = [0.25, 0.5, 1, 5, 10, 15, 30, 60, 120, 240, 480];
const MAX_TICKS = 6;

/** An SVG element: svgEl("rect", {x: "10%"}, child...); text children as text nodes. */
export function svgEl(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const percent = (part, whole) => (whole > 0 ? Math.max(0, Math.min(100, (part / whole) * 100)) : 0);
const round = (value) => Math.round(value * 100) / 100;

/** A bar `share` (0..100) of the row's width; the row's text says the same figure. */
function bar(share, className = "bar-fill") {
  return svgEl(
    "svg",
    { class: "bar", "aria-hidden": "true", focusable: "false", width: "100%", height: "12" },
    svgEl("rect", { class: "bar-track", x: 0, y: 0, width: "100%", height: 12, rx: 3 }),
    svgEl("rect", { class: className, x: 0, y: 0, width: `${round(share)}%`, height: 12, rx: 3 }),
  );
}

/**
 * Fill `list` with one bar per row: `label(row)` (isolated text), `value(row)` (the
 * figure the bar is drawn from) and `describe(row)` (that figure in words).
 */
export function barList(list, rows, { label, value, describe }) {
  const top = Math.max(0, ...rows.map(value));
  list.replaceChildren(
    ...rows.map((row) =>
      el(
        "li",
        { class: "bar-row", dataset: { value: value(row) } },
        el("span", { class: "bar-label" }, userText(label(row))),
        bar(percent(value(row), top)),
        el("span", { class: "bar-value muted small" }, describe(row)),
      ),
    ),
  );
}

function rateWords(rate) {
  if (!rate.plays) return "no songs ended yet";
  const share = Math.round((rate.skipped / rate.plays) * 100);
  return `${share}% skipped (${rate.skipped} of ${rate.plays})`;
}

/** The skip rate of each group: a bar split into played-through and skipped. */
export function skipChart(groups) {
  return el(
    "ul",
    { class: "skips" },
    ...groups.map(({ name, rate }) => {
      const skipped = percent(rate.skipped, rate.plays);
      return el(
        "li",
        { class: "bar-row", dataset: { skipped: rate.skipped, plays: rate.plays } },
        el("span", { class: "bar-label" }, name),
        svgEl(
          "svg",
          { class: "bar", "aria-hidden": "true", focusable: "false", width: "100%", height: "12" },
          svgEl("rect", { class: rate.plays ? "bar-through" : "bar-track", x: 0, y: 0, width: "100%", height: 12, rx: 3 }),
          svgEl("rect", { class: "bar-skipped", x: 0, y: 0, width: `${round(skipped)}%`, height: 12, rx: 3 }),
        ),
        el("span", { class: "bar-value muted small" }, rateWords(rate)),
      );
    }),
  );
}

// ---- a stream's timeline ----------------------------------------------------------------

/** Where a play lies in its stream, cut to the stream (a play may have started before
 * it, or still be playing). */
function playSpan(play, totalMs, nowMs) {
  const offset = play.offset_ms || 0;
  const ended = play.ended_at ? Date.parse(play.ended_at) : nowMs;
  const end = Math.min(totalMs, offset + Math.max(0, ended - Date.parse(play.started_at)));
  const start = Math.max(0, Math.min(offset, totalMs));
  return { start, length: Math.max(0, end - start) };
}

function tickStep(totalMs) {
  const minutes = totalMs / 60000;
  const step = TICK_STEPS_MIN.find((candidate) => minutes / candidate <= MAX_TICKS);
  return (step || TICK_STEPS_MIN[TICK_STEPS_MIN.length - 1]) * 60000;
}

function describePlay(play) {
  const how = endedHow(play)
    .map((part) => (part instanceof Node ? isolated(part.textContent) : part))
    .join("");
  const song = `${isolated(play.name)} — ${isolated((play.artists || []).join(", "))}`;
  const who = play.requested_by ? `, requested by ${isolated(play.requested_by)}` : "";
  return `${clock(Math.max(0, play.offset_ms || 0))} ${song}: ${how}${who}`;
}

function timelineSvg(plays, totalMs, nowMs) {
  const title = svgEl("title", { id: "stats-timeline-svg-title" }, `The stream's ${plays.length} songs over ${clock(totalMs)}`);
  const blocks = plays.map((play) => {
    const { start, length } = playSpan(play, totalMs, nowMs);
    const kind = play.source === "request" ? "tl-request" : "tl-own";
    return svgEl(
      "rect",
      {
        class: `tl-play ${kind}${wasSkipped(play) ? " tl-skipped" : ""}`,
        x: `${round(percent(start, totalMs))}%`,
        y: 6,
        width: `${round(Math.max(0.4, percent(length, totalMs)))}%`,
        height: 30,
        "data-id": play.id,
      },
      svgEl("title", {}, describePlay(play)),
    );
  });
  const ticks = [];
  const step = tickStep(totalMs);
  for (let at = 0; at <= totalMs && ticks.length <= MAX_TICKS * 2; at += step) {
    const x = percent(at, totalMs);
    if (x > 94 && at > 0) break;
    ticks.push(svgEl("line", { class: "tl-tick", x1: `${round(x)}%`, x2: `${round(x)}%`, y1: 38, y2: 43 }));
    ticks.push(svgEl("text", { class: "tl-label", x: `${round(x)}%`, y: 56, "text-anchor": at ? "middle" : "start" }, clock(at)));
  }
  return svgEl(
    "svg",
    { class: "timeline", role: "img", "aria-labelledby": "stats-timeline-svg-title", width: "100%", height: "60" },
    title,
    svgEl("rect", { class: "tl-track", x: 0, y: 6, width: "100%", height: 30, rx: 4 }),
    ...blocks,
    ...ticks,
  );
}

function timelineTable(plays) {
  return el(
    "details",
    { class: "tl-table" },
    el("summary", {}, "The same songs as a table"),
    el(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Songs of the stream" },
      el(
        "table",
        { class: "table" },
        el("thead", {}, el("tr", {}, ...["In the stream", "At", "Song", "How it ended"].map((name) => el("th", { scope: "col" }, name)))),
        el(
          "tbody",
          {},
          ...plays.map((play) =>
            el(
              "tr",
              {},
              el("td", {}, clock(Math.max(0, play.offset_ms || 0))),
              el("td", {}, timeOfDay(play.started_at)),
              el("td", { class: "label-cell" }, userText(play.name), " — ", userText((play.artists || []).join(", "))),
              el("td", {}, ...endedHow(play)),
            ),
          ),
        ),
      ),
    ),
  );
}

/** A stream's plays along its length (`since` to `until`), with a legend and a table. */
export function timeline(plays, since, until) {
  const nowMs = Date.now();
  const totalMs = Math.max(10000, Date.parse(until) - Date.parse(since));
  const legend = el(
    "p",
    { class: "tl-legend small muted" },
    el("span", { class: "swatch tl-own" }),
    " your music ",
    el("span", { class: "swatch tl-request" }),
    " requests ",
    el("span", { class: "swatch tl-skipped-swatch" }),
    " skipped",
  );
  return [timelineSvg(plays, totalMs, nowMs), legend, timelineTable(plays)];
}
