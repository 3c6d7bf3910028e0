"""Other versions of some catalog tracks, as Spotify's search meets them: karaoke, covers,
live recordings, remixes, sped-up / slowed / nightcore / 8D edits, instrumental and
acoustic takes, clean versions of explicit songs, the same recording on a release some
markets cannot play, and a few songs of their own playable in few markets.

They come from their own seeded generator (``"{seed}:versions"``), drawn after the base
catalog, so that no id or figure of the base catalog moved when they were added. Every
version is less popular than its original, except the ``regional`` releases: those rank
above it (as a deluxe edition sometimes does) while the streamer's market cannot play them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tunedeck.simulator.catalog import Album, Artist, Track, Version, base62_id

#: Markets of the releases the built-in users (``US``) cannot play.
ELSEWHERE = ("DE", "FR", "GB", "SE")
FAR_AWAY = ("JP",)

#: Words of the songs that are playable in few markets (none is in the base word lists,
#: so their names are the catalog's alone).
_LOCKED_FIRST = ("Sakura", "Fjord", "Monsoon", "Aurora", "Sirocco", "Tundra", "Lagoon")
_LOCKED_SECOND = ("Lullaby", "Postcard", "Anthem", "Reverie", "Serenade", "Ballad")
_PLACES = ("Tokyo", "Berlin", "Lisbon", "Memphis", "Oslo", "Havana", "Seoul", "Dublin")


@dataclass(frozen=True, slots=True)
class _Kind:
    """How one kind of version is named and credited."""

    name: str
    #: The version's title from the original's name, the original's first artist and rng.
    title: Callable[[str, str, random.Random], str]
    #: The version's own artist, if another than the original's (None: the original's).
    artist: Callable[[random.Random], str] | None = None


def _suffix(text: str) -> Callable[[str, str, random.Random], str]:
    return lambda name, _artist, _rng: f"{name} {text}"


def _one_of(*shapes: str) -> Callable[[str, str, random.Random], str]:
    return lambda name, artist, rng: rng.choice(shapes).format(
        name=name, artist=artist, place=rng.choice(_PLACES)
    )


def _named(*names: str) -> Callable[[random.Random], str]:
    return lambda rng: rng.choice(names)


_KINDS = (
    _Kind(
        "karaoke",
        _one_of(
            "{name} (Karaoke Version)",
            "{name} (Made Famous by {artist})",
            "{name} (In the Style of {artist}) [Karaoke]",
        ),
        _named("Sing Along Stars", "Karaoke Hits Band", "The Backing Track Company"),
    ),
    _Kind(
        "cover",
        _one_of("{name}", "{name} (Cover)"),
        _named("The Cover Collective", "Tribute Sessions"),
    ),
    _Kind("live", _one_of("{name} - Live at {place}", "{name} (Live)")),
    _Kind("remix", _one_of("{name} - Club Remix", "{name} (Extended Mix)")),
    _Kind("sped_up", _one_of("{name} (Sped Up)", "{name} - sped up")),
    _Kind("slowed", _one_of("{name} (Slowed + Reverb)", "{name} - slowed")),
    _Kind("nightcore", _suffix("(Nightcore)"), _named("Nightcore Nation")),
    _Kind("instrumental", _suffix("(Instrumental)")),
    _Kind("acoustic", _one_of("{name} (Acoustic)", "{name} - Acoustic Version")),
    _Kind("8d", _suffix("(8D Audio)"), _named("8D Tunes")),
)


class _Maker:
    """Makes the versions' tracks, albums and artists from one generator."""

    def __init__(self, rng: random.Random, artists: dict[str, Artist]) -> None:
        self.rng = rng
        self.artists = artists
        self.new_artists: dict[str, Artist] = {}
        self.albums: dict[str, Album] = {}
        self._by_name = {artist.name: artist for artist in artists.values()}

    def artist(self, name: str) -> Artist:
        found = self._by_name.get(name)
        if found is None:
            found = self._by_name[name] = self.new_artists[name] = Artist(base62_id(self.rng), name)
        return found

    def album(self, name: str, artist: Artist, like: Album) -> Album:
        album = Album(
            id=base62_id(self.rng),
            name=name,
            artist=artist,
            album_type="single",
            release_date=like.release_date,
            release_date_precision=like.release_date_precision,
            total_tracks=1,
            colors=(f"#{self.rng.randrange(0x1000000):06x}", like.colors[1]),
        )
        self.albums[album.id] = album
        return album

    def track(
        self,
        name: str,
        credited: tuple[Artist, ...],
        album: Album,
        *,
        like: Track,
        popularity: int,
        explicit: bool,
        markets: tuple[str, ...] | None = None,
    ) -> Track:
        duration = like.duration_ms + self.rng.randrange(-20_000, 20_000)
        return Track(
            id=base62_id(self.rng),
            name=name,
            artists=credited,
            album=album,
            duration_ms=max(60_000, duration),
            popularity=popularity,
            explicit=explicit,
            track_number=1,
            isrc=f"QV{self.rng.randrange(10**10):010d}",
            haystack=" ".join([name, *(a.name for a in credited), album.name]).lower(),
            markets=markets,
        )

    def less_popular(self, original: Track) -> int:
        return self.rng.randrange(0, original.popularity) if original.popularity else 0


def build_versions(
    seed: int, tracks: Sequence[Track], artists: dict[str, Artist]
) -> tuple[list[Version], dict[str, Album], dict[str, Artist]]:
    """The other versions of some of ``tracks`` (and their new albums and artists)."""
    maker = _Maker(random.Random(f"{seed}:versions"), artists)
    rng = maker.rng
    popular = [t for t in tracks if t.popularity >= 40]
    count = max(6, min(60, len(tracks) // 50))
    picked = rng.sample(popular, min(count, len(popular)))
    explicit = [t for t in popular if t.explicit and t not in picked]
    picked += rng.sample(explicit, min(len(explicit), max(2, count // 10)))
    versions: list[Version] = []
    for original in picked:
        kinds = rng.sample(_KINDS, rng.randrange(1, 4))
        versions.extend(_made(maker, original, kind) for kind in kinds)
        if original.explicit:
            versions.append(_clean(maker, original))
    for original in rng.sample(popular, min(len(popular), max(3, count // 10))):
        if original.popularity <= 90:
            versions.append(_regional(maker, original))
    names = [f"{first} {second}" for first in _LOCKED_FIRST for second in _LOCKED_SECOND]
    for number, name in enumerate(rng.sample(names, 3)):
        locked = _region_locked(maker, tracks, name)
        versions.append(locked)
        if number == 0:
            # Only its karaoke version plays in the US: a request must not end up there.
            versions.append(_made(maker, locked.track, _KINDS[0]))
    return versions, maker.albums, maker.new_artists


def _made(maker: _Maker, original: Track, kind: _Kind) -> Version:
    first = original.artists[0]
    name = kind.title(original.name, first.name, maker.rng)
    artist = maker.artist(kind.artist(maker.rng)) if kind.artist else first
    credited = (artist,) if kind.artist else original.artists
    album = maker.album(name, artist, original.album)
    track = maker.track(
        name,
        credited,
        album,
        like=original,
        popularity=maker.less_popular(original),
        explicit=original.explicit and kind.name not in ("instrumental", "karaoke"),
    )
    return Version(track, kind.name, original.id)


def _clean(maker: _Maker, original: Track) -> Version:
    """The same song without the explicit lyrics, on the original album's clean edition."""
    album = maker.album(original.album.name, original.album.artist, original.album)
    track = maker.track(
        original.name,
        original.artists,
        album,
        like=original,
        popularity=maker.less_popular(original),
        explicit=False,
    )
    return Version(track, "clean", original.id)


def _regional(maker: _Maker, original: Track) -> Version:
    """The same song on a deluxe edition, more popular, that the US cannot play."""
    name = f"{original.album.name} (Deluxe Edition)"
    album = maker.album(name, original.album.artist, original.album)
    track = maker.track(
        original.name,
        original.artists,
        album,
        like=original,
        popularity=min(100, original.popularity + maker.rng.randrange(1, 10)),
        explicit=original.explicit,
        markets=maker.rng.choice((ELSEWHERE, FAR_AWAY)),
    )
    return Version(track, "regional", original.id)


def _region_locked(maker: _Maker, tracks: Sequence[Track], name: str) -> Version:
    """A song of its own that the US cannot play, by one of the catalog's artists."""
    rng = maker.rng
    like = rng.choice(tracks)
    artist = like.artists[0]
    album = maker.album(name, artist, like.album)
    track = maker.track(
        name,
        (artist,),
        album,
        like=like,
        popularity=rng.randrange(30, 80),
        explicit=False,
        markets=rng.choice((ELSEWHERE, FAR_AWAY)),
    )
    return Version(track, "region_locked", None)
