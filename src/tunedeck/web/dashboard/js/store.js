// The page's shared state and a tiny publish/subscribe between the feature modules.

export const state = {
  me: null, // GET /v1/me (account, label, permissions)
  permissions: new Set(),
  nowPlaying: null, // the REST state's now_playing (null: nothing active)
  receivedAt: 0, // performance.now() when nowPlaying arrived (progress interpolation)
  queue: null,
  devices: null,
  playlists: null,
  status: null, // the last `status` message of the live feed
};

const topics = new Map();

/** Subscribe to a topic; returns the unsubscribe function. */
export function on(topic, listener) {
  if (!topics.has(topic)) topics.set(topic, new Set());
  topics.get(topic).add(listener);
  return () => topics.get(topic).delete(listener);
}

export function emit(topic, payload) {
  for (const listener of topics.get(topic) || []) {
    try {
      listener(payload);
    } catch (error) {
      console.error(`listener of ${topic} failed`, error);
    }
  }
}

/** Whether the signed-in session holds `permission`. */
export function can(permission) {
  return state.permissions.has(permission);
}

export function setNowPlaying(nowPlaying) {
  state.nowPlaying = nowPlaying;
  state.receivedAt = performance.now();
  emit("now_playing", nowPlaying);
}

/** The current position of the playing item, interpolated since it was read. */
export function positionMs() {
  const np = state.nowPlaying;
  if (!np || np.progress_ms == null) return 0;
  const duration = np.track ? np.track.duration_ms : Infinity;
  const elapsed = np.is_playing ? performance.now() - state.receivedAt : 0;
  return Math.max(0, Math.min(duration, np.progress_ms + elapsed));
}
