// Admin → Health: the doctor's checks (the same as `tunedeck doctor`), each a line with
// ✓ or ✗ and what to do.

import { api } from "../../core/api.js";
import { $, el } from "../../core/dom.js";
import { showError } from "./ui.js";
import { store, TOPIC } from "./store.js";

function line(check) {
  return el(
    "li",
    { class: check.ok ? "check ok" : "check bad" },
    el("span", { class: "check-mark", "aria-hidden": "true" }, check.ok ? "✓" : "✗"),
    el(
      "div",
      {},
      el("strong", {}, check.name),
      el("span", { class: "visually-hidden" }, check.ok ? " (ok) " : " (problem) "),
      el("div", { class: "small" }, check.detail),
      check.ok ? null : el("div", { class: "small check-fix" }, `What to do: ${check.fix}`),
    ),
  );
}

export function createHealth() {
  async function check() {
    const button = $("#health-run");
    button.setAttribute("aria-busy", "true");
    $("#health-summary").textContent = "Checking…";
    try {
      const report = await api.get("/v1/doctor");
      $("#health-list").replaceChildren(...report.checks.map(line));
      const failing = report.checks.filter((c) => !c.ok).length;
      $("#health-summary").textContent = failing ? `${failing} thing${failing > 1 ? "s" : ""} to fix.` : "Everything works.";
    } catch (error) {
      $("#health-summary").textContent = "";
      showError(error);
    } finally {
      button.removeAttribute("aria-busy");
    }
  }

  function init() {
    $("#health-run").addEventListener("click", check);
    store.on(TOPIC.TAB, (name) => {
      if (name === "admin" && store.can("admin") && !$("#health-list").children.length) check();
    });
  }

  return { init };
}
