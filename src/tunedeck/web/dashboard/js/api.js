// TuneDeck's own API, and nothing else: every call is same-origin, with the session cookie.
// State-changing calls carry the session's CSRF token (kept in memory only).

let csrfToken = null;
const unauthorizedListeners = [];

export function setCsrfToken(token) {
  csrfToken = token;
}

/** Called (once per failure) when a call answers 401: the session has ended. */
export function onUnauthorized(listener) {
  unauthorizedListeners.push(listener);
}

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

/**
 * Call the API: JSON in, JSON out (null for 204). Throws ApiError with the API's error,
 * or an AbortError when `signal` aborted the call.
 */
export async function api(path, { method = "GET", body, query, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
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
      error ? error.message : `TuneDeck answered ${response.status}.`,
      error ? error.details : {},
    );
    const retryAfter = response.headers.get("Retry-After");
    if (retryAfter && failure.details.retry_after === undefined) {
      failure.details.retry_after = Number(retryAfter);
    }
    if (response.status === 401) unauthorizedListeners.forEach((listener) => listener(failure));
    throw failure;
  }
  return data;
}

export const get = (path, query, signal) => api(path, { query, signal });
export const post = (path, body) => api(path, { method: "POST", body });
