// The account's overlay tokens as a table (label, token prefix, created, status, revoke),
// for every page that manages them (the dashboard's Admin tab, the overlay builder); the
// same table serves the chat tokens (`path`: "/v1/chat-tokens").
// A token's secret exists only in the answer that created it: `create` hands it to the
// page, which shows it once; the table shows prefixes only. The pages hide the cells of
// class "hide-narrow" (the creation time) in a narrow window (an OBS dock).

import { api } from "./api.js";
import { formatTime } from "./format.js";
import { el, userText } from "./dom.js";

export class OverlayTokens {
  #body;
  #confirm;
  #onError;
  #onRevoked;
  #buttonClass;
  #fresh = null; // the id of the token created on this page
  #path;

  /**
   * body: the table's <tbody>. confirm(token): resolves true to revoke. onError(error).
   * onRevoked(token): after a revocation. buttonClass: the revoke buttons' class.
   * path: the tokens' collection in the API.
   */
  constructor(
    body,
    { confirm, onError, onRevoked = () => {}, buttonClass = "btn small danger", path = "/v1/overlay-tokens" },
  ) {
    this.#path = path;
    this.#body = body;
    this.#confirm = confirm;
    this.#onError = onError;
    this.#onRevoked = onRevoked;
    this.#buttonClass = buttonClass;
  }

  /** The table's <tbody>, for a page that builds it after making this. */
  setBody(body) {
    this.#body = body;
  }

  /** List the tokens (newest first, revoked last). */
  async load() {
    try {
      const tokens = await api.get(this.#path);
      tokens.sort(
        (a, b) => Boolean(a.revoked_at) - Boolean(b.revoked_at) || (a.created_at < b.created_at ? 1 : -1),
      );
      this.#body.replaceChildren(...tokens.map((token) => this.#row(token)));
    } catch (error) {
      this.#onError(error);
    }
  }

  /** Mint a token; resolves to the API's answer ({token, overlay_url, ...}) or null.
   * `extra`: more fields of the creation's body. */
  async create(label, extra = {}) {
    try {
      const fallback = this.#path === "/v1/overlay-tokens" ? "overlay" : "chat bot";
      const created = await api.post(this.#path, { label: label.trim() || fallback, ...extra });
      this.#fresh = created.id;
      await this.load();
      return created;
    } catch (error) {
      this.#onError(error);
      return null;
    }
  }

  /** Drop what this page knows of the tokens (a sign-out). */
  clear() {
    this.#fresh = null;
    this.#body.replaceChildren();
  }

  #row(token) {
    const fresh = token.id === this.#fresh && !token.revoked_at;
    const status = token.revoked_at ? `revoked ${formatTime(token.revoked_at)}` : fresh ? "active · new" : "active";
    const action = token.revoked_at
      ? null
      : el(
          "button",
          {
            class: this.#buttonClass,
            type: "button",
            "aria-label": `Revoke ${token.label}`,
            onclick: (event) => this.#revoke(token, event.currentTarget),
          },
          "Revoke",
        );
    return el(
      "tr",
      { class: token.revoked_at ? "revoked" : fresh ? "fresh" : undefined, dataset: { id: token.id } },
      el("td", { class: "label-cell" }, userText(token.label)),
      el("td", {}, el("code", {}, `${token.prefix}…`)),
      el("td", { class: "small hide-narrow" }, formatTime(token.created_at)),
      el("td", { class: "small status-cell" }, status),
      el("td", {}, action),
    );
  }

  async #revoke(token, button) {
    if (button.getAttribute("aria-busy") === "true") return;
    if (!(await this.#confirm(token))) return;
    button.setAttribute("aria-busy", "true");
    try {
      await api.delete(`${this.#path}/${encodeURIComponent(token.id)}`);
      this.#onRevoked(token);
      await this.load();
    } catch (error) {
      button.removeAttribute("aria-busy");
      this.#onError(error);
    }
  }
}
