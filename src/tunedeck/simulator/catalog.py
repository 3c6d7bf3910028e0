"""The catalog: artists, albums, tracks (and other versions of some of them), podcast shows
and episodes (and the user's local files), their Spotify ids and uris, lookups and track
search.

``catalog_builder.build_catalog`` generates one from a seed."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote_plus, unquote_plus

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_PATTERN = re.compile(r"^[0-9A-Za-z]{22}$")
IMAGE_SIZES = (640, 300, 64)
#: The markets every catalog item is available in, unless it says otherwise.
MARKETS = ("CA", "DE", "FR", "GB", "SE", "US")


def base62_id(rng: random.Random) -> str:
    """A 22-character base62 id like Spotify's, drawn from ``rng``."""
    return _encode62(rng.getrandbits(131))


def stable_id(label: str) -> str:
    """A 22-character base62 id derived from ``label`` (same label, same id)."""
    return _encode62(int.from_bytes(hashlib.sha256(label.encode()).digest(), "big"))


def _encode62(number: int) -> str:
    chars = []
    for _ in range(22):
        number, rest = divmod(number, 62)
        chars.append(BASE62[rest])
    return "".join(chars)


@dataclass(frozen=True, slots=True)
class Artist:
    """A catalog artist."""

    id: str
    name: str

    @property
    def uri(self) -> str:
        return f"spotify:artist:{self.id}"


@dataclass(frozen=True, slots=True)
class Album:
    """A catalog album, with the two colours its generated cover art uses."""

    id: str
    name: str
    artist: Artist
    album_type: str
    release_date: str
    release_date_precision: str
    total_tracks: int
    colors: tuple[str, str]

    @property
    def uri(self) -> str:
        return f"spotify:album:{self.id}"


@dataclass(frozen=True, slots=True)
class Track:
    """A catalog track."""

    id: str
    name: str
    artists: tuple[Artist, ...]
    album: Album
    duration_ms: int
    popularity: int
    explicit: bool
    track_number: int
    isrc: str
    #: Lower-cased text searched by free-text terms (name, artists, album).
    haystack: str = field(repr=False)
    #: The markets where it may be played; None: all of ``MARKETS``.
    markets: tuple[str, ...] | None = None

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.id}"

    @property
    def available_markets(self) -> tuple[str, ...]:
        """Where it may be played."""
        return MARKETS if self.markets is None else self.markets

    def playable_in(self, market: str) -> bool:
        """Whether a user of ``market`` may play it."""
        return market in self.available_markets


@dataclass(frozen=True, slots=True)
class Version:
    """A track that is another version of a catalog track (``original_id``): ``kind`` is
    ``karaoke``, ``cover``, ``live``, ``remix``, ``sped_up``, ``slowed``, ``nightcore``,
    ``instrumental``, ``acoustic``, ``8d``, ``clean`` (of an explicit original) or
    ``regional`` (the same recording on another release, not playable everywhere); or
    a song of its own playable in few markets (``kind`` ``region_locked``, no original)."""

    track: Track
    kind: str
    original_id: str | None


@dataclass(frozen=True, slots=True)
class Show:
    """A podcast show; ``episode_ids`` lists its episodes newest first, as Spotify does."""

    id: str
    name: str
    publisher: str
    description: str
    language: str
    explicit: bool
    colors: tuple[str, str]
    episode_ids: tuple[str, ...]

    @property
    def uri(self) -> str:
        return f"spotify:show:{self.id}"


@dataclass(frozen=True, slots=True)
class Episode:
    """An episode of a show (its cover art is the show's)."""

    id: str
    name: str
    show: Show
    description: str
    duration_ms: int
    release_date: str
    explicit: bool

    @property
    def uri(self) -> str:
        return f"spotify:episode:{self.id}"


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file from the user's own computer: ``spotify:local:{artist}:{album}:{title}:{seconds}``
    (each part url-encoded with ``+`` for spaces, the album possibly empty)."""

    artist: str
    album: str
    title: str
    seconds: int

    @property
    def uri(self) -> str:
        parts = (self.artist, self.album, self.title)
        return "spotify:local:" + ":".join(quote_plus(part) for part in parts) + f":{self.seconds}"

    @property
    def duration_ms(self) -> int:
        return self.seconds * 1000


def parse_local_uri(uri: str) -> LocalFile | None:
    """The local file a ``spotify:local:`` uri describes, if it is well formed."""
    if not uri.startswith("spotify:local:"):
        return None
    parts = uri[len("spotify:local:") :].split(":")
    if len(parts) != 4 or not parts[3].isdigit() or not parts[2]:
        return None
    artist, album, title = (unquote_plus(part) for part in parts[:3])
    return LocalFile(artist, album, title, int(parts[3]))


@dataclass(slots=True)
class Catalog:
    """All tracks, albums, artists, shows and episodes, with lookups by id and uri."""

    seed: int
    tracks: list[Track]
    albums: dict[str, Album]
    artists: dict[str, Artist]
    by_id: dict[str, Track]
    album_tracks: dict[str, list[str]]
    artist_tracks: dict[str, list[str]]
    shows: dict[str, Show] = field(default_factory=dict)
    episodes: dict[str, Episode] = field(default_factory=dict)
    #: Other versions of some tracks (not in ``tracks``: playlists and players pick from
    #: those), found by search and by id like every track.
    versions: list[Version] = field(default_factory=list)

    def track(self, track_id: str) -> Track | None:
        """The track with this id, if any."""
        return self.by_id.get(track_id)

    def track_by_uri(self, uri: str) -> Track | None:
        """The track a ``spotify:track:{id}`` uri names, if any."""
        if not uri.startswith("spotify:track:"):
            return None
        return self.by_id.get(uri[len("spotify:track:") :])

    def episode_by_uri(self, uri: str) -> Episode | None:
        """The episode a ``spotify:episode:{id}`` uri names, if any."""
        if not uri.startswith("spotify:episode:"):
            return None
        return self.episodes.get(uri[len("spotify:episode:") :])

    def show_episode_uris(self, show_id: str) -> list[str]:
        """The uris of a show's episodes, newest first (what its context plays)."""
        show = self.shows.get(show_id)
        return [f"spotify:episode:{eid}" for eid in show.episode_ids] if show else []

    def item_type(self, uri: str | None) -> str:
        """``track`` (catalog or local file), ``episode``, or ``unknown``."""
        if uri is None:
            return "unknown"
        if self.track_by_uri(uri) is not None or parse_local_uri(uri) is not None:
            return "track"
        if self.episode_by_uri(uri) is not None:
            return "episode"
        return "unknown"

    def duration_of(self, uri: str) -> int:
        """Duration in ms of a track, episode or local file uri (others last 3 minutes)."""
        found = self.track_by_uri(uri) or self.episode_by_uri(uri) or parse_local_uri(uri)
        return found.duration_ms if found else 180_000

    def searchable(self) -> Iterator[Track]:
        """Every track: the catalog's, then the other versions."""
        yield from self.tracks
        for version in self.versions:
            yield version.track

    def search(self, query: str) -> list[Track]:
        """Tracks matching ``query``: free terms and ``track:``/``artist:``/``album:``/``year:``."""
        filters, terms = parse_query(query)
        if not filters and not terms:
            return []
        found = []
        for track in self.searchable():
            if all(term in track.haystack for term in terms) and _matches(track, filters):
                found.append(track)
        # Most popular first, like Spotify's relevance; stable for equal popularity.
        found.sort(key=lambda t: -t.popularity)
        return found


def _year_matches(year: str, value: str) -> bool:
    if "-" in value:
        low, _, high = value.partition("-")
        return low <= year <= high
    return year == value


#: What each ``field:value`` filter of a query asks of a track (``value`` lower-cased).
_FIELD_TESTS: dict[str, Callable[[Track, str], bool]] = {
    "track": lambda track, value: value in track.name.lower(),
    "artist": lambda track, value: any(value in a.name.lower() for a in track.artists),
    "album": lambda track, value: value in track.album.name.lower(),
    "year": lambda track, value: _year_matches(track.album.release_date[:4], value),
}


_FIELD = re.compile(rf'({"|".join(_FIELD_TESTS)}):(?:"([^"]*)"|(\S+))', re.IGNORECASE)


def parse_query(query: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Split a search query into field filters and lower-cased free terms."""
    filters = [
        (m.group(1).lower(), (m.group(2) if m.group(2) is not None else m.group(3)).lower())
        for m in _FIELD.finditer(query)
    ]
    rest = _FIELD.sub(" ", query).replace('"', " ").lower()
    return filters, rest.split()


def _matches(track: Track, filters: list[tuple[str, str]]) -> bool:
    return all(_FIELD_TESTS[name](track, value) for name, value in filters)
