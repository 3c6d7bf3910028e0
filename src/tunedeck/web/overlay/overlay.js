/* TuneDeck overlay: the page's wiring. Options from the fragment, the feed's messages
 * into the view and the progress bar, and when to show or hide.
 *
 * Never blank, never stale: once something was shown, a dropped feed keeps it on screen
 * (the bar keeps moving) while the feed reconnects; only a refused token (4401) hides it. */
(function () {
  "use strict";
  var TD = window.TuneDeck;

  var root = document.getElementById("overlay");
  var view = new TD.View(root, document.getElementById("slot-template"));
  var progress = new TD.Progress(
    root.querySelector(".fill"), root.querySelector(".elapsed"), root.querySelector(".duration")
  );

  var parsed = TD.options.parse(location.hash);
  var options = parsed.options;
  var feed = null;
  var accent = null;
  var item = null; // what is shown: {key, kind, ...}
  var paused = false;
  var revoked = false;
  var showUntil = 0; // showfor: visible until this time (ms), after a change
  var showTimer = null;
  var statusText = "";
  var connects = 0;

  function start() {
    warnUnknown(parsed.unknown);
    view.apply(options);
    if (!parsed.token && !parsed.preview) {
      console.log("TuneDeck overlay: no token in the URL (#token=...); create one in the builder.");
      view.setState("no-token");
      refresh();
      return;
    }
    accent = new TD.Accent(parsed.token);
    feed = new TD.Feed(parsed.token, { onMessage: onMessage, onState: onFeedState });
    feed.start();
  }

  function warnUnknown(names) {
    if (names.length) {
      console.log("TuneDeck overlay: ignored option(s) " + names.join(", ") + " (unknown or bad value)");
    }
  }

  function onFeedState(state, detail) {
    root.setAttribute("data-feed", state);
    if (state === "open") connects += 1;
    if (state === "revoked") {
      revoked = true;
      view.setState("revoked");
      refresh();
    } else if (state === "waiting") {
      console.log("TuneDeck overlay: " + detail.why + "; reconnecting in " +
        (detail.delay / 1000).toFixed(1) + " s");
    }
  }

  function onMessage(message) {
    switch (message.type) {
      case "hello":
        progress.syncClock(message.server_time);
        break;
      case "now_playing":
        nowPlaying(message.now_playing, message.server_time);
        break;
      case "status":
        status(message);
        break;
      case "reset":
        break; // a fresh now_playing follows
    }
  }

  function nowPlaying(np, serverTime) {
    var next = itemOf(np);
    var changed = !item || item.key !== next.key;
    item = next;
    paused = !!(np && np.track && !np.is_playing);
    progress.update(np, serverTime);
    view.setPaused(paused);
    view.setState(next.kind === "idle" ? "idle" : paused ? "paused" : next.kind);
    if (changed) {
      if (options.showfor > 0) openShowWindow();
      view.show(next).then(function (shown) {
        if (shown && options.accent === "art") takeAccent(next);
      });
    }
    refresh();
  }

  function itemOf(np) {
    if (!np) return { key: "idle", kind: "idle", title: "Nothing playing", artists: "", album: "" };
    var track = np.track;
    if (!track) {
      // Spotify names no item during an ad (progress runs) and in a private session.
      if (np.is_playing && typeof np.progress_ms === "number") {
        return { key: "ad", kind: "ad", title: "Advertisement", artists: "The music is back after the break",
                 album: "" };
      }
      return { key: "private", kind: "private", title: "", artists: "", album: "" };
    }
    var local = /^spotify:local:/.test(track.uri);
    return {
      key: track.uri,
      kind: track.type === "episode" ? "episode" : local ? "local" : "track",
      title: track.name,
      artists: (track.artists || []).join(", "),
      album: track.album || "",
      art: local ? null : track.album_art_url || null,
    };
  }

  function takeAccent(forItem) {
    if (!forItem.art) return;
    accent.of(forItem.art).then(function (color) {
      if (item && item.key === forItem.key && options.accent === "art") view.setAccent(color);
    });
  }

  function status(message) {
    var kind = message.status;
    if (kind === "needs_reauth") statusText = "Spotify needs to be reconnected";
    else if (kind === "rate_limited") statusText = "Spotify asks us to slow down";
    else statusText = "";
    // The headline only: the server's detail is for the streamer's dashboard, and it
    // would not fit the overlay's width (it goes to the console instead).
    if (statusText && message.message) console.info("TuneDeck overlay: " + message.message);
    view.setStatus(options.status ? statusText : "");
    refresh();
  }

  function openShowWindow() {
    showUntil = Date.now() + options.showfor * 1000;
    clearTimeout(showTimer);
    showTimer = setTimeout(refresh, options.showfor * 1000 + 20);
  }

  function visible() {
    if (revoked || !item) return false;
    if (options.status && statusText) return true;
    if (item.kind === "private") return false;
    if (item.kind === "idle" && options.idle === "hide") return false;
    if (item.kind === "ad" && options.ads === "hide") return false;
    if (options.hidepaused && paused) return false;
    if (options.showfor > 0 && Date.now() >= showUntil) return false;
    return true;
  }

  function refresh() {
    view.setVisible(visible());
  }

  window.addEventListener("hashchange", function () {
    var next = TD.options.parse(location.hash);
    warnUnknown(next.unknown);
    var restart = next.token !== parsed.token || next.preview !== parsed.preview;
    parsed = next;
    options = next.options;
    view.apply(options);
    view.setStatus(options.status ? statusText : "");
    if (options.showfor > 0) openShowWindow();
    if (options.accent === "art" && item) takeAccent(item);
    if (restart) {
      if (feed) feed.stop();
      revoked = false;
      start();
      return;
    }
    refresh();
  });

  /* For tests and the curious: what the page believes. */
  TD.overlay = {
    state: function () {
      return {
        feed: root.getAttribute("data-feed"),
        since: feed ? feed.since : null,
        item: item ? item.key : null,
        kind: item ? item.kind : null,
        paused: paused,
        visible: visible(),
        connects: connects,
      };
    },
  };

  start();
})();
