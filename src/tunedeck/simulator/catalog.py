"""A catalog generated from a seed: same seed and size, same artists, albums and tracks,
and the same few podcast shows with their episodes."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from urllib.parse import quote_plus, unquote_plus

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
    shows, episodes = build_shows(seed)
    return Catalog(
        seed=seed,
        tracks=tracks,
        albums=albums,
        artists={a.id: a for a in artists},
        by_id={t.id: t for t in tracks},
        album_tracks=album_tracks,
        artist_tracks=artist_tracks,
        shows=shows,
        episodes=episodes,
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
