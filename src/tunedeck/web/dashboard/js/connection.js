// Connection: Spotify's connection (who, scopes, token health, needs_reauth with a
// reconnect through the OAuth flow), the app credentials (admin), manual connect with a
// live countdown, and what the live feed says about polling (rate limits, reauth).

import { api, ApiError, describeError } from "../../core/api.js";
import { clock, formatTime } from "../../core/format.js";
import { $, el, userText } from "../../core/dom.js";
import { connectSpotify, showError, toast } from "./ui.js";
import { connectProblem } from "../../core/spotify_problems.js";
import { store, TOPIC } from "./store.js";

function row(term, ...value) {
  return [el("dt", {}, term), el("dd", {}, ...value)];
}

function renderConnection(connection) {
  const status = {
    active: el("span", { class: "state-ok" }, "Connected"),
    needs_reauth: el("span", { class: "state-bad" }, "Needs to be connected again"),
    not_connected: el("span", { class: "state-bad" }, "Not connected"),
  }[connection.status];
  const rows = [
    ...row("Status", status || connection.status),
    ...row("Spotify account", connection.spotify_user_id ? userText(connection.spotify_user_id) : "—"),
    ...row("Scopes", connection.scopes.length ? connection.scopes.join(", ") : "—"),
  ];
  if (connection.missing_scopes.length) {
    rows.push(...row("Missing scopes", el("span", { class: "state-bad" }, connection.missing_scopes.join(", "))));
  }
  rows.push(
    ...row("Token valid until", formatTime(connection.expires_at)),
    ...row("Last refreshed", formatTime(connection.updated_at)),
    ...row("Connected since", formatTime(connection.connected_at)),
    ...row(
      "Spotify app",
      connection.app.configured ? `configured (${connection.app.client_id_hint || "client id set"})` : "not configured",
    ),
  );
  $("#conn-details").replaceChildren(...rows);
  $("#conn-reconnect").textContent = connection.status === "not_connected" ? "Connect Spotify" : "Reconnect Spotify";
  $("#app-status").textContent = connection.app.configured
    ? `Configured: client id ${connection.app.client_id_hint || "set"}, updated ${formatTime(connection.app.updated_at)}. Saving replaces it.`
    : "Not configured: paste the client id and secret of your Spotify app.";
}

async function loadConnection() {
  if (!store.can("admin")) {
    $("#conn-details").replaceChildren(...row("Status", "Connection details need the admin permission."));
    $("#app-status").textContent = "Needs the admin permission.";
    return;
  }
  try {
    renderConnection(await api.get("/v1/connections/spotify"));
  } catch (error) {
    showError(error);
  }
}

// ---- what the feed says about polling --------------------------------------------------------

function connectButton(label) {
  return el("button", { class: "btn small primary", type: "button", onclick: connectSpotify }, label);
}

/** The redirect URI to register with Spotify, shown by the app credentials' form. */
async function loadRedirectUri() {
  try {
    const setup = await api.get("/v1/setup");
    $("#conn-redirect-uri").value = setup.redirect_uri;
    const problem = setup.public_url_problem;
    $("#conn-redirect-problem").textContent = problem ? `${problem.message} ${problem.fix}` : "";
  } catch (error) {
    showError(error);
  }
}

/** Back from Spotify with a refusal (?connect_error=code): what happened, what to do. */
export function showConnectOutcome() {
  const code = new URLSearchParams(location.search).get("connect_error");
  if (!code) return;
  const explained = connectProblem(code);
  toast(explained.title, { kind: "error", fix: explained.fix, timeout: 0 });
  history.replaceState(null, "", location.pathname);
}

function renderStatus(message) {
  const banner = $("#status-banner");
  const rate = $("#rate-status");
  banner.dataset.source = "feed";
  banner.replaceChildren();
  rate.textContent = "";
  if (!message) {
    banner.hidden = true;
  } else if (message.status === "rate_limited") {
    const until = message.retry_at ? ` until ${formatTime(message.retry_at)}` : "";
    rate.textContent = `Spotify is rate limiting this app${until}. TuneDeck waits before asking again.`;
    banner.append(`Spotify is rate limiting TuneDeck${until}; live updates are paused meanwhile.`);
    banner.hidden = false;
  } else if (message.status === "needs_reauth") {
    banner.append("Spotify needs to be connected again. ", connectButton("Reconnect Spotify"));
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
}

/** A part of the state Spotify could not give (not connected, needs reauth...). */
function renderStateError(part) {
  const banner = $("#status-banner");
  if (!part) {
    if (banner.dataset.source === "state") banner.hidden = true;
    return;
  }
  banner.dataset.source = "state";
  const needsConnection = ["spotify_not_connected", "spotify_needs_reauth"].includes(part.code);
  if (!needsConnection) {
    const { message, fix } = describeError(new ApiError(0, part.code, part.message, part.details));
    banner.replaceChildren(`Now playing is unavailable. ${message} ${fix}`.trim());
  } else {
    const what = part.code === "spotify_needs_reauth" ? "Spotify needs to be connected again." : "Spotify is not connected yet.";
    const fix = store.can("admin")
      ? connectButton(part.code === "spotify_needs_reauth" ? "Reconnect Spotify" : "Connect Spotify")
      : "Ask the streamer (an admin) to connect it.";
    banner.replaceChildren(`${what} `, fix);
  }
  banner.hidden = false;
}

export function createConnection() {
  const local = { manualDeadline: null, countdown: null }; // deadline: performance.now() when manual connect ends

  function renderManual() {
    const text = $("#manual-status");
    if (local.manualDeadline === null) {
      text.textContent = "Manual connect is off: TuneDeck polls Spotify while someone watches (this page or an overlay).";
      clearInterval(local.countdown);
      local.countdown = null;
      return;
    }
    const left = local.manualDeadline - performance.now();
    if (left <= 0) {
      local.manualDeadline = null;
      renderManual();
      return;
    }
    text.textContent = `Manual connect is on: polling for ${clock(left)} more.`;
  }

  function applyManual(status) {
    local.manualDeadline = status.active ? performance.now() + status.remaining_seconds * 1000 : null;
    if (local.manualDeadline !== null && local.countdown === null) local.countdown = setInterval(renderManual, 1000);
    renderManual();
  }

  async function loadManual() {
    if (!store.can("spotify:read")) return;
    try {
      applyManual(await api.get("/v1/spotify/manual-connect"));
    } catch (error) {
      showError(error);
    }
  }

  function init() {
    store.on(TOPIC.STATE_ERROR, renderStateError);
    store.on(TOPIC.NOW_PLAYING, () => renderStateError(null));
    store.on(TOPIC.TAB, (name) => {
      if (name === "connection") {
        loadConnection();
        if (store.can("admin")) loadRedirectUri();
        loadManual();
      }
    });
    store.on(TOPIC.SIGNED_IN, loadManual);
    store.on(TOPIC.STATUS, renderStatus);
    $("#conn-reconnect").addEventListener("click", connectSpotify);
    $("#manual-start").addEventListener("click", async () => {
      try {
        applyManual(await api.post("/v1/spotify/manual-connect"));
        toast("Manual connect started for 30 minutes");
      } catch (error) {
        showError(error);
        loadManual();
      }
    });
    $("#manual-stop").addEventListener("click", async () => {
      try {
        await api.delete("/v1/spotify/manual-connect");
        applyManual({ active: false, remaining_seconds: 0 });
        toast("Manual connect stopped");
      } catch (error) {
        showError(error);
        loadManual();
      }
    });
    $("#app-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      const body = {
        client_id: form.elements.client_id.value.trim(),
        client_secret: form.elements.client_secret.value.trim(),
      };
      try {
        await api.call("/v1/connections/spotify/app", { method: "PUT", body });
        form.reset();
        toast("Spotify app saved", { fix: "Now press “Connect Spotify” above." });
        loadConnection();
      } catch (error) {
        showError(error);
      }
    });
  }

  return { init };
}
