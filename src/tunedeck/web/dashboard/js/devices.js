// Devices: the user's Spotify Connect devices with type and volume; transfer playback,
// or "play here" to start on an idle device.

import { api } from "../../core/api.js";
import { $, el, userText } from "../../core/dom.js";
import { actionButton, icon, showError, toast } from "./ui.js";
import { store, TOPIC } from "./store.js";

const ICONS = { Smartphone: "phone", Tablet: "phone", Speaker: "speaker", CastAudio: "speaker", AVR: "speaker", TV: "device" };

export function createDevices() {
  async function loadDevices() {
    try {
      store.setDevices(await api.get("/v1/spotify/devices"));
    } catch (error) {
      showError(error);
    }
  }

  /** Its event reloads the devices; the feed brings what plays where. */
  async function transfer(device, play) {
    await api.post("/v1/spotify/devices", { device_id: device.id, play });
    toast([play ? "Playing on " : "Playback moved to ", userText(device.name)]);
  }

  function render(devices) {
    $("#device-list").replaceChildren(
      ...(devices || []).map((device) => {
        const volume = device.volume_percent == null ? "volume unknown" : `volume ${device.volume_percent}%`;
        const notes = [device.type, volume];
        if (device.is_restricted) notes.push("restricted: Spotify does not allow controlling it from here");
        const controls = el("div", { class: "row" });
        if (device.id && !device.is_restricted) {
          if (!device.is_active) {
            controls.append(
              actionButton(`Transfer playback to ${device.name}`, {
                className: "btn small",
                text: "Transfer",
                permission: "spotify:device",
                onclick: () => transfer(device, false),
              }),
            );
          }
          controls.append(
            actionButton(`Play here on ${device.name}`, {
              className: device.is_active ? "btn small" : "btn small primary",
              text: "Play here",
              permission: "spotify:device",
              onclick: () => transfer(device, true),
            }),
          );
        }
        return el(
          "li",
          { class: `device${device.is_active ? " active" : ""}`, dataset: { id: device.id || "" } },
          icon(ICONS[device.type] || "device"),
          el(
            "div",
            { class: "device-text" },
            el("div", { class: "device-name" }, userText(device.name), device.is_active ? " · playing here" : ""),
            el("div", { class: "muted small" }, notes.join(" · ")),
          ),
          controls,
        );
      }),
    );
    $("#devices-empty").hidden = Boolean(devices && devices.length);
  }

  function init() {
    store.on(TOPIC.DEVICES, render);
    store.on(TOPIC.TAB, (name) => {
      if (name === "devices") loadDevices();
    });
    $("#devices-refresh").addEventListener("click", loadDevices);
    store.on(TOPIC.EVENT, (event) => {
      if (event.type === "spotify:device" || event.type === "spotify:volume") loadDevices();
    });
  }

  return { init };
}
