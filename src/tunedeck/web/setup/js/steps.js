// The step list beside the card: which step is current, which are done, which can be
// opened (every step up to the first one not done yet).

import { $ } from "../../core/dom.js";

export function markSteps(current, reachable, onPick) {
  for (const item of document.querySelectorAll("#step-list li")) {
    const step = Number(item.dataset.step);
    item.dataset.state = step === current ? "current" : step < reachable || step < current ? "done" : "";
    const button = item.querySelector("button");
    button.disabled = step > reachable || step === 1;
    button.onclick = () => onPick(step);
    if (step === current) button.setAttribute("aria-current", "step");
    else button.removeAttribute("aria-current");
  }
}

/** Show one section of the card (by id), hide the others. */
export function showSection(id) {
  $("#setup-loading").hidden = true;
  for (const section of document.querySelectorAll(".step")) section.hidden = section.id !== id;
  $("#main").focus();
}
