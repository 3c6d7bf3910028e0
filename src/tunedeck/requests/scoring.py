"""The best of several search results for what a viewer typed: pure, over Spotify tracks.

Each result gets a relevance from 0 to 1 from the words it shares with the query
(``text.fold``-ed: case, accents, punctuation; near-misses of four letters or more count
for their likeness): ``coverage``, how much of the query the title and artists explain
(filler such as "please" or "by" is forgiven when nothing matches it), and
``title_recall``, how much of the song's own title (without decorations such as
"(Live)" or "- Remix") the query names. A result is a match when both its coverage and
its relevance reach :data:`THRESHOLD`.

Other versions (karaoke, cover, live, remix, sped up, slowed, nightcore, instrumental,
acoustic, 8D, "made famous by"...) are told by the decorations of their titles, their
artists' names (Karaoke Hits Band) and their albums' (Nightcore Hits). A version the
query does not ask for ("live" in the query, and not in the song's own title, asks for
live versions) is taken only when no other result matches: "Blinding Lights" never
plays a karaoke track, even when the original cannot play in the streamer's market.
Among the rest: the most relevant, then the most popular, then Spotify's order; the
first the streamer's market can play is chosen, or ``not_available`` if none can. When
the best cannot play, only another release of the same song (or a match just as
relevant) stands in for it: "Neon Harbor" never becomes "Neon Harbor Nights".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from tunedeck.requests.reasons import Reason, Refusal, refuse
from tunedeck.requests.text import fold
from tunedeck.spotify.models import Track

THRESHOLD = 0.6
"""The least coverage and relevance of a match."""

#: Query words that need not match anything (chat filler and joining words).
FILLER = frozenset(
    {
        *("please", "pls", "plz", "play", "song", "track", "by", "from", "sr"),
        *("feat", "ft", "featuring", "the", "a", "an", "and", "of"),
    }
)
#: Query words beyond these are not looked at (no song title is longer).
MAX_QUERY_WORDS = 24
_FUZZY_MIN = 0.8

#: Each kind of other version, as its words appear in a title's decorations, an artist's
#: name or an album's name (folded).
VERSION_PATTERNS: dict[str, re.Pattern[str]] = {
    kind: re.compile(rf"\b(?:{pattern})\b")
    for kind, pattern in {
        "karaoke": r"karaoke|made famous by|in the style of|originally performed by"
        r"|sing ?along|backing track",
        "cover": r"covers?|covered by|tribute",
        "live": r"live",
        "remix": r"remix(?:es|ed)?|rmx|(?<!radio )mix|bootleg|mashup",
        "sped_up": r"sped ?up|speed ?up",
        "slowed": r"slowed|reverb",
        "nightcore": r"nightcore",
        "instrumental": r"instrumental",
        "acoustic": r"acoustic|unplugged|stripped",
        "8d": r"8d",
    }.items()
}
#: Kinds an artist's or album's name alone gives away (a band called "Live" is a band).
_NAME_KINDS = ("karaoke", "cover", "nightcore", "8d")
_DECORATION = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
_DASH = re.compile("\\s[-\u2013\u2014]\\s")  # a hyphen, en or em dash between spaces


@dataclass(frozen=True, slots=True)
class Scored:
    """A search result with what the choice looks at."""

    track: Track
    relevance: float
    coverage: float
    #: Kinds of version it is that the query did not ask for.
    unasked: frozenset[str]
    #: Its title without decorations, and first artist, folded: "the same song".
    song: tuple[str, str]

    @property
    def is_match(self) -> bool:
        return self.coverage >= THRESHOLD and self.relevance >= THRESHOLD


def split_title(title: str) -> tuple[str, list[str]]:
    """A title's own name and its decorations: "Song (Live) - 2011 Remaster" is "Song",
    ["Live", "2011 Remaster"]."""
    decorations = [a or b for a, b in _DECORATION.findall(title)]
    core = _DECORATION.sub(" ", title)
    pieces = _DASH.split(core, maxsplit=1)
    if len(pieces) == 2 and pieces[0].strip():
        core = pieces[0]
        decorations.append(pieces[1])
    return core.strip() or title, decorations


def version_kinds(track: Track) -> frozenset[str]:
    """The kinds of other version ``track`` is (empty for an original)."""
    _, decorations = split_title(track.name)
    decorated = " ".join(fold(part) for part in decorations)
    names = " ".join(fold(name) for name in [*track.artist_names, track.album_name or ""])
    kinds = {kind for kind, pattern in VERSION_PATTERNS.items() if pattern.search(decorated)}
    kinds.update(kind for kind in _NAME_KINDS if VERSION_PATTERNS[kind].search(names))
    return frozenset(kinds)


def _likeness(word: str, words: set[str]) -> float:
    """How well ``word`` is matched by one of ``words``: 1 exactly, less for a near-miss."""
    if word in words:
        return 1.0
    if len(word) < 4:
        return 0.0
    best = 0.0
    for other in words:
        if len(other) >= 4 and abs(len(other) - len(word)) <= 2:
            ratio = SequenceMatcher(None, word, other).ratio()
            best = max(best, ratio)
    return best if best >= _FUZZY_MIN else 0.0


def asked_kinds(query_words: Sequence[str], core_words: Sequence[str]) -> dict[str, set[str]]:
    """The kinds of version a query asks for, with the words asking: those the song's own
    title does not explain ("live" asks for a live version of "Song", not of "Live Wire")."""
    own = Counter(core_words)  # each word of the title explains one word of the query
    left: list[str] = []
    for word in query_words:
        if own[word]:
            own[word] -= 1
        else:
            left.append(word)
    leftover = " ".join(left)
    asked: dict[str, set[str]] = {}
    for kind, pattern in VERSION_PATTERNS.items():
        for found in pattern.finditer(leftover):
            asked.setdefault(kind, set()).update(found.group(0).split())
    return asked


def score(query_words: Sequence[str], track: Track) -> Scored:
    """How well ``track`` answers a query of ``query_words`` (folded words)."""
    core, _ = split_title(track.name)
    core_words = fold(core).split()
    artist_words = {w for name in track.artist_names for w in fold(name).split()}
    known = set(fold(track.name).split()) | artist_words
    kinds = version_kinds(track)
    asked = asked_kinds(query_words, core_words)
    # Words asking for a kind this track is are explained by it ("karaoke" by a track
    # of Sing Along Stars' whose title does not say so).
    known.update(word for kind in kinds & asked.keys() for word in asked[kind])
    explained = 0.0
    counted = 0
    for word in query_words:
        likeness = _likeness(word, known)
        if likeness or word not in FILLER:
            counted += 1
            explained += likeness
    coverage = explained / counted if counted else 0.0
    words = set(query_words)
    recall = sum(_likeness(w, words) for w in core_words) / len(core_words) if core_words else 0
    first = fold(track.artist_names[0]) if track.artist_names else ""
    return Scored(
        track=track,
        relevance=0.65 * coverage + 0.35 * recall,
        coverage=coverage,
        unasked=frozenset(kinds - asked.keys()),
        song=(" ".join(core_words), first),
    )


def playable(track: Track, country: str | None = None) -> bool:
    """Whether the streamer's market can play ``track``: as Spotify said (``is_playable``,
    asked in a market), else by ``available_markets`` when ``country`` is known."""
    if track.is_local:
        return False
    if track.is_playable is not None:
        return track.is_playable
    if country is not None and track.available_markets is not None:
        return country in track.available_markets
    return True


def rank(query: str, tracks: Sequence[Track]) -> list[Scored]:
    """The matches among ``tracks`` for ``query`` (folded), best first."""
    words = query.split()[:MAX_QUERY_WORDS]
    scored = [score(words, track) for track in tracks if not track.is_local]
    matches = [found for found in scored if found.is_match]
    originals = [found for found in matches if not found.unasked]
    pool = originals or matches
    # sorted() is stable: Spotify's order decides what is otherwise equal.
    return sorted(
        pool, key=lambda found: (-round(found.relevance, 2), -(found.track.popularity or 0))
    )


def choose(
    query: str,
    tracks: Sequence[Track],
    *,
    allow_explicit: bool = True,
    country: str | None = None,
) -> Track | Refusal:
    """The track to play for ``query`` (folded) among search results ``tracks``.

    Without ``allow_explicit``, a clean version of the chosen song is taken when one is
    among the results (the rules refuse an explicit song later otherwise)."""
    ranked = rank(query, tracks)
    if not ranked:
        return refuse(Reason.NOT_FOUND)
    best = ranked[0]
    for found in ranked:
        if not _stands_in_for(found, best):
            break  # a less relevant song is another song: better refused than played
        if playable(found.track, country):
            if found.track.explicit and not allow_explicit:
                return _clean_version(found, ranked, country) or found.track
            return found.track
    return refuse(Reason.NOT_AVAILABLE)


def _stands_in_for(found: Scored, best: Scored) -> bool:
    """Whether ``found`` may play when ``best`` cannot: the same song (another release of
    it), or another match just as relevant."""
    return found.song == best.song or round(found.relevance, 2) >= round(best.relevance, 2)


def _clean_version(chosen: Scored, ranked: list[Scored], country: str | None) -> Track | None:
    for found in ranked:
        same = found.song == chosen.song
        if same and not found.track.explicit and playable(found.track, country):
            return found.track
    return None
