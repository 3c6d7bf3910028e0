// The setup page: from the one-time link `tunedeck serve` printed to a connected Spotify
// and an overlay in OBS. The link's code is read from the address's fragment (never
// sent to a server but in the first step's request) and dropped from the address bar.
// The first step creates the account and signs this browser in; every later step works
// with that session, and the server says which step comes next, so the page can be
// closed and reopened at any point. Once setup is done, /setup leads to the dashboard.

import { api, describeError } from "../../core/api.js";
import { $, el, userText } from "../../core/dom.js";
import { currentSession, signIn, signInRefusal } from "../../core/session.js";
import { wireCopyButtons } from "../../core/copy.js";
import { connect, renderConnect, renderErrorPages } from "./connect.js";
import { renderChatCommands } from "./chat.js";
import { markSteps, showSection } from "./steps.js";

const page = { code: null, returned: null, progress: null };

/** Read the code (fragment) and the OAuth outcome (query), then clean the address. */
function takeFromAddress() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const query = new URLSearchParams(location.search);
  page.code = fragment.get("code");
  if (query.get("connected") === "spotify") page.returned = { connected: true };
  if (query.get("connect_error")) page.returned = { error: query.get("connect_error") };
  if (location.hash || location.search) history.replaceState(null, "", location.pathname);
}

function errorText(error) {
  const { message, fix } = describeError(error);
  return fix ? `${message} ${fix}` : message;
}

async function loadProgress() {
  page.progress = await api.get("/v1/setup");
  $("#setup-who").replaceChildren("Signed in to ", userText(page.progress.account_name));
  return page.progress;
}

// ---- the steps ------------------------------------------------------------------------------

function renderApp(progress) {
  $("#redirect-uri").value = progress.redirect_uri;
  const problem = $("#public-url-problem");
  problem.hidden = !progress.public_url_problem;
  if (progress.public_url_problem) {
    problem.textContent = `${progress.public_url_problem.message} ${progress.public_url_problem.fix}`;
  }
  $("#app-status").textContent = progress.app_configured
    ? `Saved: client ID ${progress.client_id_hint}. Paste new ones to replace them, or keep them.`
    : "";
  $("#step-2-skip").hidden = !progress.app_configured;
}

function renderOverlay(progress) {
  $("#overlay-existing").hidden = progress.overlay_tokens === 0 || !$("#overlay-box").hidden;
  renderChatCommands($("#chat-commands"));
}

function renderDone(progress) {
  const account = progress.spotify_account;
  $("#done-summary").replaceChildren(
    "Your channel ",
    userText(progress.account_name),
    account ? " is connected to Spotify as " : " is set up",
    account ? userText(account.display_name || account.id) : "",
    ", and your overlay is ready for OBS.",
  );
  $("#dashboard-url").textContent = `${location.origin}/`;
}

async function goTo(step) {
  const progress = page.progress;
  const renderers = { 2: renderApp, 3: (p) => renderConnect(p, page.returned, goTo), 4: renderOverlay, 5: renderDone };
  renderers[step](progress);
  showSection(`step-${step}`);
  markSteps(step, progress.next_step, goTo);
}

/** Open the step the server says comes next (or the one that fixes what failed). */
async function resume() {
  const progress = await loadProgress();
  // Back from Spotify: step 3 says how it went (connected as whom, or what failed).
  const step = page.returned && progress.next_step < 5 ? 3 : progress.next_step;
  await goTo(Math.max(step, 2));
}

// ---- step 1 and signing in -----------------------------------------------------------------

async function createAccount(event) {
  event.preventDefault();
  const button = event.target.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const created = await api.post("/v1/setup/account", { code: page.code, name: $("#channel-name").value.trim() });
    api.setCsrfToken(created.session.csrf_token);
    page.code = null;
    $("#account-form").hidden = true;
    $("#admin-key").value = created.key;
    $("#admin-key-box").hidden = false;
    $("#setup-who").replaceChildren("Signed in to ", userText(created.session.me.account.name));
  } catch (error) {
    $("#account-error").textContent = errorText(error);
    button.disabled = false;
  }
}

async function resumeWithKey(event) {
  event.preventDefault();
  try {
    await signIn($("#resume-key").value.trim());
    $("#resume-key").value = "";
    await resume();
  } catch (error) {
    $("#resume-error").textContent = signInRefusal(error);
  }
}

// ---- wiring ---------------------------------------------------------------------------------

async function saveApp(event) {
  event.preventDefault();
  const form = event.target;
  try {
    await api.call("/v1/connections/spotify/app", {
      method: "PUT",
      body: { client_id: form.elements.client_id.value.trim(), client_secret: form.elements.client_secret.value.trim() },
    });
    form.reset();
    $("#app-error").textContent = "";
    page.returned = null;
    await loadProgress();
    await goTo(3);
  } catch (error) {
    $("#app-error").textContent = errorText(error);
  }
}

async function makeOverlay() {
  try {
    const created = await api.post("/v1/overlay-tokens", { label: "OBS (made by setup)" });
    $("#overlay-url").value = created.overlay_url;
    $("#overlay-preview").src = created.overlay_url;
    $("#overlay-box").hidden = false;
    $("#overlay-existing").hidden = true;
    $("#overlay-create").textContent = "Make another overlay link";
    $("#overlay-create").className = "btn";
    await loadProgress();
  } catch (error) {
    $("#overlay-box").hidden = true;
    $("#overlay-existing").replaceChildren(el("span", { class: "form-error" }, errorText(error)));
    $("#overlay-existing").hidden = false;
  }
}

async function finish() {
  try {
    await api.post("/v1/setup/complete");
    await loadProgress();
    await goTo(5);
  } catch (error) {
    $("#overlay-existing").replaceChildren(el("span", { class: "form-error" }, errorText(error)));
    $("#overlay-existing").hidden = false;
  }
}

function wire() {
  wireCopyButtons();
  renderErrorPages();
  $("#account-form").addEventListener("submit", createAccount);
  $("#key-saved").addEventListener("change", (event) => {
    $("#step-1-next").disabled = !event.target.checked;
  });
  $("#step-1-next").addEventListener("click", resume);
  $("#resume-form").addEventListener("submit", resumeWithKey);
  $("#app-form").addEventListener("submit", saveApp);
  $("#step-2-skip").addEventListener("click", () => goTo(3));
  $("#connect-button").addEventListener("click", connect);
  $("#step-3-next").addEventListener("click", () => goTo(4));
  $("#overlay-create").addEventListener("click", makeOverlay);
  $("#step-4-next").addEventListener("click", finish);
}

async function boot() {
  takeFromAddress();
  wire();
  try {
    const { stage } = await api.get("/v1/setup/status");
    const session = await currentSession();
    if (stage === "done" && !(session && page.returned)) {
      location.replace("/");
      return;
    }
    if (session && session.me.permissions.includes("admin")) await resume();
    else if (stage === "open" && page.code) {
      showSection("step-1");
      markSteps(1, 1, goTo);
      $("#channel-name").focus();
    } else if (stage === "open") showSection("step-nolink");
    else showSection("step-signin");
  } catch (error) {
    $("#setup-loading").textContent = errorText(error);
  }
  document.body.dataset.ready = "true";
}

boot();
