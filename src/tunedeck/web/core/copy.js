// Copy buttons: a button with data-copy="<input id>" copies that input's text, and says
// so. The clipboard is reachable on a secure context (https, or http on 127.0.0.1);
// elsewhere the text is selected for Ctrl+C.

export function wireCopyButtons(root = document) {
  for (const button of root.querySelectorAll("[data-copy]")) {
    if (button.dataset.wired) continue;
    button.dataset.wired = "true";
    button.addEventListener("click", () => copyFrom(button));
  }
}

async function copyFrom(button) {
  const input = document.getElementById(button.dataset.copy);
  if (!input || !input.value) return;
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(input.value);
    button.textContent = "Copied";
  } catch {
    input.focus();
    input.select();
    button.textContent = "Press Ctrl+C";
  }
  setTimeout(() => {
    button.textContent = label;
  }, 2500);
}
