"""What a viewer typed after ``!sr``: a Spotify track (link or URI), search text, or a
refusal saying why it cannot be either.

Pure and total: any string (10,000 characters of NUL, lone surrogates, ``<script>``...)
gives an answer. The text is cleaned first (``text.clean``: invisible and control
characters stripped, not refused). A link anywhere in the text decides: a Spotify track
link or URI is the request, whatever words surround it; any other link is refused. Only
search text is held to :data:`MAX_QUERY_CHARS`; HTML is just text.

Links are recognised with a scheme (``https://``, ``http://``, any ``scheme://``), from
``www.``, as a bare ``host.tld/path``, or as a bare name of a known music site
(``youtu.be``, ``spotify.link``...). Spotify's own: ``open.spotify.com`` and
``play.spotify.com`` paths, with or without a locale (``/intl-de/``) or ``/embed``, with
any query string; ``spotify:kind:id`` URIs. ``spotify.link`` / ``spotify.app.link`` short
links redirect through Spotify's servers, which TuneDeck does not call for a viewer: the
viewer is asked for the full link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from tunedeck.requests.reasons import Reason, Refusal, refuse
from tunedeck.requests.text import clean, fold

MAX_QUERY_CHARS = 200
"""The longest search text (after cleaning) a viewer may send."""

MAX_INPUT_CHARS = 2000
"""Longer input is refused before any work is spent on it."""

_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_BARE_URL = re.compile(r"^[\w-]+(\.[\w-]+)*\.[a-z]{2,}(:\d+)?/", re.IGNORECASE)
_LOCALE = re.compile(r"^intl-[a-z]{2}(-[a-z0-9]{2,4})?$", re.IGNORECASE)
#: Punctuation around a link in a sentence ("(https://…)", "<https://…>", "…link!").
_AROUND = "<>()[]{}\"'«»\u201c\u201d\u2018\u2019.,;:!?"

_SPOTIFY_HOSTS = frozenset({"open.spotify.com", "play.spotify.com"})
_SHORT_HOSTS = ("spotify.link", "spotify.app.link")
#: Sites named without a path are links too: a viewer pasting ``youtu.be`` meant one.
_KNOWN_SITES = (
    *_SHORT_HOSTS,
    "spotify.com",
    "youtube.com",
    "youtu.be",
    "soundcloud.com",
    "music.apple.com",
    "deezer.com",
    "deezer.page.link",
    "tidal.com",
    "bandcamp.com",
    "twitch.tv",
    "tiktok.com",
    "music.amazon.com",
    "audiomack.com",
    "pandora.com",
)

#: What each kind of Spotify link or URI means for a song request.
_KINDS: dict[str, Reason] = {
    "album": Reason.ALBUM_LINK,
    "playlist": Reason.PLAYLIST_LINK,
    "artist": Reason.ARTIST_LINK,
    "episode": Reason.PODCAST,
    "show": Reason.PODCAST,
}


@dataclass(frozen=True, slots=True)
class TrackLink:
    """A Spotify track named by link or URI."""

    track_id: str

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.track_id}"


@dataclass(frozen=True, slots=True)
class SearchText:
    """Text to search for: as the viewer typed it (cleaned) and folded for comparison."""

    text: str
    folded: str


ParsedRequest = TrackLink | SearchText


def parse_request(raw: str) -> ParsedRequest | Refusal:
    """What ``raw`` asks for, or why it cannot be requested."""
    if len(raw) > MAX_INPUT_CHARS:
        return refuse(Reason.TOO_LONG, limit=MAX_QUERY_CHARS)
    text = clean(raw)
    for word in text.split():
        found = _link(word.strip(_AROUND))
        if found is not None:
            return found
    folded = fold(text)
    if not folded:
        return refuse(Reason.EMPTY)
    if len(text) > MAX_QUERY_CHARS:
        return refuse(Reason.TOO_LONG, limit=MAX_QUERY_CHARS)
    return SearchText(text, folded)


def _link(word: str) -> ParsedRequest | Refusal | None:
    """What one word is if it is a link or a Spotify URI, else None."""
    if word[:8].lower() == "spotify:":
        return _uri(word)
    if _SCHEME.match(word):
        return _url(word)
    lowered = word.lower()
    if lowered.startswith("www.") or _BARE_URL.match(word) or _is_site(lowered.split("/")[0]):
        return _url(f"https://{word}")
    return None


def _is_site(host: str) -> bool:
    host = host.rstrip(".")
    return any(host == site or host.endswith(f".{site}") for site in _KNOWN_SITES)


def _uri(word: str) -> ParsedRequest | Refusal:
    """``spotify:track:{id}``, or why another ``spotify:`` URI cannot be requested."""
    parts = word.split("?")[0].split(":")
    if len(parts) >= 4 and parts[1].lower() == "user":
        parts = parts[:1] + parts[3:]  # spotify:user:{name}:playlist:{id}, the old form
    kind = parts[1].lower() if len(parts) > 1 else ""
    return _spotify(kind, parts[2] if len(parts) == 3 else None)


def _url(word: str) -> ParsedRequest | Refusal:
    """A Spotify track link, or why this link cannot be requested."""
    try:
        parts = urlsplit(word)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:  # a malformed port or IPv6 literal
        return refuse(Reason.OTHER_SITE)
    refused = _host_refusal(parts.scheme, host)
    if refused is not None:
        return refused
    segments = _item_segments(parts.path)
    kind = segments[0].lower() if segments else ""
    return _spotify(kind, segments[1] if len(segments) >= 2 else None)


def _host_refusal(scheme: str, host: str) -> Refusal | None:
    """Why a link on ``host`` cannot be a request (None: it is Spotify's open player)."""
    if scheme.lower() not in ("http", "https"):
        return refuse(Reason.OTHER_SITE)
    if any(host == short or host.endswith(f".{short}") for short in _SHORT_HOSTS):
        return refuse(Reason.SHORT_LINK)
    if host not in _SPOTIFY_HOSTS:
        is_spotify = host == "spotify.com" or host.endswith(".spotify.com")
        return refuse(Reason.NOT_A_TRACK if is_spotify else Reason.OTHER_SITE)
    return None


def _item_segments(path: str) -> list[str]:
    """The path's segments from the item's kind on: a locale, ``embed`` and the old
    ``/user/{name}`` prefix left out."""
    segments = [segment for segment in path.split("/") if segment]
    if segments and _LOCALE.match(segments[0]):
        segments = segments[1:]
    if segments and segments[0].lower() in ("embed", "embed-podcast"):
        segments = segments[1:]
    if len(segments) >= 4 and segments[0].lower() == "user":
        segments = segments[2:]  # /user/{name}/playlist/{id}, the old form
    return segments


def _spotify(kind: str, ident: str | None) -> ParsedRequest | Refusal:
    """A Spotify item of ``kind`` with ``ident``, as a request."""
    if kind == "track":
        if ident is None or not _ID.match(ident):
            return refuse(Reason.BAD_LINK)
        return TrackLink(ident)
    reason = _KINDS.get(kind)
    return refuse(reason if reason is not None else Reason.NOT_A_TRACK)
