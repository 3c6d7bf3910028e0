// The dashboard's entry point: sign-in, tabs, theme, the live feed, and the features.

import { onUnauthorized } from "./api.js";
import { startFeed, stopFeed } from "./feed.js";
import { currentSession, signIn, signOut } from "./session.js";
import { emit, on, setNowPlaying, state } from "./store.js";
import { $, applyPermissions, describeError, showError, toast } from "./ui.js";
import { initPlayer, refreshState } from "./player.js";
import { initKeyboard, showHelp } from "./keyboard.js";
import { initQueue } from "./queue.js";
import { initSearch } from "./search.js";
import { initPlaylists } from "./playlists.js";
import { initDevices } from "./devices.js";
import { initActivity } from "./activity.js";
import { initConnection } from "./connection.js";
import { initAdmin } from "./admin.js";

const THEME_KEY = "tunedeck-theme"; // the only thing this page stores

// ---- theme ----------------------------------------------------------------------------------

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  const toggle = $("#theme-toggle");
  const other = theme === "dark" ? "light" : "dark";
  toggle.setAttribute("aria-label", `Switch to ${other} theme`);
  toggle.querySelector("use").setAttribute("href", theme === "dark" ? "#i-sun" : "#i-moon");
}

function initTheme() {
  applyTheme(localStorage.getItem(THEME_KEY) === "light" ? "light" : "dark");
  $("#theme-toggle").addEventListener("click", () => {
    const theme = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    localStorage.setItem(THEME_KEY, theme);
    applyTheme(theme);
  });
}

// ---- tabs -------------------------------------------------------------------------------------

const tabs = () => [...document.querySelectorAll('[role="tab"]')];

export function showTab(name, { focus = false } = {}) {
  for (const tab of tabs()) {
    const selected = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(`#${tab.getAttribute("aria-controls")}`).hidden = !selected;
    if (selected && focus) tab.focus();
  }
  emit("tab", name);
}

function initTabs() {
  for (const tab of tabs()) {
    tab.addEventListener("click", () => showTab(tab.id.slice(4)));
    tab.addEventListener("keydown", (event) => {
      const all = tabs();
      const index = all.indexOf(tab);
      const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: all.length - 1 - index };
      if (!(event.key in moves)) return;
      event.preventDefault();
      const target = all[(index + moves[event.key] + all.length) % all.length];
      showTab(target.id.slice(4), { focus: true });
    });
  }
  document.addEventListener("click", (event) => {
    const goto = event.target.closest && event.target.closest("[data-goto]");
    if (goto) showTab(goto.dataset.goto, { focus: true });
  });
}

// ---- signing in and out -------------------------------------------------------------------

function showSignIn(message = "") {
  stopFeed();
  state.me = null;
  state.permissions = new Set();
  $("#app").hidden = true;
  $("#signin").hidden = false;
  $("#signin-error").textContent = message;
  $("#signin-key").focus();
}

async function enter(session) {
  state.me = session.me;
  state.permissions = new Set(session.me.permissions);
  $("#signin").hidden = true;
  $("#app").hidden = false;
  $("#who").textContent = `${session.me.account.name} · ${session.me.label}`;
  $("#who").title = `Signed in with the key “${session.me.label}”: ${session.me.permissions.join(", ")}`;
  applyPermissions();
  emit("signed_in", session.me);
  startFeed();
  if (state.permissions.has("spotify:read")) await refreshState();
}

function initSignIn() {
  $("#signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#signin-key");
    const key = input.value.trim();
    if (!key) return;
    const button = event.target.querySelector("button");
    button.disabled = true;
    try {
      const session = await signIn(key);
      input.value = ""; // the key is not kept anywhere
      $("#signin-error").textContent = "";
      await enter(session);
    } catch (error) {
      const { message, fix } = describeError(error);
      $("#signin-error").textContent =
        error.status === 401 ? "That key is not valid (revoked, mistyped, or not an API key)." : `${message} ${fix}`;
    } finally {
      button.disabled = false;
    }
  });
  $("#signout-button").addEventListener("click", async () => {
    try {
      await signOut();
    } catch (error) {
      showError(error);
    }
    setNowPlaying(null);
    showSignIn("Signed out.");
  });
  onUnauthorized(() => {
    if (!$("#app").hidden) showSignIn("Your session has ended. Sign in again.");
  });
  on("session_ended", (message) => showSignIn(message));
}

// ---- the live feed's state -------------------------------------------------------------------

function initLinkStatus() {
  const pill = $("#link-status");
  const labels = { connecting: "connecting…", live: "live", offline: "reconnecting…", forbidden: "no live feed" };
  on("feed", (status) => {
    pill.textContent = labels[status] || status;
    pill.dataset.state = status;
    pill.title = status === "live" ? "Live updates are on" : "Live updates are not flowing right now";
  });
  on("reset", () => refreshState());
}

function showNotice() {
  const notice = $("#notice");
  const params = new URLSearchParams(location.search);
  if (params.get("connected") === "spotify") {
    notice.textContent = "Spotify is connected.";
    notice.hidden = false;
    setTimeout(() => {
      notice.hidden = true;
    }, 20000);
  }
}

async function boot() {
  initTheme();
  showNotice();
  initTabs();
  initSignIn();
  initLinkStatus();
  initPlayer();
  initQueue();
  const search = initSearch({ showTab });
  initPlaylists();
  initDevices();
  initActivity();
  initConnection();
  initAdmin();
  initKeyboard({ focusSearch: search.focus });
  $("#help-button").addEventListener("click", showHelp);
  try {
    const session = await currentSession();
    if (session) await enter(session);
    else showSignIn();
  } catch (error) {
    showSignIn();
    toast(describeError(error).message, { kind: "error" });
  }
  document.body.dataset.ready = "true";
}

boot();
