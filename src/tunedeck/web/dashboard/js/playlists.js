// Playlists: browse (paged), open one, play it or play from a track, create, rename and
// describe, delete (unfollow, after confirmation), add and remove tracks.

import { api } from "../../core/api.js";
import { clock } from "../../core/format.js";
import { $, el, setUserText, userText } from "../../core/dom.js";
import { actionButton, artImage, confirmDialog, showError, toast, trackLine } from "./ui.js";
import { store, TOPIC } from "./store.js";

const PAGE = 24;
const TRACKS_PAGE = 50;

const path = (id) => `/v1/spotify/playlists/${encodeURIComponent(id)}`;

export function createPlaylists({ player }) {
  const local = { page: 0, current: null, tracksPage: 0, loaded: false };

  async function loadPage(index = local.page) {
    const list = $("#playlist-list");
    try {
      const playlists = await api.get("/v1/spotify/playlists", { limit: PAGE, offset: index * PAGE });
      if (!playlists.length && index > 0) return loadPage(index - 1);
      local.page = index;
      local.loaded = true;
      list.replaceChildren(
        ...playlists.map((playlist) =>
          el(
            "li",
            {},
            el(
              "button",
              {
                class: "playlist-card",
                type: "button",
                dataset: { id: playlist.id },
                onclick: () => openPlaylist(playlist),
              },
              artImage(playlist.image_url, 150),
              userText(playlist.name, "playlist-card-name"),
              el("span", { class: "muted small" }, `${playlist.track_count} tracks`),
            ),
          ),
        ),
      );
      if (!playlists.length) list.append(el("li", { class: "empty-state" }, "No playlists yet. Create one."));
      $("#playlists-page").textContent = `Page ${local.page + 1}`;
      $("#playlists-prev").disabled = local.page === 0;
      $("#playlists-next").disabled = playlists.length < PAGE;
    } catch (error) {
      showError(error);
      list.replaceChildren(el("li", { class: "empty-state" }, "The playlists could not be loaded."));
    }
  }

  function showBrowse() {
    local.current = null;
    $("#playlist-detail").hidden = true;
    $("#playlists-browse").hidden = false;
  }

  function renderHeader(playlist) {
    setUserText($("#pl-name"), playlist.name);
    setUserText($("#pl-description"), playlist.description || "");
    $("#pl-meta").replaceChildren(
      `${playlist.track_count} tracks`,
      ...(playlist.owner ? [" · by ", userText(playlist.owner)] : []),
    );
    const cover = $("#pl-cover");
    // Without a cover the text takes the whole width (not the cover's 96 px column).
    $(".playlist-header").classList.toggle("no-cover", !playlist.image_url);
    if (playlist.image_url) {
      cover.src = playlist.image_url;
      cover.hidden = false;
    } else {
      cover.removeAttribute("src");
      cover.hidden = true;
    }
  }

  async function openPlaylist(playlist) {
    local.current = playlist;
    local.tracksPage = 0;
    renderHeader(playlist);
    $("#playlists-browse").hidden = true;
    $("#playlist-detail").hidden = false;
    await loadTracks();
  }

  async function loadTracks(index = local.tracksPage) {
    if (!local.current) return;
    const list = $("#pl-tracks");
    try {
      const playlist = local.current;
      const answer = await api.get(`${path(playlist.id)}/tracks`, { limit: TRACKS_PAGE, offset: index * TRACKS_PAGE });
      local.tracksPage = index;
      list.replaceChildren(
        ...answer.items
          .filter((entry) => entry.track)
          .map((entry) => {
            const track = entry.track;
            return el(
              "li",
              { class: "track-row", dataset: { uri: track.uri } },
              artImage(track.album_art_url),
              trackLine(track),
              el("span", { class: "muted time hide-narrow" }, clock(track.duration_ms)),
              el(
                "div",
                { class: "row-actions" },
                actionButton(`Play ${playlist.name} from ${track.name}`, {
                  className: "icon-btn",
                  iconName: "play",
                  title: "Play from here",
                  permission: "spotify:playback",
                  onclick: () => player.playback({ action: "play", context_uri: playlist.uri, offset_uri: track.uri }),
                }),
                actionButton(`Remove ${track.name} from ${playlist.name}`, {
                  className: "icon-btn",
                  iconName: "trash",
                  title: "Remove from playlist",
                  permission: "spotify:playlist",
                  onclick: async () => {
                    await api.delete(`${path(playlist.id)}/tracks`, { uri: track.uri });
                    toast(["Removed from ", userText(playlist.name), ": ", userText(track.name)]);
                    local.current = { ...playlist, track_count: Math.max(0, playlist.track_count - 1) };
                    renderHeader(local.current);
                    await loadTracks();
                  },
                }),
              ),
            );
          }),
      );
      if (!answer.items.length) list.append(el("li", { class: "empty-state" }, "This playlist is empty. Add tracks from Search."));
      $("#pl-tracks-page").textContent = `Page ${local.tracksPage + 1}`;
      $("#pl-tracks-prev").disabled = local.tracksPage === 0;
      $("#pl-tracks-next").disabled = answer.items.length < TRACKS_PAGE;
    } catch (error) {
      showError(error);
    }
  }

  /** Ask for a name and description; resolves {name, description} or null. */
  function editDialog(title, playlist = null) {
    const dialog = $("#playlist-dialog");
    $("#playlist-dialog-title").textContent = title;
    $("#pl-form-name").value = playlist ? playlist.name : "";
    $("#pl-form-description").value = playlist && playlist.description ? playlist.description : "";
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener(
        "close",
        () => {
          if (dialog.returnValue !== "ok") return resolve(null);
          resolve({ name: $("#pl-form-name").value.trim(), description: $("#pl-form-description").value.trim() });
        },
        { once: true },
      );
    });
  }

  async function createPlaylist() {
    const values = await editDialog("New playlist");
    if (!values || !values.name) return;
    try {
      const body = { name: values.name, public: false };
      if (values.description) body.description = values.description;
      const created = await api.post("/v1/spotify/playlists/new", body);
      toast(["Created the playlist ", userText(created.name)]);
      await loadPage(0);
      await openPlaylist(created);
    } catch (error) {
      showError(error);
    }
  }

  async function renamePlaylist() {
    const current = local.current;
    if (!current) return;
    const values = await editDialog("Edit playlist", current);
    if (!values || !values.name) return;
    try {
      await api.call(path(current.id), { method: "PATCH", body: { name: values.name, description: values.description } });
      local.current = { ...current, name: values.name, description: values.description };
      renderHeader(local.current);
      toast("Playlist saved");
      loadPage();
    } catch (error) {
      showError(error);
    }
  }

  async function deletePlaylist() {
    const playlist = local.current;
    if (!playlist) return;
    const confirmed = await confirmDialog([
      "Delete “",
      userText(playlist.name),
      "”? It is removed from your library (on Spotify: unfollowed).",
    ]);
    if (!confirmed) return;
    try {
      await api.delete(path(playlist.id));
      toast(["Deleted ", userText(playlist.name)]);
      showBrowse();
      await loadPage();
    } catch (error) {
      showError(error);
    }
  }

  async function playCurrent() {
    const current = local.current;
    if (!current) return;
    const body = { uri: current.uri, name: current.name, track_count: current.track_count };
    if (current.image_url && /^https?:/.test(current.image_url)) body.cover_url = current.image_url;
    if (current.url) body.playlist_url = current.url;
    try {
      await api.post("/v1/spotify/playlists", body);
    } catch (error) {
      showError(error);
    }
  }

  /** The "add to playlist" picker for a track (search results, now playing). */
  async function pickPlaylistFor(track) {
    const dialog = $("#pick-dialog");
    const list = $("#pick-list");
    $("#pick-track").replaceChildren(userText(track.name), " — ", userText(track.artists.join(", ")));
    list.replaceChildren(el("li", { class: "muted" }, "Loading playlists…"));
    dialog.showModal();
    try {
      const playlists = await api.get("/v1/spotify/playlists", { limit: 50 });
      list.replaceChildren(
        ...playlists.map((playlist) =>
          el(
            "li",
            {},
            el(
              "button",
              {
                class: "btn",
                type: "button",
                onclick: async () => {
                  dialog.close();
                  try {
                    await api.post(`${path(playlist.id)}/tracks`, { uris: [track.uri] });
                    toast(["Added to ", userText(playlist.name), ": ", userText(track.name)]);
                    if (local.current && local.current.id === playlist.id) loadTracks();
                  } catch (error) {
                    showError(error);
                  }
                },
              },
              userText(playlist.name),
            ),
          ),
        ),
      );
      if (!playlists.length) list.replaceChildren(el("li", { class: "muted" }, "No playlists: create one under Playlists."));
    } catch (error) {
      dialog.close();
      showError(error);
    }
  }

  function init() {
    $("#playlists-prev").addEventListener("click", () => loadPage(Math.max(0, local.page - 1)));
    $("#playlists-next").addEventListener("click", () => loadPage(local.page + 1));
    $("#pl-tracks-prev").addEventListener("click", () => loadTracks(Math.max(0, local.tracksPage - 1)));
    $("#pl-tracks-next").addEventListener("click", () => loadTracks(local.tracksPage + 1));
    $("#playlist-back").addEventListener("click", showBrowse);
    $("#playlist-create").addEventListener("click", createPlaylist);
    $("#pl-rename").addEventListener("click", renamePlaylist);
    $("#pl-delete").addEventListener("click", deletePlaylist);
    $("#pl-play").addEventListener("click", playCurrent);
    store.on(TOPIC.TAB, (name) => {
      if (name === "playlists" && !local.loaded) loadPage(0);
    });
    store.on(TOPIC.SIGNED_IN, () => {
      local.loaded = false;
      showBrowse();
    });
  }

  return { init, pickPlaylistFor };
}
