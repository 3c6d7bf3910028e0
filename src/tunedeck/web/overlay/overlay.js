// The overlay page's wiring: options from the fragment, the feed's messages into the view
// and the progress bar (the core's playhead, the dashboard's model), and when to show or
// hide. What the page believes is on the root element's data attributes, for the curious
// and the tests: data-feed, data-current (the item playing, as soon as the feed says so),
// data-item (the item on screen, once its slide-in started), data-state, data-visible,
// data-connects.
//
// Never blank, never stale: once something was shown, a dropped feed keeps it on screen
// (the bar keeps moving) while the feed reconnects; only a refused token (4401) hides it.

import { LiveFeed } from "../core/feed.js";
import { clock } from "../core/format.js";
import { Playhead } from "../core/playhead.js";
import { ProgressBar } from "../core/progress.js";
import { Accent } from "./accent.js";
import { parse } from "./options.js";
import { View } from "./view.js";

const LOG = "TuneDeck overlay: ";

function itemOf(np) {
  if (!np) return { key: "idle", kind: "idle", title: "Nothing playing", artists: "", album: "" };
  const track = np.track;
  if (!track) {
    // Spotify names no item during an ad (progress runs) and in a private session.
    if (np.is_playing && typeof np.progress_ms === "number") {
      return { key: "ad", kind: "ad", title: "Advertisement", artists: "The music is back after the break", album: "" };
    }
    return { key: "private", kind: "private", title: "", artists: "", album: "" };
  }
  const local = /^spotify:local:/.test(track.uri);
  return {
    key: track.uri,
    kind: track.type === "episode" ? "episode" : local ? "local" : "track",
    title: track.name,
    artists: (track.artists || []).join(", "),
    album: track.album || "",
    art: local ? null : track.album_art_url || null,
    requester: np.requested_by || "",
  };
}

class OverlayPage {
  root = document.getElementById("overlay");
  view = new View(this.root, document.getElementById("slot-template"));
  playhead = new Playhead();
  bar = new ProgressBar(this.playhead, {
    bars: [this.root.querySelector(".fill")],
    onTime: (position, duration) => {
      this.root.querySelector(".elapsed").textContent = clock(position);
      this.root.querySelector(".duration").textContent = clock(duration);
    },
  });
  parsed = parse(location.hash);
  feed = null;
  accent = null;
  item = null; // what is shown: {key, kind, ...}
  paused = false;
  revoked = false;
  showUntil = 0; // showfor: visible until this time (ms), after a change
  showTimer = null;
  statusText = "";
  connects = 0;

  get options() {
    return this.parsed.options;
  }

  start() {
    this.warnUnknown(this.parsed.unknown);
    this.view.apply(this.options);
    if (!this.parsed.token && !this.parsed.preview) {
      console.log(`${LOG}no token in the URL (#token=...); create one in the builder.`);
      this.view.setState("no-token");
      this.refresh();
      return;
    }
    this.accent = new Accent(this.parsed.token);
    this.feed = new LiveFeed({
      token: this.parsed.token,
      onMessage: (message) => this.onMessage(message),
      onState: (state, detail) => this.onFeedState(state, detail),
    });
    this.feed.start();
  }

  warnUnknown(names) {
    if (names.length) console.log(`${LOG}ignored option(s) ${names.join(", ")} (unknown or bad value)`);
  }

  onFeedState(state, detail) {
    this.root.dataset.feed = state === "refused" ? "revoked" : state;
    if (state === "open") {
      this.connects += 1;
      this.root.dataset.connects = String(this.connects);
    } else if (state === "refused") {
      console.log(
        `${LOG}the feed refused this overlay's token (${detail.reason || "invalid or revoked"}); hiding. ` +
          "Create a new overlay URL in the builder.",
      );
      this.revoked = true;
      this.view.setState("revoked");
      this.refresh();
    } else if (state === "waiting") {
      console.log(`${LOG}${detail.why}; reconnecting in ${(detail.delay / 1000).toFixed(1)} s`);
    }
  }

  onMessage(message) {
    switch (message.type) {
      case "hello":
        this.playhead.syncClock(message.server_time);
        break;
      case "now_playing":
        this.nowPlaying(message.now_playing, message.server_time);
        break;
      case "status":
        this.status(message);
        break;
      default:
        break; // events are not for overlays; a reset is followed by a fresh now_playing
    }
  }

  nowPlaying(np, serverTime) {
    const next = itemOf(np);
    const changed = !this.item || this.item.key !== next.key;
    this.item = next;
    this.root.dataset.current = next.key;
    this.paused = Boolean(np && np.track && !np.is_playing);
    this.playhead.update(np, serverTime);
    this.bar.render();
    this.view.setPaused(this.paused);
    this.view.setState(next.kind === "idle" ? "idle" : this.paused ? "paused" : next.kind);
    if (!changed && this.view.current && this.view.current.key === next.key) {
      this.view.setRequester(next.requester);
    }
    if (changed) {
      if (this.options.showfor > 0) this.openShowWindow();
      this.view.show(next).then((shown) => {
        if (shown && this.options.accent === "art") this.takeAccent(next);
      });
    }
    this.refresh();
  }

  takeAccent(forItem) {
    if (!forItem.art) return;
    this.accent.of(forItem.art).then((color) => {
      if (this.item && this.item.key === forItem.key && this.options.accent === "art") this.view.setAccent(color);
    });
  }

  status(message) {
    const kind = message.status;
    if (kind === "needs_reauth") this.statusText = "Spotify needs to be reconnected";
    else if (kind === "rate_limited") this.statusText = "Spotify asks us to slow down";
    else this.statusText = "";
    // The headline only: the server's detail is for the streamer's dashboard, and it
    // would not fit the overlay's width (it goes to the console instead).
    if (this.statusText && message.message) console.info(LOG + message.message);
    this.view.setStatus(this.options.status ? this.statusText : "");
    this.refresh();
  }

  openShowWindow() {
    this.showUntil = Date.now() + this.options.showfor * 1000;
    clearTimeout(this.showTimer);
    this.showTimer = setTimeout(() => this.refresh(), this.options.showfor * 1000 + 20);
  }

  visible() {
    const options = this.options;
    const item = this.item;
    if (this.revoked || !item) return false;
    if (options.status && this.statusText) return true;
    if (item.kind === "private") return false;
    if (item.kind === "idle" && options.idle === "hide") return false;
    if (item.kind === "ad" && options.ads === "hide") return false;
    if (options.hidepaused && this.paused) return false;
    if (options.showfor > 0 && Date.now() >= this.showUntil) return false;
    return true;
  }

  refresh() {
    this.view.setVisible(this.visible());
  }

  hashChanged() {
    const next = parse(location.hash);
    this.warnUnknown(next.unknown);
    const restart = next.token !== this.parsed.token || next.preview !== this.parsed.preview;
    this.parsed = next;
    this.view.apply(this.options);
    this.view.setStatus(this.options.status ? this.statusText : "");
    if (this.options.showfor > 0) this.openShowWindow();
    if (this.options.accent === "art" && this.item) this.takeAccent(this.item);
    if (restart) {
      if (this.feed) this.feed.stop();
      this.revoked = false;
      this.start();
      return;
    }
    this.refresh();
  }
}

const page = new OverlayPage();
window.addEventListener("hashchange", () => page.hashChanged());
page.start();
