// The dashboard's state, and the only way to change it: feature modules read it and call
// the store's methods, which publish each change on a named topic (TOPIC) for the
// modules that show it. Nothing else holds page state.

import { Playhead } from "../../core/playhead.js";

/** Every topic of the page: state changes and the events of the feed and the tabs. */
export const TOPIC = Object.freeze({
  SIGNED_IN: "signed-in", // the session's `me`
  SESSION_ENDED: "session-ended", // a sentence saying why
  NOW_PLAYING: "now-playing", // the now_playing shown (null: nothing active)
  STATE_ERROR: "state-error", // a part of the state Spotify could not give
  QUEUE: "queue",
  DEVICES: "devices",
  STATUS: "status", // the feed's last `status` message
  EVENT: "event", // a playback event, live
  RESET: "reset", // the feed could not resume: read the state again
  FEED: "feed", // the live feed's state: connecting, live, offline, forbidden
  TAB: "tab", // the tab shown
  REQUESTS: "requests", // the song request queue ({open, closed_message, items})
  REQUEST_CHANGED: "request-changed", // a request changed somewhere (the feed said so)
  REQUEST_SETTINGS: "request-settings", // the request rules ({settings, version})
  REQUEST_BANS: "request-bans", // the banned viewers
  QUEUE_PAGE: "queue-page", // the public queue page's link ({enabled, url, ...})
  HISTORY: "history", // the plays shown in History: { query, items, nextCursor }
  STREAMS: "streams", // the account's streams, newest first
  STATS: "stats", // the stats shown: { scope, stats }
  PLAY: "play", // a play of the history started or ended, live: { change, play }
});

/** How long an unconfirmed change outlives reports that contradict it (a poll or two). */
const ASSUMED_FOR_MS = 4000;

class Store {
  #me = null; // GET /v1/me (account, label, permissions)
  #permissions = new Set();
  #nowPlaying = null;
  #queue = null;
  #devices = null;
  #status = null;
  #requests = null;
  #requestSettings = null;
  #requestBans = null;
  #queuePage = null;
  #history = { query: null, items: [], nextCursor: null };
  #streams = null;
  #stats = null;
  #topics = new Map();
  // What this page changed before Spotify confirmed it: a now_playing observed before the
  // change may still arrive, and must not flip the control back under the user's finger.
  #assumed = null; // { uri, changes, until }
  /** Where the playing item is (the same model as the overlay's). */
  playhead = new Playhead();

  get me() {
    return this.#me;
  }

  get nowPlaying() {
    return this.#nowPlaying;
  }

  get queue() {
    return this.#queue;
  }

  get devices() {
    return this.#devices;
  }

  get status() {
    return this.#status;
  }

  get requests() {
    return this.#requests;
  }

  get requestSettings() {
    return this.#requestSettings;
  }

  get requestBans() {
    return this.#requestBans;
  }

  get queuePage() {
    return this.#queuePage;
  }

  get history() {
    return this.#history;
  }

  get streams() {
    return this.#streams;
  }

  get stats() {
    return this.#stats;
  }

  /** Whether the signed-in session holds `permission`. */
  can(permission) {
    return this.#permissions.has(permission);
  }

  /** Subscribe to a topic; returns the unsubscribe function. */
  on(topic, listener) {
    if (!this.#topics.has(topic)) this.#topics.set(topic, new Set());
    this.#topics.get(topic).add(listener);
    return () => this.#topics.get(topic).delete(listener);
  }

  /** Publish a topic that changes no state (an event, the feed's state, a tab). */
  emit(topic, payload) {
    for (const listener of this.#topics.get(topic) || []) {
      try {
        listener(payload);
      } catch (error) {
        console.error(`a listener of ${topic} failed`, error);
      }
    }
  }

  signIn(me) {
    this.#me = me;
    this.#permissions = new Set(me.permissions);
    this.emit(TOPIC.SIGNED_IN, me);
  }

  signOut() {
    this.#me = null;
    this.#permissions = new Set();
    this.#queue = null;
    this.#devices = null;
    this.#status = null;
    this.#requests = null;
    this.#requestSettings = null;
    this.#requestBans = null;
    this.#queuePage = null;
    this.#history = { query: null, items: [], nextCursor: null };
    this.#streams = null;
    this.#stats = null;
    this.setNowPlaying(null);
  }

  /** What plays; `serverTime` when it came from the feed (the playhead syncs to it). */
  setNowPlaying(nowPlaying, serverTime) {
    const fromFeed = serverTime !== undefined;
    const shown = fromFeed ? this.#withAssumed(nowPlaying) : this.#withRequester(this.#withAssumed(nowPlaying));
    this.#nowPlaying = shown;
    this.playhead.update(shown, serverTime);
    this.emit(TOPIC.NOW_PLAYING, shown);
  }

  /** The feed names who requested the playing track; GET /v1/spotify/state does not:
   * a reading of the same track from there keeps the name the feed gave. */
  #withRequester(nowPlaying) {
    const before = this.#nowPlaying;
    if (!nowPlaying || !before || !before.requested_by || nowPlaying.requested_by) return nowPlaying;
    const same = nowPlaying.track && before.track && nowPlaying.track.uri === before.track.uri;
    return same ? { ...nowPlaying, requested_by: before.requested_by } : nowPlaying;
  }

  /** `nowPlaying` with this page's unconfirmed changes laid over it, until confirmed. */
  #withAssumed(nowPlaying) {
    const assumed = this.#assumed;
    if (!assumed || !nowPlaying) return nowPlaying;
    const uri = nowPlaying.track ? nowPlaying.track.uri : null;
    const confirmed = Object.keys(assumed.changes).every((key) => nowPlaying[key] === assumed.changes[key]);
    if (confirmed || uri !== assumed.uri || Date.now() > assumed.until) {
      this.#assumed = null;
      return nowPlaying;
    }
    return { ...nowPlaying, ...assumed.changes };
  }

  /** A change made on this page before Spotify confirms it (play, pause, shuffle...). */
  assumeNowPlaying(changes) {
    if (!this.#nowPlaying) return;
    this.#nowPlaying = { ...this.#nowPlaying, ...changes };
    const { progress_ms: _seek, ...held } = changes; // a seek is confirmed by the playhead's own hold
    if (Object.keys(held).length) {
      const track = this.#nowPlaying.track;
      this.#assumed = { uri: track ? track.uri : null, changes: held, until: Date.now() + ASSUMED_FOR_MS };
    }
    if ("is_playing" in changes) this.playhead.setPlaying(changes.is_playing);
    if ("progress_ms" in changes) this.playhead.seek(changes.progress_ms);
    this.emit(TOPIC.NOW_PLAYING, this.#nowPlaying);
  }

  /** Back to a state known before (an optimistic change Spotify refused). */
  restoreNowPlaying(nowPlaying, playhead) {
    this.#assumed = null;
    this.#nowPlaying = nowPlaying;
    Object.assign(this.playhead, playhead);
    this.emit(TOPIC.NOW_PLAYING, nowPlaying);
  }

  /** The playhead's state, to restore later. */
  playheadSnapshot() {
    const { uri, duration, playing, anchor, holdUntil } = this.playhead;
    return { uri, duration, playing, anchor, holdUntil };
  }

  setQueue(queue) {
    this.#queue = queue;
    this.emit(TOPIC.QUEUE, queue);
  }

  setDevices(devices) {
    this.#devices = devices;
    this.emit(TOPIC.DEVICES, devices);
  }

  /** The request queue as GET /v1/requests gives it. */
  setRequests(queue) {
    this.#requests = queue;
    this.emit(TOPIC.REQUESTS, queue);
  }

  /** The queue with one request's place changed before the server confirms it (a drop). */
  reorderRequests(requestId, position) {
    const queue = this.#requests;
    if (!queue) return;
    const waiting = queue.items.filter((item) => item.position != null);
    const moved = waiting.find((item) => item.id === requestId);
    if (!moved) return;
    const others = waiting.filter((item) => item !== moved);
    others.splice(Math.max(0, Math.min(others.length, position - 1)), 0, moved);
    const placed = others.map((item, index) => ({ ...item, position: index + 1 }));
    const rest = queue.items.filter((item) => item.position == null);
    this.setRequests({ ...queue, items: [...rest, ...placed] });
  }

  setRequestSettings(settings) {
    this.#requestSettings = settings;
    this.emit(TOPIC.REQUEST_SETTINGS, settings);
  }

  setRequestBans(bans) {
    this.#requestBans = bans;
    this.emit(TOPIC.REQUEST_BANS, bans);
  }

  setQueuePage(page) {
    this.#queuePage = page;
    this.emit(TOPIC.QUEUE_PAGE, page);
  }

  setStatus(status) {
    this.#status = status;
    this.emit(TOPIC.STATUS, status);
  }

  // ---- play history ----

  /** A page of plays for `query`; `more`: an older page of the same query, appended. */
  setHistoryPage(query, page, { more = false } = {}) {
    const items = more && this.#history.query === query ? [...this.#history.items, ...page.items] : page.items;
    this.#history = { query, items, nextCursor: page.next_cursor };
    this.emit(TOPIC.HISTORY, this.#history);
  }

  /** A play started or ended (the feed's `play`): shown in place, or first when it is new
   * and belongs to what History shows. */
  notePlay(change, play) {
    const history = this.#history;
    const index = history.items.findIndex((item) => item.id === play.id);
    if (index >= 0) {
      const items = history.items.slice();
      items[index] = play;
      this.#history = { ...history, items };
      this.emit(TOPIC.HISTORY, this.#history);
    } else if (history.query && history.query.matches(play)) {
      this.#history = { ...history, items: [play, ...history.items] };
      this.emit(TOPIC.HISTORY, this.#history);
    }
    this.emit(TOPIC.PLAY, { change, play });
  }

  setStreams(streams) {
    this.#streams = streams;
    this.emit(TOPIC.STREAMS, streams);
  }

  /** The stats of `scope` (a stream or a period, as the Stats tab chose it). */
  setStats(scope, stats) {
    this.#stats = { scope, stats };
    this.emit(TOPIC.STATS, this.#stats);
  }
}

/** The page's one store. */
export const store = new Store();
