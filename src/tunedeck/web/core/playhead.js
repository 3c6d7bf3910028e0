// Where the playing item is, between the feed's messages: one model for every page, so
// the dashboard and the overlay show the same position.
//
// A now_playing carries progress_ms and server_time (the server's clock when it was
// read); the clock offset comes from each hello and is refined by every later message
// (a message can only arrive after it was stamped). Between messages the playhead moves
// with the local clock. A correction backwards smaller than HOLD_MAX_MS while playing (a
// poll's rounding) holds the playhead still until the real one catches up, instead of
// jumping back; a larger one (a seek) moves it at once. A reading without server_time (a
// REST answer, stamped by nobody) only moves it when it differs by more than
// UNTIMED_TOLERANCE_MS, or changes the item or play state. Always within [0, duration].

export const HOLD_MAX_MS = 1500;
export const UNTIMED_TOLERANCE_MS = 1000;

/** Milliseconds since the epoch on a clock that never jumps (unlike Date.now()). */
export const wallClock = () => performance.timeOrigin + performance.now();

export class Playhead {
  #now;
  #offset = null; // server clock minus local clock, ms
  uri = null;
  duration = 0;
  playing = false;
  anchor = 0; // the position shown at `holdUntil`
  holdUntil = 0; // local time until which the playhead stands still

  constructor({ now = wallClock } = {}) {
    this.#now = now;
  }

  now() {
    return this.#now();
  }

  /** A hello's server_time: the clock offset starts over (perhaps another server). */
  syncClock(serverTime) {
    if (typeof serverTime === "number") this.#offset = serverTime - this.#now();
  }

  /** The position at local time `t` (ms). */
  position(t = this.#now()) {
    let position = this.anchor;
    if (this.playing && t > this.holdUntil) position += t - this.holdUntil;
    return Math.max(0, Math.min(this.duration, position));
  }

  /** A now_playing (or null) and its server_time (undefined: a REST answer). */
  update(np, serverTime) {
    const now = this.#now();
    const track = np && np.track;
    const uri = track ? track.uri : null;
    const duration = track ? track.duration_ms || 0 : 0;
    const playing = Boolean(np && np.is_playing && track);
    const progress = np && typeof np.progress_ms === "number" ? np.progress_ms : 0;
    const timed = typeof serverTime === "number";
    if (timed) {
      const lower = serverTime - now; // stamped before it arrived: a bound on the offset
      this.#offset = this.#offset === null ? lower : Math.max(this.#offset, lower);
    }
    const age = timed ? Math.max(0, now + this.#offset - serverTime) : 0;
    const truth = Math.max(0, Math.min(duration, progress + (playing ? age : 0)));
    const sameItem = uri !== null && uri === this.uri && duration === this.duration;
    const shown = sameItem ? this.position(now) : 0;
    const steady = sameItem && playing === this.playing;
    this.uri = uri;
    this.duration = duration;
    if (!timed && steady && Math.abs(truth - shown) <= UNTIMED_TOLERANCE_MS) return;
    if (steady && playing && truth < shown && shown - truth < HOLD_MAX_MS) {
      this.anchor = shown;
      this.holdUntil = now + (shown - truth);
    } else {
      this.anchor = truth;
      this.holdUntil = now;
    }
    this.playing = playing;
  }

  /** Jump to `position` now (a seek made on this page, before Spotify confirms it). */
  seek(position) {
    this.anchor = Math.max(0, Math.min(this.duration, position));
    this.holdUntil = this.#now();
  }

  /** Play or pause from where it is now (a command made on this page). */
  setPlaying(playing) {
    const now = this.#now();
    this.anchor = this.position(now);
    this.holdUntil = now;
    this.playing = Boolean(playing) && this.uri !== null;
  }
}
