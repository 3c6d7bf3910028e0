// How the History and Stats tabs put a play or a stream into words: how a play ended,
// how much of it was heard, a stream's name and span. Words for a streamer, never the
// API's codes. Names from outside come back as isolated text (core/dom.js userText).

import { clock, formatDuration } from "../../core/format.js";
import { userText } from "../../core/dom.js";

const DAY_FORMAT = { weekday: "short", month: "short", day: "numeric" };
const HOUR_FORMAT = { hour: "2-digit", minute: "2-digit" };

/** How a play ended, as parts of a sentence (text and isolated names). */
export function endedHow(play) {
  const who = play.skipped_by ? userText(play.skipped_by, "actor") : null;
  switch (play.end_reason) {
    case "natural":
      return ["played through"];
    case "skipped":
      return who ? ["skipped by ", who] : ["skipped in Spotify"];
    case "previous":
      return who ? ["sent back to the previous song by ", who] : ["went back to the previous song in Spotify"];
    case "replaced":
      return who ? ["replaced by ", who, "’s pick"] : ["replaced by something else"];
    case "stopped":
      return ["playback stopped"];
    case "unknown":
      return ["ended while TuneDeck was not watching"];
    default:
      return play.ended_at ? ["ended"] : ["playing now"];
  }
}

/** Whether a play counts as skipped (sent on or back before its end). */
export function wasSkipped(play) {
  return play.end_reason === "skipped" || play.end_reason === "previous";
}

/** "heard 2:31 of 3:45" (pauses excluded). */
export function heardText(play) {
  const heard = clock(play.listened_ms);
  return play.duration_ms ? `heard ${heard} of ${clock(play.duration_ms)}` : `heard ${heard}`;
}

/** The time of day a play started: "21:04". */
export function timeOfDay(iso) {
  return new Date(iso).toLocaleTimeString(undefined, HOUR_FORMAT);
}

/** A day as people say it: "Fri, Dec 4". */
export function dayName(iso) {
  return new Date(iso).toLocaleDateString(undefined, DAY_FORMAT);
}

/** Text from outside inside plain text (an <option>, a tooltip): isolated with Unicode's
 * first-strong isolate, so its direction cannot leak into what follows. */
export function isolated(text) {
  return `\u2068${text == null ? "" : text}\u2069`;
}

/** A stream's name: its title, or the day it started. */
export function streamName(stream) {
  return stream.title || `Stream of ${dayName(stream.started_at)}`;
}

/** When a stream ran: "Fri, Dec 4, 20:01 – 23:12" or "… – live now". */
export function streamSpan(stream) {
  const start = `${dayName(stream.started_at)}, ${timeOfDay(stream.started_at)}`;
  return stream.stopped_at ? `${start} – ${timeOfDay(stream.stopped_at)}` : `${start} – live now`;
}

/** "12 songs · 48 min" of a stream. */
export function streamFigures(stream) {
  const songs = stream.plays === 1 ? "1 song" : `${stream.plays} songs`;
  return `${songs} · ${formatDuration(stream.listened_ms / 1000)} heard`;
}

/** A play's time in its stream, "0:12:30 in", or null outside a stream. */
export function streamOffset(play) {
  return play.offset_ms == null ? null : `${clock(play.offset_ms)} in`;
}

/** A local calendar day ("2026-12-04") as the period [its midnight, the next midnight). */
export function dayPeriod(day) {
  const [year, month, date] = day.split("-").map(Number);
  const since = new Date(year, month - 1, date);
  const until = new Date(year, month - 1, date + 1);
  return { since: since.toISOString(), until: until.toISOString() };
}

/** Today as a date input's value, in the reader's time zone. */
export function todayValue(offsetDays = 0) {
  const now = new Date();
  const day = new Date(now.getFullYear(), now.getMonth(), now.getDate() + offsetDays);
  const pad = (n) => String(n).padStart(2, "0");
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
}
