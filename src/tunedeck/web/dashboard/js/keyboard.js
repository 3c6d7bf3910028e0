// Keyboard shortcuts: space play/pause, ←/→ seek 5 s, shift+←/→ previous/next,
// ↑/↓ volume, / search, ? help. Typing in a field, a focused control that uses the key
// itself (tabs, sliders, buttons for space) and open dialogs keep their own keys.

import { $ } from "../../core/dom.js";
import { store } from "./store.js";

function typing(target) {
  return Boolean(target.closest && target.closest("input, textarea, select, [contenteditable='true']"));
}

function ownsKey(target, key) {
  if (key === " ") return Boolean(target.closest && target.closest("button, a, summary, [role='tab']"));
  if (key.startsWith("Arrow")) return Boolean(target.closest && target.closest("[role='tab'], [role='slider']"));
  return false;
}

export function showHelp() {
  const dialog = $("#help-dialog");
  if (!dialog.open) dialog.showModal();
}

export function initKeyboard({ player, focusSearch }) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if ($("#app").hidden || document.querySelector("dialog[open]")) return;
    const target = event.target;
    if (typing(target) || ownsKey(target, event.key)) return;
    const playbackAllowed = store.can("spotify:playback");
    let handled = true;
    switch (event.key) {
      case " ":
        if (playbackAllowed) player.togglePlay();
        break;
      case "ArrowLeft":
        if (playbackAllowed) (event.shiftKey ? player.previous() : player.seekBy(-5000));
        break;
      case "ArrowRight":
        if (playbackAllowed) (event.shiftKey ? player.next() : player.seekBy(5000));
        break;
      case "ArrowUp":
        if (playbackAllowed) player.nudgeVolume(1);
        break;
      case "ArrowDown":
        if (playbackAllowed) player.nudgeVolume(-1);
        break;
      case "/":
        focusSearch();
        break;
      case "?":
        showHelp();
        break;
      default:
        handled = false;
    }
    if (handled) event.preventDefault();
  });
}
