"""The catalog generated from a seed: same seed and size, same artists, albums and tracks,
the same other versions of some of them (``catalog_versions``), and the same few podcast
shows with their episodes (the ids other code and tests rely on depend on every draw from
the seeded generator, in this order; versions and shows have generators of their own)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from tunedeck.simulator.catalog import (
    Album,
    Artist,
    Catalog,
    Episode,
    Show,
    Track,
    base62_id,
)
from tunedeck.simulator.catalog_versions import build_versions


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


#: How many tracks a generated album has (before the catalog's size cuts the last one).
_ALBUM_SIZES = (1, 1, 2, 4, 6, 8, 10, 12, 14)


@lru_cache(maxsize=8)
def build_catalog(seed: int, size: int) -> Catalog:
    """Generate ``size`` tracks from ``seed`` (cached: the catalog is never mutated)."""
    rng = random.Random(seed)
    artists = [Artist(base62_id(rng), _artist_name(rng)) for _ in range(max(10, size // 12))]
    tracks: list[Track] = []
    albums: dict[str, Album] = {}
    while len(tracks) < size:
        album = _album(rng, artists, left=size - len(tracks))
        albums[album.id] = album
        numbers = range(1, album.total_tracks + 1)
        tracks.extend(_track(rng, album, number, artists) for number in numbers)
    by_artist = {a.id: a for a in artists}
    versions, version_albums, version_artists = build_versions(seed, tracks, by_artist)
    everything = [*tracks, *(version.track for version in versions)]
    album_tracks: dict[str, list[str]] = {}
    artist_tracks: dict[str, list[str]] = {}
    for track in everything:
        album_tracks.setdefault(track.album.id, []).append(track.id)
        for credited in track.artists:
            artist_tracks.setdefault(credited.id, []).append(track.id)
    shows, episodes = build_shows(seed)
    return Catalog(
        seed=seed,
        tracks=tracks,
        albums={**albums, **version_albums},
        artists={**by_artist, **{a.id: a for a in version_artists.values()}},
        by_id={t.id: t for t in everything},
        album_tracks=album_tracks,
        artist_tracks=artist_tracks,
        shows=shows,
        episodes=episodes,
        versions=versions,
    )


def _release(rng: random.Random) -> tuple[str, str]:
    """A release date and its precision: mostly a day, sometimes only a year."""
    year = rng.randrange(1965, 2026)
    if rng.random() < 0.8:
        return f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}", "day"
    return str(year), "year"


def _album(rng: random.Random, artists: list[Artist], *, left: int) -> Album:
    """An album by one of ``artists``, of at most ``left`` tracks."""
    artist = rng.choice(artists)
    count = min(rng.choice(_ALBUM_SIZES), left)
    release_date, precision = _release(rng)
    album_type = "single" if count <= 3 else ("compilation" if rng.random() < 0.1 else "album")
    return Album(
        id=base62_id(rng),
        name=_title(rng),
        artist=artist,
        album_type=album_type,
        release_date=release_date,
        release_date_precision=precision,
        total_tracks=count,
        colors=(_color(rng), _color(rng)),
    )


def _credits(rng: random.Random, artist: Artist, artists: list[Artist]) -> tuple[Artist, ...]:
    """The album's artist, now and then with a guest."""
    if rng.random() < 0.15:
        guest = rng.choice(artists)
        if guest is not artist:
            return (artist, guest)
    return (artist,)


def _track(rng: random.Random, album: Album, number: int, artists: list[Artist]) -> Track:
    """Track ``number`` of ``album`` (a single's track is named after it)."""
    name = album.name if album.total_tracks == 1 else _title(rng)
    credited = _credits(rng, album.artist, artists)
    return Track(
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


# -- podcasts ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ShowSpec:
    name: str
    publisher: str
    language: str
    explicit: bool
    description: str
    #: Episode title with ``{n}`` (its number) and ``{topic}``.
    title: str
    topics: tuple[str, ...]
    digits: str = "0123456789"


_ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"

_SHOW_SPECS = (
    _ShowSpec(
        name="Stream Setup Weekly",
        publisher="Harbor Static Media",
        language="en",
        explicit=False,
        description="Cameras, lights, audio and overlays: one piece of a streamer's setup "
        "every week, explained plainly.",
        title="#{n}: {topic}",
        topics=(
            "Lighting on a Budget",
            "Why Your Mic Sounds Thin",
            "Overlays That Don't Clutter",
            "Music Licensing, Plainly",
            "Two PCs or One?",
            "Chat Bots That Actually Help",
            "Scenes and Transitions",
            "Fixing Dropped Frames",
            "The First Hundred Followers",
            "Camera Angles",
            "Noise Gates and Compressors",
            "Going Live on a Schedule",
        ),
    ),
    _ShowSpec(
        name="حكايات الموجة",
        publisher="استوديو المرفأ",
        language="ar",
        explicit=False,
        description="قصص قصيرة عن الموسيقى والمدن والناس، كل أسبوع.",
        title="الحلقة {n}: {topic}",
        topics=(
            "البحر في الليل",
            "مدينة لا تنام",
            "أغنية من الطفولة",
            "الرحلة الأخيرة",
            "صوت المطر",
            "رسائل قديمة",
            "بين الشرق والغرب",
            "المقهى الصغير",
            "ذاكرة المذياع",
            "الطريق إلى البيت",
        ),
        digits=_ARABIC_DIGITS,
    ),
    _ShowSpec(
        name="The Extraordinarily Long-Winded Late-Night Conversation About Absolutely "
        "Everything That Crossed Our Minds This Week, Including Music, Streaming, Coffee "
        "and the Occasional Existential Crisis",
        publisher="Two Friends and a Microphone",
        language="en",
        explicit=True,
        description="Two friends, one microphone, no plan and no editing. Mostly about music.",
        title="Episode {n}: {topic}, and Also a Few Other Things We Forgot to Mention Last Time",
        topics=(
            "Coffee",
            "The Best Album Nobody Remembers",
            "Whether Cats Can Hear Bass",
            "Time Zones",
            "Our Worst Live Show",
            "Film Soundtracks",
            "Mixtapes",
            "Night Trains",
            "Headphones Versus Speakers",
            "The Meaning of Encores",
        ),
    ),
    _ShowSpec(
        name="深夜ラジオ・ノート",
        publisher="ミッドナイト放送室",
        language="ja",
        explicit=False,
        description="眠れない夜のための、音楽と雑談のポッドキャスト。",
        title="第{n}回 {topic}",
        topics=(
            "雨の日の音楽",
            "東京の夜",
            "はじめての配信",
            "レコードの話",
            "眠れない夜に",
            "旅と音",
            "冬の朝",
            "古いラジオ",
            "好きなイントロ",
            "ライブの思い出",
        ),
    ),
)

#: The newest episode of every show is released on or a few days before this date.
_LATEST_RELEASE = date(2026, 5, 29)


def build_shows(seed: int) -> tuple[dict[str, Show], dict[str, Episode]]:
    """The podcast shows and their 5 to 10 episodes, from ``seed`` (independently of the
    tracks, so that adding shows changed no track id)."""
    rng = random.Random(f"{seed}:shows")
    shows: dict[str, Show] = {}
    episodes: dict[str, Episode] = {}
    for spec in _SHOW_SPECS:
        count = rng.randrange(5, 11)
        first_number = rng.randrange(1, 120)
        topics = rng.sample(spec.topics, count)
        episode_ids = tuple(base62_id(rng) for _ in range(count))
        show = Show(
            id=base62_id(rng),
            name=spec.name,
            publisher=spec.publisher,
            description=spec.description,
            language=spec.language,
            explicit=spec.explicit,
            colors=(_color(rng), _color(rng)),
            episode_ids=episode_ids,
        )
        shows[show.id] = show
        latest = _LATEST_RELEASE - timedelta(days=rng.randrange(0, 7))
        for age, (episode_id, topic) in enumerate(zip(episode_ids, topics, strict=True)):
            number = first_number + count - 1 - age
            digits = str(number).translate(str.maketrans("0123456789", spec.digits))
            episodes[episode_id] = Episode(
                id=episode_id,
                name=spec.title.format(n=digits, topic=topic),
                show=show,
                description=f"{topic}. {spec.description}",
                duration_ms=rng.randrange(12 * 60_000, 75 * 60_000),
                release_date=(latest - timedelta(weeks=age)).isoformat(),
                explicit=spec.explicit,
            )
    return shows, episodes
