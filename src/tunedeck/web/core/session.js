// Signing in and out with a key. The key is sent once to POST /v1/session, which answers
// with an HttpOnly session cookie (the page never sees it) and the session's CSRF token,
// handed to the page's API client (memory only). Nothing is written to storage.

import { api, describeError } from "./api.js";

/** The current session ({me, expires_at, idle_timeout_seconds, csrf_token}) or null. */
export async function currentSession() {
  try {
    const session = await api.call("/v1/session");
    api.setCsrfToken(session.csrf_token);
    return session;
  } catch (error) {
    if (error.status === 401 || error.status === 404) return null;
    throw error;
  }
}

/** Trade `key` for a session; resolves to the session (its `me` included). */
export async function signIn(key) {
  const session = await api.call("/v1/session", { method: "POST", body: { key } });
  api.setCsrfToken(session.csrf_token);
  return session;
}

export async function signOut() {
  try {
    await api.call("/v1/session", { method: "DELETE" });
  } finally {
    api.setCsrfToken(null);
  }
}

/** The sentence for a refused sign-in. */
export function signInRefusal(error) {
  if (error && error.status === 401) return "That key is not valid (revoked, mistyped, or not an API key).";
  const { message, fix } = describeError(error);
  return fix ? `${message} ${fix}` : message;
}
