// Building the DOM, and showing text that comes from outside (Spotify, a user) safely:
// always as text (never markup), bidi-isolated so a right-to-left override in a name
// cannot reorder what follows it, in an element the stylesheets let wrap or truncate.

export const $ = (selector, root = document) => root.querySelector(selector);

/** Create an element: el("button", {class: "btn", onclick}, "text", child...). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.className = value;
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * Text from Spotify or a user (a title, an artist, a key's label, a playlist's name): a
 * <bdi> (isolated, its direction from its own first strong character) of class
 * "ext" (pages let it wrap anywhere or truncate it).
 */
export function userText(value, className = "") {
  return el("bdi", { class: className ? `ext ${className}` : "ext" }, value == null ? "" : String(value));
}

/** Put `value` into `node` as text from outside: its direction its own, isolated. */
export function setUserText(node, value) {
  node.textContent = value == null ? "" : String(value);
  node.dir = "auto";
}
