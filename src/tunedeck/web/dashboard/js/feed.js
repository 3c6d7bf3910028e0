// The live feed: GET /v1/spotify/live over a WebSocket, authenticated by the session
// cookie. Messages: hello, now_playing, event, status, reset. Reconnects with `since`
// (the last message id seen) so missed events arrive in order; 4401 means the session
// ended (signed out elsewhere, idle timeout, key revoked).

import { emit } from "./store.js";

const MAX_BACKOFF_MS = 15000;

let socket = null;
let lastId = null;
let attempt = 0;
let stopped = true;
let retryTimer = null;

export function startFeed() {
  stopped = false;
  connect();
}

export function stopFeed() {
  stopped = true;
  clearTimeout(retryTimer);
  if (socket) socket.close(1000, "signed out");
  socket = null;
  lastId = null;
}

function connect() {
  clearTimeout(retryTimer);
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const since = lastId === null ? "" : `?since=${lastId}`;
  emit("feed", "connecting");
  const ws = new WebSocket(`${scheme}://${location.host}/v1/spotify/live${since}`);
  socket = ws;
  ws.addEventListener("message", (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (typeof data.id === "number") lastId = data.id;
    handle(data);
  });
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    socket = null;
    if (stopped) return;
    if (event.code === 4401) {
      emit("session_ended", "Your session has ended (signed out, idle for too long, or its key was revoked).");
      return;
    }
    emit("feed", event.code === 4403 ? "forbidden" : "offline");
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
    attempt += 1;
    retryTimer = setTimeout(connect, delay);
  });
}

function handle(message) {
  switch (message.type) {
    case "hello":
      attempt = 0;
      emit("feed", "live");
      break;
    case "now_playing":
      emit("feed_now_playing", message.now_playing);
      break;
    case "event":
      emit("event", message.event);
      break;
    case "status":
      emit("status", message);
      break;
    case "reset":
      emit("reset", message.reason);
      break;
    default:
      break;
  }
}
