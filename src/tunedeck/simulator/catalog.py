"""A music catalog generated from a seed: same seed and size, same artists, albums and tracks."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_PATTERN = re.compile(r"^[0-9A-Za-z]{22}$")
IMAGE_SIZES = (640, 300, 64)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Word lists the generated names are made of.
_ADJECTIVES = _words(
    "Neon Velvet Golden Silent Electric Midnight Crystal Wild Broken Hollow Lucky Paper "
    "Silver Burning Frozen Distant Gentle Restless Secret Northern Lonely Bright Hidden "
    "Endless Sweet Cosmic Faded Rusty Crimson Emerald Quiet Savage Tender Shallow Heavy "
    "Liquid Radiant"
)
_NOUNS = _words(
    "Harbor Static Horizon River Echo Garden Engine Signal Mirror Ocean Thunder Lantern "
    "Comet Highway Shadow Canyon Window Circuit Forest Desert Satellite Parade Whisper "
    "Island Machine Orchard Carousel Lighthouse Avalanche Meadow Voltage Sparrow Tide Ember "
    "Cathedral Prism"
)
_VERBS = _words(
    "Falling Running Dancing Waiting Dreaming Burning Chasing Drifting Calling Breaking"
)
_PLACES = _words(
    "Tokyo Berlin Lisbon Memphis Oslo Havana Cairo Seoul Dublin Austin Kyoto Marseille Detroit"
)
_FIRST = _words(
    "Nova Luna Milo Ada Otis Iris Jonah Vera Felix Maya Theo Nina Leo Zara Hugo Elsa Ravi Juno"
)
_LAST = _words("Park Rivers Stone Vale Okafor Lindqvist Moreau Tanaka Reyes Quinn Novak Hale")


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

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.id}"


@dataclass(slots=True)
class Catalog:
    """All tracks, albums and artists, with lookups by id and uri."""

    seed: int
    tracks: list[Track]
    albums: dict[str, Album]
    artists: dict[str, Artist]
    by_id: dict[str, Track]
    album_tracks: dict[str, list[str]]
    artist_tracks: dict[str, list[str]]

    def track(self, track_id: str) -> Track | None:
        """The track with this id, if any."""
        return self.by_id.get(track_id)

    def track_by_uri(self, uri: str) -> Track | None:
        """The track a ``spotify:track:{id}`` uri names, if any."""
        if not uri.startswith("spotify:track:"):
            return None
        return self.by_id.get(uri[len("spotify:track:") :])

    def duration_of(self, uri: str) -> int:
        """Duration in ms of a track uri (unknown uris last 3 minutes)."""
        track = self.track_by_uri(uri)
        return track.duration_ms if track else 180_000

    def search(self, query: str) -> list[Track]:
        """Tracks matching ``query``: free terms and ``track:``/``artist:``/``album:``/``year:``."""
        filters, terms = parse_query(query)
        if not filters and not terms:
            return []
        found = []
        for track in self.tracks:
            if all(term in track.haystack for term in terms) and _matches(track, filters):
                found.append(track)
        # Most popular first, like Spotify's relevance; stable for equal popularity.
        found.sort(key=lambda t: -t.popularity)
        return found


_FIELD = re.compile(r'(track|artist|album|year):(?:"([^"]*)"|(\S+))', re.IGNORECASE)


def parse_query(query: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Split a search query into field filters and lower-cased free terms."""
    filters = [
        (m.group(1).lower(), (m.group(2) if m.group(2) is not None else m.group(3)).lower())
        for m in _FIELD.finditer(query)
    ]
    rest = _FIELD.sub(" ", query).replace('"', " ").lower()
    return filters, rest.split()


def _matches(track: Track, filters: list[tuple[str, str]]) -> bool:
    for name, value in filters:
        if name == "track" and value not in track.name.lower():
            return False
        if name == "artist" and not any(value in a.name.lower() for a in track.artists):
            return False
        if name == "album" and value not in track.album.name.lower():
            return False
        if name == "year" and not _year_matches(track.album.release_date[:4], value):
            return False
    return True


def _year_matches(year: str, value: str) -> bool:
    if "-" in value:
        low, _, high = value.partition("-")
        return low <= year <= high
    return year == value


def _color(rng: random.Random) -> str:
    return f"#{rng.randrange(0x1000000):06x}"


def _title(rng: random.Random) -> str:
    shape = rng.randrange(6)
    if shape == 0:
        return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if shape == 1:
        return f"{rng.choice(_VERBS)} for {rng.choice(_NOUNS)}s"
    if shape == 2:
        return f"{rng.choice(_NOUNS)} of {rng.choice(_PLACES)}"
    if shape == 3:
        return f"{rng.choice(_VERBS)} {rng.choice(_ADJECTIVES)}"
    if shape == 4:
        return f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    return rng.choice(_NOUNS)


def _artist_name(rng: random.Random) -> str:
    if rng.random() < 0.45:
        return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    if rng.random() < 0.5:
        return f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}s"
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"


@lru_cache(maxsize=8)
def build_catalog(seed: int, size: int) -> Catalog:
    """Generate ``size`` tracks from ``seed`` (cached: the catalog is never mutated)."""
    rng = random.Random(seed)
    artists = [Artist(base62_id(rng), _artist_name(rng)) for _ in range(max(10, size // 12))]
    tracks: list[Track] = []
    albums: dict[str, Album] = {}
    album_tracks: dict[str, list[str]] = {}
    artist_tracks: dict[str, list[str]] = {}
    while len(tracks) < size:
        artist = rng.choice(artists)
        count = min(rng.choice((1, 1, 2, 4, 6, 8, 10, 12, 14)), size - len(tracks))
        year = rng.randrange(1965, 2026)
        if rng.random() < 0.8:
            date = f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            precision = "day"
        else:
            date, precision = str(year), "year"
        album_type = "single" if count <= 3 else ("compilation" if rng.random() < 0.1 else "album")
        album = Album(
            id=base62_id(rng),
            name=_title(rng),
            artist=artist,
            album_type=album_type,
            release_date=date,
            release_date_precision=precision,
            total_tracks=count,
            colors=(_color(rng), _color(rng)),
        )
        albums[album.id] = album
        ids = album_tracks.setdefault(album.id, [])
        for number in range(1, count + 1):
            name = album.name if count == 1 else _title(rng)
            credited: tuple[Artist, ...] = (artist,)
            if rng.random() < 0.15:
                guest = rng.choice(artists)
                if guest is not artist:
                    credited = (artist, guest)
            track = Track(
                id=base62_id(rng),
                name=name,
                artists=credited,
                album=album,
                duration_ms=rng.randrange(120_000, 360_000),
                popularity=rng.randrange(0, 101),
                explicit=rng.random() < 0.12,
                track_number=number,
                isrc=f"QZ{rng.randrange(10**10):010d}",
                haystack=" ".join([name, *(a.name for a in credited), album.name]).lower(),
            )
            tracks.append(track)
            ids.append(track.id)
            for credited_artist in credited:
                artist_tracks.setdefault(credited_artist.id, []).append(track.id)
    return Catalog(
        seed=seed,
        tracks=tracks,
        albums=albums,
        artists={a.id: a for a in artists},
        by_id={t.id: t for t in tracks},
        album_tracks=album_tracks,
        artist_tracks=artist_tracks,
    )
