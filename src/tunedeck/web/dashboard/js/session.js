// Signing in and out. The key is sent once to POST /v1/session, which answers with an
// HttpOnly session cookie (the page never sees it) and the session's CSRF token, which
// lives in this module's memory only. Nothing is written to storage.

import { api, setCsrfToken } from "./api.js";

/** The current session ({me, expires_at, idle_timeout_seconds, csrf_token}) or null. */
export async function currentSession() {
  try {
    const session = await api("/v1/session");
    setCsrfToken(session.csrf_token);
    return session;
  } catch (error) {
    if (error.status === 401 || error.status === 404) return null;
    throw error;
  }
}

export async function signIn(key) {
  const session = await api("/v1/session", { method: "POST", body: { key } });
  setCsrfToken(session.csrf_token);
  return session;
}

export async function signOut() {
  try {
    await api("/v1/session", { method: "DELETE" });
  } finally {
    setCsrfToken(null);
  }
}
