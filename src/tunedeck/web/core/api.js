// TuneDeck's own API, and nothing else: every call is same-origin, with the session
// cookie; state-changing calls carry the session's CSRF token, kept in memory only. One
// client per page (`api`), shared by all its modules.

import { formatDuration } from "./format.js";

/** An error the API answered: its HTTP status and TuneDeck's `code`, `message`, `details`. */
export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

function urlOf(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    params.append(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function fileOf(response, text) {
  const disposition = response.headers.get("Content-Disposition") || "";
  const named = /filename="([^"]+)"/.exec(disposition);
  return { text, type: response.headers.get("Content-Type") || "text/plain", filename: named ? named[1] : "export.txt" };
}

export class ApiClient {
  #csrfToken = null;
  #unauthorized = new Set();

  /** The session's CSRF token (from GET or POST /v1/session), or null after sign-out. */
  setCsrfToken(token) {
    this.#csrfToken = token || null;
  }

  /** Called (once per failure) when a call answers 401: the session has ended. */
  onUnauthorized(listener) {
    this.#unauthorized.add(listener);
    return () => this.#unauthorized.delete(listener);
  }

  /**
   * Call the API: JSON in, JSON out (null for 204); with `file`, the answer as a file
   * ({ text, type, filename }). Throws ApiError with the API's error, or an AbortError
   * when `signal` aborted the call.
   */
  async call(path, { method = "GET", body, query, signal, file = false } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && method !== "HEAD" && this.#csrfToken) headers["X-CSRF-Token"] = this.#csrfToken;
    let response;
    try {
      response = await fetch(urlOf(path, query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (error) {
      if (error && error.name === "AbortError") throw error;
      throw new ApiError(0, "network", "TuneDeck could not be reached.", {
        hint: "check that TuneDeck is running and this computer is online",
      });
    }
    const text = response.status === 204 ? "" : await response.text();
    if (file && response.ok) return fileOf(response, text);
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const error = data && data.error ? data.error : null;
      const failure = new ApiError(
        response.status,
        error ? error.code : `http_${response.status}`,
        error ? error.message : "TuneDeck could not do that just now.",
        error ? error.details : {},
      );
      const retryAfter = response.headers.get("Retry-After");
      if (retryAfter && failure.details.retry_after === undefined) {
        failure.details.retry_after = Number(retryAfter);
      }
      if (response.status === 401) for (const listener of this.#unauthorized) listener(failure);
      throw failure;
    }
    return data;
  }

  get(path, query, signal) {
    return this.call(path, { query, signal });
  }

  /** A file the API serves (an export): its text, media type and suggested name. */
  getFile(path, query) {
    return this.call(path, { query, file: true });
  }

  post(path, body) {
    return this.call(path, { method: "POST", body });
  }

  delete(path, body) {
    return this.call(path, { method: "DELETE", body });
  }
}

/** This page's client. */
export const api = new ApiClient();

const REASONS = {
  RESTRICTION_VIOLATED: "the device or the item does not allow this right now",
  DEVICE_NOT_CONTROLLABLE: "this device cannot be controlled remotely (a restricted device)",
};

/** What went wrong and what to do about it, in words (never the raw JSON). */
export function describeError(error) {
  if (!error || error.name !== "ApiError") {
    return { message: "Something went wrong.", fix: String((error && error.message) || "") };
  }
  const details = error.details || {};
  switch (error.code) {
    case "no_active_device":
      return {
        message: "No Spotify device is active.",
        fix: "Open Spotify on your phone or computer, or pick a device under Devices and press “Play here”.",
      };
    case "premium_required":
      return {
        message: "Spotify Premium is required to control playback.",
        fix: "Connect a Spotify account with Premium (Connection tab).",
      };
    case "rate_limited":
      return {
        message: "Spotify is rate limiting TuneDeck.",
        fix: details.retry_after ? `Try again in ${formatDuration(details.retry_after)}.` : "Try again in a little while.",
      };
    case "missing_permission":
      return {
        message: `This needs the ${details.permission} permission.`,
        fix: "Ask an admin for a key that holds it.",
      };
    case "spotify_needs_reauth":
      return {
        message: "Spotify needs to be connected again.",
        fix: "Spotify no longer accepts TuneDeck's connection (it was removed or expired).",
        action: "connect_spotify",
      };
    case "spotify_not_connected":
      return {
        message: "Spotify is not connected yet.",
        fix: "Connect it to see and control what plays.",
        action: "connect_spotify",
      };
    case "spotify_app_rejected":
      return {
        message: "Spotify refused your app's client ID or secret.",
        fix: "Copy both again from your app's settings on Spotify's developer dashboard and save them on the Connection tab.",
      };
    case "spotify_unavailable":
    case "spotify_timeout":
      return { message: "Spotify is not answering right now.", fix: "Try again in a minute." };
    case "too_many_failed_logins":
      return {
        message: "Too many wrong keys were tried from this computer.",
        fix: details.retry_after ? `Try again in ${formatDuration(details.retry_after)}.` : "Wait a minute, then try again.",
      };
    case "player_refused": {
      const reason = REASONS[details.spotify_reason];
      return { message: "Spotify refused the command.", fix: reason ? `Spotify says ${reason}.` : error.message };
    }
    case "csrf_failed":
      return { message: "This page is out of date.", fix: "Reload the page." };
    case "network":
      return { message: error.message, fix: "Check that TuneDeck is running, then try again." };
    default: {
      if (error.code.startsWith("http_")) {
        return { message: error.message, fix: "Try again in a moment. If it keeps happening, TuneDeck's window says why." };
      }
      const hint = details.hint ? `${details.hint[0].toUpperCase()}${details.hint.slice(1)}.` : "";
      return { message: error.message, fix: hint };
    }
  }
}
