/* TuneDeck overlay: the progress bar, interpolated locally.
 *
 * The feed sends progress_ms with server_time (ms, the server's clock when it was read)
 * only when something changes; between messages the bar moves by itself. The clock
 * offset comes from each hello's server_time. The bar is one compositor animation
 * (a transform from here to the end of the item), so nothing is laid out per frame;
 * the time labels change once a second.
 *
 * Never backwards by accident: when a message puts the playhead a little behind what is
 * shown (a poll's rounding, the pause the poller saw late), the bar holds until the
 * playhead catches up instead of jumping back. A real seek (further than JUMP_BACK)
 * moves it at once. Always clamped to [0, duration]. */
(function () {
  "use strict";
  var TD = (window.TuneDeck = window.TuneDeck || {});

  var JUMP_BACK = 4000; // a correction backwards smaller than this is held, not shown

  function Progress(fill, elapsed, total) {
    this.fill = fill;
    this.elapsedEl = elapsed;
    this.totalEl = total;
    this.offset = null; // server clock minus local clock, ms
    this.uri = null;
    this.duration = 0;
    this.playing = false;
    this.anchorPos = 0; // ms shown at holdUntil
    this.holdUntil = 0; // local time (Date.now()) until which the bar holds still
    this.animation = null;
    this.ticker = null;
    this.lastText = "";
  }

  Progress.prototype.syncClock = function (serverTime) {
    if (typeof serverTime === "number") this.offset = serverTime - Date.now();
  };

  /* The position shown at local time t, ms. */
  Progress.prototype.shown = function (t) {
    var pos = this.anchorPos;
    if (this.playing && t > this.holdUntil) pos += t - this.holdUntil;
    return Math.max(0, Math.min(this.duration, pos));
  };

  /* A now_playing (or null) with the message's server_time. */
  Progress.prototype.update = function (np, serverTime) {
    var now = Date.now();
    var track = np && np.track;
    var uri = track ? track.uri : null;
    var duration = track ? track.duration_ms || 0 : 0;
    var playing = !!(np && np.is_playing && track);
    var progress = np && typeof np.progress_ms === "number" ? np.progress_ms : 0;
    if (this.offset === null && typeof serverTime === "number") this.offset = serverTime - now;
    var age = typeof serverTime === "number" ? Math.max(0, now + this.offset - serverTime) : 0;
    var truth = Math.max(0, Math.min(duration, progress + (playing ? age : 0)));

    var sameItem = uri !== null && uri === this.uri && duration === this.duration;
    var shown = sameItem ? this.shown(now) : 0;
    this.uri = uri;
    this.duration = duration;
    this.playing = playing;
    if (sameItem && truth < shown && shown - truth < JUMP_BACK) {
      // Hold where the bar is; move on once the real playhead gets there.
      this.anchorPos = shown;
      this.holdUntil = now + (playing ? shown - truth : 0);
    } else {
      this.anchorPos = truth;
      this.holdUntil = now;
    }
    this.render(now);
  };

  Progress.prototype.render = function (now) {
    if (this.animation) {
      this.animation.cancel();
      this.animation = null;
    }
    var duration = this.duration;
    if (!duration) {
      this.fill.style.transform = "translateX(-100%)";
      this.stopTicker();
      this.setTimes(0, 0);
      return;
    }
    var pos = this.shown(now);
    var from = pos / duration;
    this.fill.style.transform = translate(from);
    if (this.playing && pos < duration && this.fill.animate) {
      var delay = Math.max(0, this.holdUntil - now);
      var start = this.anchorPos / duration;
      this.animation = this.fill.animate(
        [{ transform: translate(Math.min(1, start)) }, { transform: translate(1) }],
        {
          duration: Math.max(1, duration - Math.min(duration, this.anchorPos)),
          delay: delay,
          fill: "both",
          easing: "linear",
        }
      );
      if (delay === 0 && pos > this.anchorPos) {
        this.animation.currentTime = pos - this.anchorPos;
      }
      this.startTicker();
    } else {
      this.stopTicker();
    }
    this.tick();
  };

  Progress.prototype.tick = function () {
    var now = Date.now();
    this.setTimes(this.shown(now), this.duration);
  };

  Progress.prototype.setTimes = function (pos, duration) {
    var text = clock(pos) + "/" + clock(duration);
    if (text === this.lastText) return;
    this.lastText = text;
    this.elapsedEl.textContent = clock(pos);
    this.totalEl.textContent = clock(duration);
  };

  Progress.prototype.startTicker = function () {
    var self = this;
    if (self.ticker) return;
    self.ticker = setInterval(function () { self.tick(); }, 1000);
  };

  Progress.prototype.stopTicker = function () {
    if (!this.ticker) return;
    clearInterval(this.ticker);
    this.ticker = null;
  };

  function translate(fraction) {
    return "translateX(" + ((Math.max(0, Math.min(1, fraction)) - 1) * 100).toFixed(3) + "%)";
  }

  function clock(ms) {
    var total = Math.floor(Math.max(0, ms) / 1000);
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    var ss = (s < 10 ? "0" : "") + s;
    if (h > 0) return h + ":" + (m < 10 ? "0" : "") + m + ":" + ss;
    return m + ":" + ss;
  }

  TD.Progress = Progress;
  TD.clock = clock;
})();
