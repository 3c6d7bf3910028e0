/* TuneDeck overlay: the live feed client (WebSocket GET /v1/spotify/live).
 *
 * Sends the token in the first message ({"type": "auth", "token", "since"}), never in
 * the URL. Reconnects by itself with exponential backoff and jitter (at most ~30 s),
 * resuming with the last message id it saw. Close codes: 4401 (token invalid or
 * revoked) stops it for good; 4403 (origin, permission) retries slowly; 4400, 4408,
 * 1001 and lost connections retry with backoff. */
(function () {
  "use strict";
  var TD = (window.TuneDeck = window.TuneDeck || {});

  var BASE_DELAY = 500;
  var MAX_DELAY = 30000;

  /* handlers: onMessage(msg), onState(state, detail) with state one of
   * "connecting", "open", "waiting", "revoked". */
  function Feed(token, handlers) {
    this.token = token;
    this.handlers = handlers;
    this.since = null;
    this.attempt = 0;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
    // Without a token the page relies on the browser's session cookie (the builder's
    // preview); with a token, the token decides (see url()).
    this.sendAuth = !!token;
  }

  Feed.prototype.url = function () {
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    // With a token, ?auth=message makes it count even if this browser is signed in to
    // the dashboard (its cookie would otherwise authenticate the socket instead).
    var query = this.sendAuth ? "?auth=message" : "";
    return scheme + "//" + location.host + "/v1/spotify/live" + query;
  };

  Feed.prototype.start = function () {
    this.stopped = false;
    this.connect();
  };

  Feed.prototype.stop = function () {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "page closed");
  };

  Feed.prototype.connect = function () {
    var self = this;
    if (self.stopped) return;
    self.handlers.onState("connecting", { attempt: self.attempt });
    var socket;
    try {
      socket = new WebSocket(self.url());
    } catch (err) {
      self.retry("could not open the feed: " + err);
      return;
    }
    self.socket = socket;
    socket.onopen = function () {
      if (!self.sendAuth) return;
      var auth = { type: "auth", token: self.token };
      if (self.since !== null) auth.since = self.since;
      socket.send(JSON.stringify(auth));
    };
    socket.onmessage = function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (typeof message.id === "number" && (self.since === null || message.id > self.since)) {
        self.since = message.id;
      }
      if (message.type === "hello") {
        self.attempt = 0;
        self.handlers.onState("open", {});
      }
      self.handlers.onMessage(message);
    };
    socket.onclose = function (event) {
      if (self.socket !== socket) return;
      self.socket = null;
      self.closed(event.code, event.reason || "");
    };
  };

  Feed.prototype.closed = function (code, reason) {
    if (this.stopped) return;
    if (code === 4401) {
      this.stopped = true;
      console.log("TuneDeck overlay: the feed refused this overlay's token (" +
        (reason || "invalid or revoked") + "); hiding. Create a new overlay URL in the builder.");
      this.handlers.onState("revoked", { code: code, reason: reason });
      return;
    }
    if (code === 4400 && /already authenticated/.test(reason) && this.sendAuth) {
      // This browser is signed in to TuneDeck: its cookie already authenticated us.
      console.log("TuneDeck overlay: signed-in browser, using its session for the feed.");
      this.sendAuth = false;
      this.schedule(0);
      return;
    }
    if (code === 4403) {
      console.log("TuneDeck overlay: the feed refused this page (" + reason + ").");
      this.attempt = Math.max(this.attempt, 6);
    }
    this.retry("feed closed (" + code + (reason ? " " + reason : "") + ")");
  };

  Feed.prototype.retry = function (why) {
    var delay = backoff(this.attempt);
    this.attempt += 1;
    this.handlers.onState("waiting", { why: why, delay: delay });
    this.schedule(delay);
  };

  Feed.prototype.schedule = function (delay) {
    var self = this;
    clearTimeout(self.timer);
    self.timer = setTimeout(function () { self.connect(); }, delay);
  };

  /* Exponential backoff with "equal jitter": half the step fixed, half random. */
  function backoff(attempt) {
    var step = Math.min(MAX_DELAY, BASE_DELAY * Math.pow(2, attempt));
    return Math.round(step / 2 + Math.random() * (step / 2));
  }

  TD.Feed = Feed;
  TD.backoff = backoff;
})();
