// The overlay: what is shown. One "slot" per item (art and text); a change slides the new
// slot in over the old one, which then leaves the DOM (two slots at most, so the node
// count stays flat however long the stream). A title too long for its box scrolls (a CSS
// transform animation, measured once per item). Options become CSS custom properties and
// classes on the root. Titles, artists and albums are text from Spotify: <bdi> elements
// in the template, set as text.

import { colorCss } from "./options.js";

const ENTER_MS = 450;
const PRELOAD_MS = 800; // longest wait for a cover before showing the change anyway
const MARQUEE_SPEED = 40; // px per second, at scale 1
const MARQUEE_GAP = 48; // px between the end of the title and its repeat
const RTL = /^[^A-Za-z\u00C0-\u02AF\u0370-\u03FF\u0400-\u04FF]*[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;

export function View(root, template) {
  this.root = root;
  this.template = template;
  this.slots = root.querySelector(".slots");
  this.statusEl = root.querySelector(".status");
  this.current = null; // {key, el}
  this.animate = true;
  this.scale = 1;
  this.pending = 0;
}

View.prototype.apply = function (o) {
  var root = this.root;
  var keep = root.className.split(/\s+/).filter(function (c) {
    return c && !/^(layout-|pos-|no-|with-)/.test(c);
  });
  keep.push("layout-" + o.layout, "pos-" + o.position);
  if (!o.art) keep.push("no-art");
  if (!o.album) keep.push("no-album");
  if (!o.requester) keep.push("no-requester");
  if (!o.progress) keep.push("no-progress");
  if (!o.time) keep.push("no-time");
  if (!o.shadow) keep.push("no-shadow");
  if (!o.animate) keep.push("no-anim");
  root.className = keep.join(" ");
  var style = root.style;
  var css = colorCss;
  style.setProperty("--scale", String(o.scale));
  style.setProperty("--margin", o.margin + "px");
  if (o.width) style.setProperty("--width", o.width + "px");
  else style.removeProperty("--width");
  if (o.font) style.setProperty("--font", o.font + ", var(--stack)");
  else style.removeProperty("--font");
  if (o.size) style.setProperty("--title-size", o.size + "px");
  else style.removeProperty("--title-size");
  style.setProperty("--text", css(o.text));
  style.setProperty("--bg", css(o.bg));
  style.setProperty("--radius", o.radius + "px");
  if (o.accent !== "art") style.setProperty("--accent", css(o.accent));
  this.animate = o.animate;
  this.scale = o.scale;
  if (this.current) this.marquee(this.current.el);
};

View.prototype.setAccent = function (color) {
  if (color) this.root.style.setProperty("--accent", color);
};

View.prototype.setVisible = function (visible) {
  this.root.setAttribute("data-visible", visible ? "true" : "false");
};

View.prototype.setState = function (state) {
  this.root.setAttribute("data-state", state);
};

View.prototype.setStatus = function (text) {
  this.statusEl.hidden = !text;
  this.statusEl.textContent = text || "";
};

/* item: {key, kind, title, artists, album, art, requester}. Resolves once it is on screen. */
View.prototype.show = function (item) {
  var self = this;
  if (self.current && self.current.key === item.key) return Promise.resolve(false);
  var ticket = ++self.pending;
  return preload(item.art).then(function (artOk) {
    if (ticket !== self.pending) return false; // a newer item won
    var el = self.build(item, artOk);
    self.swap(el);
    self.current = { key: item.key, el: el };
    self.root.setAttribute("data-item", item.key);
    self.marquee(el);
    return true;
  });
};

View.prototype.build = function (item, artOk) {
  var el = this.template.content.firstElementChild.cloneNode(true);
  el.classList.add("kind-" + item.kind);
  var art = el.querySelector(".art");
  if (item.art && artOk) {
    var img = document.createElement("img");
    img.alt = "";
    img.decoding = "async";
    img.referrerPolicy = "no-referrer";
    img.src = item.art;
    img.onerror = function () { el.classList.add("no-cover"); img.remove(); };
    art.appendChild(img);
  } else {
    el.classList.add("no-cover");
  }
  setText(el, ".title", item.title);
  setText(el, ".artists", item.artists);
  setText(el, ".artists-inline", item.artists);
  setText(el, ".album", item.album);
  setText(el, ".album-inline", item.album);
  if (!item.artists) el.classList.add("no-artists");
  if (!item.album) el.classList.add("no-album-text");
  fillRequester(el, item.requester);
  var main = el.querySelector(".line-main");
  var rtl = RTL.test(item.title || "");
  main.dir = rtl ? "rtl" : "ltr";
  el.querySelector(".line-artists").dir = "auto";
  el.querySelector(".line-album").dir = "auto";
  return el;
};

View.prototype.swap = function (el) {
  var old = this.current ? this.current.el : null;
  // Anything still leaving goes now: never more than two slots.
  Array.prototype.forEach.call(this.slots.querySelectorAll(".slot.leaving"), function (s) {
    s.remove();
  });
  this.slots.appendChild(el);
  if (!old) return;
  if (!this.animate || !el.animate) {
    old.remove();
    return;
  }
  old.classList.add("leaving");
  el.animate(
    [{ opacity: 0, transform: "translateY(35%)" }, { opacity: 1, transform: "none" }],
    { duration: ENTER_MS, easing: "cubic-bezier(.2,.8,.2,1)" }
  );
  var out = old.animate(
    [{ opacity: 1, transform: "none" }, { opacity: 0, transform: "translateY(-35%)" }],
    { duration: ENTER_MS, easing: "cubic-bezier(.4,0,.6,1)", fill: "forwards" }
  );
  out.onfinish = function () { old.remove(); };
};

/* Scroll the main line when it does not fit (one measurement per item or options). */
View.prototype.marquee = function (el) {
  var line = el.querySelector(".line-main");
  var scroller = line.querySelector(".scroller");
  var copy = scroller.querySelector(".copy");
  if (copy) copy.remove();
  line.classList.remove("marquee");
  var text = scroller.querySelector(".text");
  var overflow = text.scrollWidth - line.clientWidth;
  if (!this.animate || overflow <= 1) return;
  var clone = text.cloneNode(true);
  clone.classList.add("copy");
  clone.setAttribute("aria-hidden", "true");
  scroller.appendChild(clone);
  var distance = text.scrollWidth + MARQUEE_GAP * this.scale;
  line.style.setProperty("--marquee-distance", distance.toFixed(1) + "px");
  line.style.setProperty("--marquee-gap", (MARQUEE_GAP * this.scale).toFixed(1) + "px");
  line.style.setProperty(
    "--marquee-duration", (distance / (MARQUEE_SPEED * this.scale)).toFixed(2) + "s"
  );
  line.classList.add("marquee");
};

/* Who requested the item on screen: known later than the item itself at times. */
View.prototype.setRequester = function (requester) {
  if (!this.current) return;
  fillRequester(this.current.el, requester);
  this.marquee(this.current.el);
};

View.prototype.setPaused = function (paused) {
  this.root.classList.toggle("paused", !!paused);
};

/* A requester's name (text from a viewer) in every place a layout may show it. */
function fillRequester(el, requester) {
  Array.prototype.forEach.call(el.querySelectorAll(".requester"), function (node) {
    node.textContent = requester || "";
  });
  el.classList.toggle("with-requester", !!requester);
  el.querySelector(".line-requester").dir = "auto";
}

function setText(el, selector, text) {
  el.querySelector(selector).textContent = text || "";
}

function preload(url) {
  if (!url) return Promise.resolve(false);
  return new Promise(function (resolve) {
    var img = new Image();
    var done = false;
    function finish(ok) {
      if (done) return;
      done = true;
      img.onload = img.onerror = null;
      resolve(ok);
    }
    var timer = setTimeout(function () { finish(true); }, PRELOAD_MS);
    img.onload = function () { clearTimeout(timer); finish(true); };
    img.onerror = function () { clearTimeout(timer); finish(false); };
    img.referrerPolicy = "no-referrer";
    img.src = url;
  });
}
