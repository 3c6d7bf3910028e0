// The live feed, GET /v1/spotify/live over a WebSocket, for every page.
//
// Authenticated by the session cookie, or by a token handed over in the first message
// ({"type": "auth", "token", "since"}; never in the URL). Resumes with `since` = the
// highest message id seen, so missed events arrive in order and once. Reconnects by
// itself with exponential backoff and jitter. Close codes: 4401 (credential refused,
// revoked or ended) stops it for good; 4403 (origin, permission) retries slowly; 4400
// "already authenticated" (a token page in a signed-in browser) switches to the cookie;
// anything else retries with backoff.

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_MAX_MS = 30000;
const SLOW_ATTEMPT = 6; // a refused origin or permission is retried at the slow end
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;
const CLOSE_BAD_MESSAGE = 4400;

/** Exponential backoff with "equal jitter": half the step fixed, half random. */
export function backoffDelay(attempt, random = Math.random) {
  const step = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(step / 2 + random() * (step / 2));
}

export class LiveFeed {
  #token;
  #sendAuth;
  #onMessage;
  #onState;
  #since = null;
  #attempt = 0;
  #socket = null;
  #timer = null;
  #stopped = true;
  #online = () => {
    if (!this.#stopped && !this.#socket) this.#schedule(0);
  };

  /**
   * token: an overlay token or key to send in the first message ("" for the cookie).
   * onMessage(message): every message, in order.
   * onState(state, detail): "connecting" {attempt}, "open", "waiting" {why, delay, code},
   * "refused" {code, reason} (final).
   */
  constructor({ token = "", onMessage, onState = () => {} }) {
    this.#token = token;
    this.#sendAuth = Boolean(token);
    this.#onMessage = onMessage;
    this.#onState = onState;
  }

  /** The highest message id seen (what a reconnection resumes from), or null. */
  get since() {
    return this.#since;
  }

  start() {
    this.#stopped = false;
    window.addEventListener("online", this.#online);
    this.#connect();
  }

  stop(reason = "page closed") {
    this.#stopped = true;
    window.removeEventListener("online", this.#online);
    clearTimeout(this.#timer);
    const socket = this.#socket;
    this.#socket = null;
    if (socket) socket.close(1000, reason);
  }

  #url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams();
    // With a token, auth=message makes it count even in a browser signed in to the
    // dashboard (whose cookie would otherwise authenticate the socket instead).
    if (this.#sendAuth) query.set("auth", "message");
    else if (this.#since !== null) query.set("since", String(this.#since));
    const text = query.toString();
    return `${scheme}//${location.host}/v1/spotify/live${text ? `?${text}` : ""}`;
  }

  #connect() {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#onState("connecting", { attempt: this.#attempt });
    let socket;
    try {
      socket = new WebSocket(this.#url());
    } catch (error) {
      this.#retry(`could not open the feed: ${error}`, 0);
      return;
    }
    this.#socket = socket;
    socket.addEventListener("open", () => {
      if (!this.#sendAuth || this.#socket !== socket) return;
      const auth = { type: "auth", token: this.#token };
      if (this.#since !== null) auth.since = this.#since;
      socket.send(JSON.stringify(auth));
    });
    socket.addEventListener("message", (event) => {
      if (this.#socket !== socket) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (typeof message.id === "number" && (this.#since === null || message.id > this.#since)) {
        this.#since = message.id;
      }
      if (message.type === "hello") {
        this.#attempt = 0;
        this.#onState("open", {});
      }
      this.#onMessage(message);
    });
    socket.addEventListener("close", (event) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#closed(event.code, event.reason || "");
    });
  }

  #closed(code, reason) {
    if (this.#stopped) return;
    if (code === CLOSE_UNAUTHORIZED) {
      this.stop("refused");
      this.#onState("refused", { code, reason });
      return;
    }
    if (code === CLOSE_BAD_MESSAGE && /already authenticated/.test(reason) && this.#sendAuth) {
      // This browser is signed in to TuneDeck: its cookie already authenticated us.
      this.#sendAuth = false;
      this.#onState("waiting", { why: "signed-in browser, using its session", delay: 0, code });
      this.#schedule(0);
      return;
    }
    if (code === CLOSE_FORBIDDEN) this.#attempt = Math.max(this.#attempt, SLOW_ATTEMPT);
    this.#retry(`feed closed (${code}${reason ? ` ${reason}` : ""})`, code);
  }

  #retry(why, code) {
    const delay = backoffDelay(this.#attempt);
    this.#attempt += 1;
    this.#onState("waiting", { why, delay, code });
    this.#schedule(delay);
  }

  #schedule(delay) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#connect(), delay);
  }
}
