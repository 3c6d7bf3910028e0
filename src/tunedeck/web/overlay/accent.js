// The overlay's accent colour taken from the album art (option accent=art).
//
// Spotify serves covers from its own hosts, and a page may only read the pixels of an
// image whose host allows it (CORS); so the cover is fetched through TuneDeck's own
// origin (GET /overlay/art?url=..., which fetches only from Spotify's image hosts and the
// simulator) and drawn small onto a canvas. The colour is the saturation-weighted mean of
// the cover's pixels, brightened or darkened until it reads on the overlay.

const SIZE = 24;
const CACHE_MAX = 16;

export function Accent(token) {
  this.token = token;
  this.cache = new Map(); // art url -> colour (a few entries, oldest dropped)
}

/* Resolves to a CSS colour, or null when the art cannot be read. */
Accent.prototype.of = function (artUrl) {
  if (!artUrl) return Promise.resolve(null);
  var cache = this.cache;
  if (cache.has(artUrl)) return Promise.resolve(cache.get(artUrl));
  var headers = this.token ? { Authorization: "Bearer " + this.token } : {};
  return fetch("/overlay/art?url=" + encodeURIComponent(artUrl), {
    headers: headers,
    credentials: "same-origin",
    referrerPolicy: "no-referrer",
  })
    .then(function (response) {
      if (!response.ok) throw new Error("art proxy answered " + response.status);
      return response.blob();
    })
    .then(decode)
    .then(function (color) {
      cache.set(artUrl, color);
      if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value);
      return color;
    })
    .catch(function (err) {
      console.log("TuneDeck overlay: no accent from the art (" + err.message + ")");
      return null;
    });
};

function decode(blob) {
  return new Promise(function (resolve, reject) {
    var url = URL.createObjectURL(blob);
    var img = new Image();
    img.onload = function () {
      try {
        var canvas = document.createElement("canvas");
        canvas.width = SIZE;
        canvas.height = SIZE;
        var ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(img, 0, 0, SIZE, SIZE);
        resolve(pick(ctx.getImageData(0, 0, SIZE, SIZE).data));
      } catch (err) {
        reject(err);
      } finally {
        URL.revokeObjectURL(url);
      }
    };
    img.onerror = function () {
      URL.revokeObjectURL(url);
      reject(new Error("unreadable image"));
    };
    img.src = url;
  });
}

function pick(data) {
  var r = 0, g = 0, b = 0, weight = 0;
  for (var i = 0; i < data.length; i += 4) {
    if (data[i + 3] < 128) continue;
    var hsl = toHsl(data[i], data[i + 1], data[i + 2]);
    // Vivid mid-tones count most; greys, near-black and near-white barely.
    var w = 0.05 + hsl[1] * (1 - Math.abs(hsl[2] - 0.5) * 2);
    r += data[i] * w;
    g += data[i + 1] * w;
    b += data[i + 2] * w;
    weight += w;
  }
  if (!weight) return null;
  var hsl2 = toHsl(r / weight, g / weight, b / weight);
  // Readable on the dark panel and as a bar: lightness 55-70 %, some saturation.
  var s = Math.max(0.45, hsl2[1]);
  var l = Math.min(0.7, Math.max(0.55, hsl2[2]));
  return "hsl(" + Math.round(hsl2[0] * 360) + " " + Math.round(s * 100) + "% " +
    Math.round(l * 100) + "%)";
}

function toHsl(r, g, b) {
  r /= 255; g /= 255; b /= 255;
  var max = Math.max(r, g, b), min = Math.min(r, g, b);
  var l = (max + min) / 2, h = 0, s = 0;
  if (max !== min) {
    var d = max - min;
    s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
    if (max === r) h = (g - b) / d + (g < b ? 6 : 0);
    else if (max === g) h = (b - r) / d + 2;
    else h = (r - g) / d + 4;
    h /= 6;
  }
  return [h, s, l];
}
