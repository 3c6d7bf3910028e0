// The Requests tab: the song request queue, live (read again whenever the feed says a
// request changed), the playing request with its requester, moderation (approve, reject
// with a reason, remove, promote, skip, ban), reordering by dragging a handle (pointer
// events) or with the ↑ ↓ buttons, open/close with a message, clear. The rules, bans,
// chat bots and the public page are request_settings.js and request_extras.js.

import { api } from "../../core/api.js";
import { clock } from "../../core/format.js";
import { $, el, userText } from "../../core/dom.js";
import { actionButton, applyPermissions, artImage, askDialog, confirmDialog, debounce, icon, showError, toast } from "./ui.js";
import { store, TOPIC } from "./store.js";
import { createRequestSettings } from "./request_settings.js";
import { createRequestExtras } from "./request_extras.js";

const MODERATE = "requests:moderate";
const STATE_LABELS = {
  pending: "awaiting approval",
  queued: "queued",
  sent: "up next",
  playing: "playing now",
};

const path = (request, action) => `/v1/requests/${encodeURIComponent(request.id)}/${action}`;

/** "in 3:20", or "" when the server does not know. */
function etaText(request) {
  if (request.state === "playing") return "";
  return request.eta_ms == null ? "" : `in about ${clock(request.eta_ms)}`;
}

function requesterLine(request) {
  const viewer = request.viewer;
  const facts = [viewer.role === "regular" ? "" : viewer.role, STATE_LABELS[request.state], etaText(request)];
  return el(
    "p",
    { class: "req-who small" },
    "requested by ",
    userText(viewer.display_name, "req-requester"),
    el("span", { class: "muted" }, facts.filter(Boolean).map((fact) => ` · ${fact}`).join("")),
  );
}

export function createRequests() {
  const settings = createRequestSettings();
  const extras = createRequestExtras();

  async function load() {
    if (!store.can("requests:read")) return;
    try {
      store.setRequests(await api.get("/v1/requests"));
    } catch (error) {
      showError(error);
    }
  }
  const loadSoon = debounce(load, 150);

  /** Run a moderation call, then read the queue (the feed would say so too). */
  async function moderate(call, done) {
    await call();
    if (done) toast(done);
    await load();
  }

  // ---- actions -----------------------------------------------------------------------------

  async function reject(request) {
    const answer = await askDialog({
      title: "Reject this request?",
      text: ["“", userText(request.track.name), "” requested by ", userText(request.viewer.display_name)],
      input: "Reason (the viewer sees it)",
      placeholder: "e.g. not this one on stream",
      okLabel: "Reject",
    });
    if (!answer.ok) return;
    await moderate(() => api.post(path(request, "reject"), { reason: answer.value || null }), "Request rejected.");
  }

  async function ban(request) {
    const viewer = request.viewer;
    const answer = await askDialog({
      title: "Ban this viewer from requesting?",
      text: ["", userText(viewer.display_name), ` (${viewer.platform}) may no longer request songs.`],
      input: "Reason (optional)",
      check: "Also remove their waiting requests",
      checked: true,
      okLabel: "Ban",
    });
    if (!answer.ok) return;
    const body = {
      platform: viewer.platform,
      id: viewer.id,
      login: viewer.login || null,
      display_name: viewer.display_name,
      reason: answer.value || null,
      remove_waiting: answer.checked,
    };
    await moderate(() => api.post("/v1/requests/bans", body), ["Banned ", userText(viewer.display_name)]);
    extras.loadBans();
  }

  async function move(request, position) {
    if (position < 1 || position === request.position) return;
    store.reorderRequests(request.id, position);
    $("#req-announcer").textContent = `Moved ${request.track.name} to position ${position}.`;
    try {
      await api.post(path(request, "move"), { position });
    } catch (error) {
      showError(error);
    }
    await load();
  }

  function rowActions(request, waitingCount) {
    const name = request.track.name;
    const waiting = request.position != null;
    const buttons = [];
    if (request.state === "pending") {
      buttons.push(
        actionButton(`Approve ${name}`, {
          className: "btn small primary",
          text: "Approve",
          permission: MODERATE,
          onclick: () => moderate(() => api.post(path(request, "approve")), "Request approved."),
        }),
      );
    }
    if (waiting) {
      buttons.push(
        actionButton(`Move ${name} up`, {
          className: "btn small",
          text: "↑",
          permission: MODERATE,
          onclick: () => move(request, request.position - 1),
        }),
        actionButton(`Move ${name} down`, {
          className: "btn small",
          text: "↓",
          permission: MODERATE,
          onclick: () => move(request, Math.min(waitingCount, request.position + 1)),
        }),
        actionButton(`Play ${name} next`, {
          className: "btn small",
          text: "Play next",
          permission: MODERATE,
          onclick: () => moderate(() => api.post(path(request, "promote")), "It plays next."),
        }),
        actionButton(`Reject ${name}`, {
          className: "btn small danger",
          text: "Reject",
          permission: MODERATE,
          onclick: () => reject(request),
        }),
        actionButton(`Remove ${name}`, {
          className: "btn small danger",
          text: "Remove",
          permission: MODERATE,
          onclick: () => moderate(() => api.post(path(request, "remove")), "Request removed."),
        }),
      );
    }
    if (request.state === "playing") {
      buttons.push(
        actionButton(`Skip ${name}`, {
          className: "btn small",
          text: "Skip",
          permission: MODERATE,
          onclick: () => moderate(() => api.post("/v1/requests/skip"), "Skipped."),
        }),
      );
    }
    buttons.push(
      actionButton(`Ban ${request.viewer.display_name}`, {
        className: "btn small danger",
        text: "Ban",
        permission: MODERATE,
        onclick: () => ban(request),
      }),
    );
    return el("div", { class: "req-actions" }, buttons);
  }

  function row(request, waitingCount) {
    const waiting = request.position != null;
    const handle = waiting
      ? el(
          "button",
          {
            class: "req-handle",
            type: "button",
            "aria-label": `Reorder ${request.track.name} (position ${request.position}); arrow keys move it`,
            title: "Drag to reorder",
            "data-permission": MODERATE,
          },
          icon("queue", "sm"),
        )
      : el("span", { class: "req-handle req-handle-none", "aria-hidden": "true" });
    const place = waiting ? String(request.position) : request.state === "playing" ? "▶" : "•";
    return el(
      "li",
      { class: `req-row state-${request.state}`, dataset: { id: request.id, state: request.state } },
      handle,
      el("span", { class: "req-pos", "aria-hidden": "true" }, place),
      artImage(request.track.album_art_url),
      el(
        "div",
        { class: "req-meta" },
        userText(request.track.name, "track-name"),
        userText((request.track.artists || []).join(", "), "track-artists muted"),
        requesterLine(request),
      ),
      rowActions(request, waitingCount),
    );
  }

  function renderState(queue) {
    const pill = $("#req-state");
    pill.textContent = queue.open ? "open" : "closed";
    pill.dataset.state = queue.open ? "live" : "closed";
    $("#req-toggle").textContent = queue.open ? "Close requests" : "Open requests";
    $("#req-close-message").hidden = !queue.open;
    const note = $("#req-closed-note");
    note.hidden = queue.open;
    note.replaceChildren(
      "Requests are closed",
      queue.closed_message ? [": “", userText(queue.closed_message), "”"] : ".",
    );
  }

  function render(queue) {
    if (!queue) {
      $("#req-list").replaceChildren();
      return;
    }
    renderState(queue);
    const waitingCount = queue.items.filter((item) => item.position != null).length;
    $("#req-list").replaceChildren(...queue.items.map((item) => row(item, waitingCount)));
    $("#req-empty").hidden = queue.items.length > 0;
    applyPermissions($("#req-list"));
  }

  // ---- drag to reorder (pointer events) and keys on the handle ------------------------------

  function requestOf(node) {
    const rowNode = node && node.closest(".req-row");
    const queue = store.requests;
    if (!rowNode || !queue) return null;
    return queue.items.find((item) => item.id === rowNode.dataset.id) || null;
  }

  /** The waiting rows' place the pointer is over (1-based), for the row being dragged. */
  function dropPosition(list, dragged, clientY) {
    const rows = [...list.querySelectorAll(".req-row")].filter(
      (node) => node !== dragged && requestOf(node) && requestOf(node).position != null,
    );
    let position = 1;
    for (const node of rows) {
      const box = node.getBoundingClientRect();
      if (clientY > box.top + box.height / 2) position += 1;
    }
    return position;
  }

  function initDrag() {
    const list = $("#req-list");
    const drag = { row: null, request: null, pointer: null, position: null };
    list.addEventListener("pointerdown", (event) => {
      const handle = event.target.closest(".req-handle");
      if (!handle || handle.getAttribute("aria-disabled") === "true" || event.button !== 0) return;
      const request = requestOf(handle);
      if (!request || request.position == null) return;
      event.preventDefault();
      handle.setPointerCapture(event.pointerId);
      Object.assign(drag, { row: handle.closest(".req-row"), request, pointer: event.pointerId, position: request.position });
      drag.row.classList.add("dragging");
    });
    list.addEventListener("pointermove", (event) => {
      if (drag.pointer !== event.pointerId || !drag.row) return;
      const position = dropPosition(list, drag.row, event.clientY);
      if (position === drag.position) return;
      drag.position = position;
      const waitingRows = [...list.querySelectorAll(".req-row")].filter(
        (node) => node !== drag.row && requestOf(node) && requestOf(node).position != null,
      );
      const before = waitingRows[position - 1] || null;
      if (before) list.insertBefore(drag.row, before);
      else list.append(drag.row);
    });
    const finish = (event) => {
      if (drag.pointer !== event.pointerId || !drag.row) return;
      const { request, position } = drag;
      drag.row.classList.remove("dragging");
      Object.assign(drag, { row: null, request: null, pointer: null, position: null });
      if (event.type === "pointerup" && position !== request.position) move(request, position);
      else render(store.requests);
    };
    list.addEventListener("pointerup", finish);
    list.addEventListener("pointercancel", finish);
    list.addEventListener("keydown", (event) => {
      const handle = event.target.closest(".req-handle");
      if (!handle || handle.getAttribute("aria-disabled") === "true") return;
      const request = requestOf(handle);
      const step = { ArrowUp: -1, ArrowDown: 1 }[event.key];
      if (!request || request.position == null || !step) return;
      event.preventDefault();
      const target = request.position + step;
      const waitingCount = store.requests.items.filter((item) => item.position != null).length;
      if (target < 1 || target > waitingCount) return;
      move(request, target).then(() => {
        const moved = $(`.req-row[data-id="${request.id}"] .req-handle`);
        if (moved) moved.focus();
      });
    });
  }

  // ---- the controls above the list ----------------------------------------------------------

  function initControls() {
    $("#req-openclose").addEventListener("submit", async (event) => {
      event.preventDefault();
      const queue = store.requests;
      if (!queue) return;
      try {
        if (queue.open) {
          const message = $("#req-close-message").value.trim();
          await moderate(() => api.post("/v1/requests/close", { message: message || null }), "Requests are closed.");
          $("#req-close-message").value = "";
        } else {
          await moderate(() => api.post("/v1/requests/open"), "Requests are open.");
        }
        settings.load();
      } catch (error) {
        showError(error);
      }
    });
    $("#req-skip").addEventListener("click", async () => {
      try {
        const skipped = await api.post("/v1/requests/skip");
        toast(skipped && skipped.skipped ? "Skipped." : "No request is playing.");
        await load();
      } catch (error) {
        showError(error);
      }
    });
    $("#req-clear").addEventListener("click", async () => {
      const question = "Remove every waiting request? The playing one plays on.";
      if (!(await confirmDialog(question, "Clear the queue"))) return;
      try {
        const cleared = await api.delete("/v1/requests");
        toast(`Removed ${cleared.removed} waiting request${cleared.removed === 1 ? "" : "s"}.`);
        await load();
      } catch (error) {
        showError(error);
      }
    });
    $("#req-submit").addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = $("#req-query");
      const query = input.value.trim();
      if (!query) return;
      try {
        const request = await api.post("/v1/requests", { query });
        input.value = "";
        toast(["Requested: ", userText(request.track.name)]);
        await load();
      } catch (error) {
        showError(error);
      }
    });
  }

  function init() {
    initControls();
    initDrag();
    settings.init();
    extras.init();
    store.on(TOPIC.REQUESTS, render);
    store.on(TOPIC.REQUEST_CHANGED, () => loadSoon());
    store.on(TOPIC.SIGNED_IN, () => {
      const allowed = store.can("requests:read");
      $("#req-denied").hidden = allowed;
      $("#req-body").hidden = !allowed;
      $("#req-submit").hidden = !store.can("requests:submit") && !store.can(MODERATE);
      store.setRequests(null);
    });
    store.on(TOPIC.TAB, (name) => {
      if (name === "requests") load();
    });
    // A new song: the ETAs and the playing request change.
    let playing = null;
    store.on(TOPIC.NOW_PLAYING, (np) => {
      const uri = np && np.track ? np.track.uri : null;
      if (uri === playing) return;
      playing = uri;
      if (store.requests) loadSoon();
    });
  }

  return { init, load };
}
