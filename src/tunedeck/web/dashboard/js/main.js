// The dashboard's entry point: sign-in, tabs, theme, the live feed, and the features,
// each made here and handed what it uses.

import { api, describeError } from "../../core/api.js";
import { $ } from "../../core/dom.js";
import { LiveFeed, CLOSE_FORBIDDEN } from "../../core/feed.js";
import { currentSession, signIn, signInRefusal, signOut } from "../../core/session.js";
import { store, TOPIC } from "./store.js";
import { applyPermissions, showError, toast } from "./ui.js";
import { createPlayer } from "./player.js";
import { initKeyboard, showHelp } from "./keyboard.js";
import { createQueue } from "./queue.js";
import { createSearch } from "./search.js";
import { createPlaylists } from "./playlists.js";
import { createDevices } from "./devices.js";
import { createActivity } from "./activity.js";
import { createConnection, showConnectOutcome } from "./connection.js";
import { wireCopyButtons } from "../../core/copy.js";
import { createAdmin } from "./admin.js";
import { createRequests } from "./requests.js";
import { createHealth } from "./health.js";
import { createHistory } from "./history.js";
import { createStats } from "./stats.js";

const THEME_KEY = "tunedeck-theme"; // the only thing this page stores
const SESSION_ENDED = "Your session has ended (signed out, idle for too long, or its key was revoked).";
const LINK_LABELS = { connecting: "connecting…", live: "live", offline: "reconnecting…", forbidden: "no live feed" };

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

function showTab(name, { focus = false } = {}) {
  for (const tab of tabs()) {
    const selected = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(`#${tab.getAttribute("aria-controls")}`).hidden = !selected;
    if (selected && focus) tab.focus();
  }
  store.emit(TOPIC.TAB, name);
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

// ---- the live feed ---------------------------------------------------------------------------

/** The feed of one signed-in session: its messages into the store. */
function openFeed() {
  const feed = new LiveFeed({
    onState(state, detail) {
      if (state === "refused") store.emit(TOPIC.SESSION_ENDED, SESSION_ENDED);
      else if (state === "open") store.emit(TOPIC.FEED, "live");
      else if (state === "connecting") store.emit(TOPIC.FEED, "connecting");
      else store.emit(TOPIC.FEED, detail.code === CLOSE_FORBIDDEN ? "forbidden" : "offline");
    },
    onMessage(message) {
      switch (message.type) {
        case "hello":
          store.playhead.syncClock(message.server_time);
          break;
        case "now_playing":
          store.setNowPlaying(message.now_playing, message.server_time);
          break;
        case "event":
          store.emit(TOPIC.EVENT, message.event);
          if (message.event.type.startsWith("request:")) store.emit(TOPIC.REQUEST_CHANGED, message.event);
          break;
        case "request":
          store.emit(TOPIC.REQUEST_CHANGED, message);
          break;
        case "status":
          store.setStatus(message);
          break;
        case "play":
          store.notePlay(message.change, message.play);
          break;
        case "reset":
          store.emit(TOPIC.RESET, message.reason);
          break;
        default:
          break;
      }
    },
  });
  feed.start();
  return feed;
}

function initLinkStatus(player) {
  const pill = $("#link-status");
  store.on(TOPIC.FEED, (status) => {
    pill.textContent = LINK_LABELS[status] || status;
    pill.dataset.state = status;
    pill.title = status === "live" ? "Live updates are on" : "Live updates are not flowing right now";
  });
  store.on(TOPIC.RESET, () => player.refreshState());
}

// ---- signing in and out -------------------------------------------------------------------

function createDoor(player) {
  const local = { feed: null };

  function showSignIn(message = "") {
    if (local.feed) local.feed.stop("signed out");
    local.feed = null;
    store.signOut();
    $("#app").hidden = true;
    $("#signin").hidden = false;
    $("#signin-error").textContent = message;
    $("#signin-key").focus();
  }

  async function enter(session) {
    const me = session.me;
    $("#signin").hidden = true;
    $("#app").hidden = false;
    $("#who").textContent = `${me.account.name} · ${me.label}`;
    $("#who").dir = "auto";
    $("#who").title = `Signed in with the key “${me.label}”: ${me.permissions.join(", ")}`;
    store.signIn(me);
    applyPermissions();
    local.feed = openFeed();
    if (store.can("spotify:read")) await player.refreshState();
  }

  function init() {
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
        $("#signin-error").textContent = signInRefusal(error);
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
      showSignIn("Signed out.");
    });
    api.onUnauthorized(() => {
      if (!$("#app").hidden) showSignIn("Your session has ended. Sign in again.");
    });
    store.on(TOPIC.SESSION_ENDED, (message) => showSignIn(message));
  }

  return { init, enter, showSignIn };
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
  wireCopyButtons();
  initTabs();
  const player = createPlayer();
  const queue = createQueue();
  const playlists = createPlaylists({ player });
  const search = createSearch({ player, queue, playlists, showTab });
  const door = createDoor(player);
  for (const feature of [door, player, queue, search, playlists, createDevices(), createActivity(), createConnection(), createAdmin(), createRequests(), createHealth()]) {
    feature.init();
  }
  for (const feature of [createHistory(), createStats()]) feature.init();
  initLinkStatus(player);
  initKeyboard({ player, focusSearch: search.focus });
  $("#help-button").addEventListener("click", showHelp);
  try {
    const session = await currentSession();
    if (session) {
      await door.enter(session);
      showConnectOutcome();
    } else door.showSignIn();
  } catch (error) {
    door.showSignIn();
    toast(describeError(error).message, { kind: "error" });
  }
  document.body.dataset.ready = "true";
}

boot();
