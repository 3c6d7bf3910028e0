// Step 3: connecting Spotify through its consent page, and what to do when it fails:
// the failures Spotify answers TuneDeck (sent back as ?connect_error=<code>) and the
// error pages Spotify shows itself (the streamer recognises the one they saw).

import { api, describeError } from "../../core/api.js";
import { $, el, userText } from "../../core/dom.js";
import { connectProblem, SPOTIFY_ERROR_PAGES, startConnecting } from "../../core/spotify_problems.js";

function problemBox(box, title, fix, action) {
  box.replaceChildren(el("strong", {}, title), el("span", {}, fix), action ? el("div", { class: "row" }, action) : null);
  box.hidden = false;
}

export function renderErrorPages() {
  const list = el("dl");
  for (const page of SPOTIFY_ERROR_PAGES) {
    list.append(el("dt", {}, el("code", {}, page.shown)), el("dd", {}, page.fix));
  }
  $("#spotify-error-list").replaceChildren(list);
}

/** Start the consent flow; Spotify sends the browser back to /setup. */
export async function connect() {
  try {
    await startConnecting(api, "/setup");
  } catch (error) {
    const { message, fix } = describeError(error);
    problemBox($("#connect-problem"), message, fix);
  }
}

/** Fill step 3 from the progress and what the browser came back with. */
export function renderConnect(progress, returned, goTo) {
  const problem = $("#connect-problem");
  const done = $("#connect-done");
  const warning = $("#connect-warning");
  problem.hidden = done.hidden = warning.hidden = true;
  const account = progress.spotify_account;
  if (returned && returned.error && !account) {
    const explained = connectProblem(returned.error);
    const action =
      explained.step === 2 ? el("button", { class: "btn", type: "button", onclick: () => goTo(2) }, "Change the client ID and secret") : null;
    problemBox(problem, explained.title, explained.fix, action);
  }
  if (progress.spotify_problem && progress.spotify_problem.code !== "premium_required") {
    problemBox(problem, progress.spotify_problem.message, progress.spotify_problem.fix);
  }
  if (account) {
    done.replaceChildren("Connected to Spotify as ", userText(account.display_name || account.id), ".");
    done.hidden = false;
  }
  if (progress.spotify_problem && progress.spotify_problem.code === "premium_required") {
    problemBox(warning, progress.spotify_problem.message, progress.spotify_problem.fix);
  }
  $("#connect-button").textContent = account ? "Connect another Spotify account" : "Connect Spotify";
  $("#connect-button").className = account ? "btn" : "btn primary";
  $("#step-3-next").hidden = !account;
  $("#spotify-error-help").open = Boolean(!account && returned && !returned.error && !returned.connected);
}
