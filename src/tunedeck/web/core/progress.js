// A progress bar drawn from a Playhead: each bar element (a full-width box inside a
// track that clips it) is moved with a transform, as one compositor animation from here
// to the end of the item, so nothing is laid out per frame and every page's bar is where
// the playhead is at any instant. The time shown (onTime) changes as the playhead passes
// each whole second.

const TICK_SLACK_MS = 15; // wake just after the second has turned, not just before

function translate(fraction) {
  return `translateX(${((Math.max(0, Math.min(1, fraction)) - 1) * 100).toFixed(4)}%)`;
}

export class ProgressBar {
  #playhead;
  #bars;
  #onTime;
  #animations = [];
  #timer = null;
  #frozen = null; // a position shown instead of the playhead's (a seek being dragged)

  /** bars: elements moved together; onTime(positionMs, durationMs) for the labels. */
  constructor(playhead, { bars, onTime = () => {} }) {
    this.#playhead = playhead;
    this.#bars = bars;
    this.#onTime = onTime;
  }

  /** Show `position` and stand still (a drag in progress); null follows the playhead again. */
  freeze(position) {
    this.#frozen = position;
    this.render();
  }

  /** Draw the playhead as it is now (call after every change to it). */
  render() {
    for (const animation of this.#animations) animation.cancel();
    this.#animations = [];
    clearTimeout(this.#timer);
    const head = this.#playhead;
    const now = head.now();
    const duration = head.duration;
    const position = this.#frozen ?? head.position(now);
    const fraction = duration ? position / duration : 0;
    for (const bar of this.#bars) bar.style.transform = translate(fraction);
    const moving = this.#frozen === null && head.playing && duration > 0 && position < duration;
    if (moving && this.#bars.length && this.#bars[0].animate) {
      const delay = Math.max(0, head.holdUntil - now);
      const start = Math.min(head.anchor, duration);
      for (const bar of this.#bars) {
        const animation = bar.animate([{ transform: translate(start / duration) }, { transform: translate(1) }], {
          duration: Math.max(1, duration - start),
          delay,
          fill: "both",
          easing: "linear",
        });
        if (delay === 0) animation.currentTime = Math.max(0, position - start);
        this.#animations.push(animation);
      }
    }
    this.#tick();
  }

  #tick() {
    const head = this.#playhead;
    const now = head.now();
    const position = this.#frozen ?? head.position(now);
    this.#onTime(position, head.duration);
    if (this.#frozen !== null || !head.playing || position >= head.duration) return;
    const wait = Math.max(0, head.holdUntil - now) + (1000 - (position % 1000)) + TICK_SLACK_MS;
    this.#timer = setTimeout(() => this.#tick(), wait);
  }
}
