"""From what a viewer typed to one Spotify track: parse it (``parsing``), look it up or
search for it through the account's Spotify client, and choose (``scoring``).

The :class:`Matcher` is long-lived (one per application, kept on the app object): it
remembers each account's answers for a while (a bounded cache with a time to live, keyed
on the account and the folded text, so "Neon Harbor!" and "neon harbor" are one entry)
and makes concurrent identical requests share one Spotify call (single flight). Spotify
is always asked in the streamer's market (``market=from_token``): what cannot play there
is refused (``not_available``), or passed over for the next best result of a search.

A failure of Spotify's own (rate limited, unreachable) is a ``spotify_unavailable``
refusal, not remembered; any other Spotify error (the account's authorization revoked...)
is raised for the caller, which knows the account.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tunedeck.requests.cache import SingleFlight, TtlCache
from tunedeck.requests.parsing import ParsedRequest, SearchText, TrackLink, parse_request
from tunedeck.requests.reasons import Reason, Refusal, refuse
from tunedeck.requests.scoring import choose, playable
from tunedeck.spotify.client import DEV_MODE_SEARCH_LIMIT, SpotifyClient
from tunedeck.spotify.errors import SpotifyError, SpotifyRateLimitError, SpotifyUnavailableError
from tunedeck.spotify.models import Track

MARKET = "from_token"
"""Spotify is asked about the market of the user whose token it is: the streamer's."""

#: Words left out of what is sent to Spotify's search (the choice forgives them too).
_NOT_SEARCHED = frozenset(("please", "pls", "plz", "sr", "by", "feat", "ft", "featuring"))
#: Refusals that hold for as long as Spotify's answer does, and are remembered with it.
_DURABLE = frozenset({Reason.NOT_FOUND, Reason.NOT_AVAILABLE, Reason.NOT_A_TRACK})

Result = Track | Refusal


def search_words(folded: str) -> str:
    """What is sent to Spotify's search for a folded text: its words but chat filler and
    joining words ("by", "feat"), or all of them when nothing else is left."""
    kept = [word for word in folded.split() if word not in _NOT_SEARCHED]
    return " ".join(kept) if kept else folded


@dataclass(frozen=True, slots=True)
class _Key:
    account: str
    #: ``track:{id}`` or ``search:{words}``.
    asked: str
    allow_explicit: bool
    country: str | None


class Matcher:
    """Resolves song requests to tracks for every account, remembering answers for ``ttl``
    seconds (at most ``capacity`` of them) and searching ``search_limit`` results deep
    (10 at most: development-mode apps may ask no more in one call)."""

    def __init__(
        self,
        *,
        ttl: float = 600.0,
        capacity: int = 4096,
        search_limit: int = DEV_MODE_SEARCH_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 1 <= search_limit <= DEV_MODE_SEARCH_LIMIT:
            raise ValueError(f"search_limit must be between 1 and {DEV_MODE_SEARCH_LIMIT}")
        self.search_limit = search_limit
        self._cache: TtlCache[_Key, Result] = TtlCache(capacity=capacity, ttl=ttl, clock=clock)
        self._flights: SingleFlight[_Key, Result] = SingleFlight()

    @property
    def in_flight(self) -> int:
        """Spotify lookups under way now."""
        return len(self._flights)

    async def match(
        self,
        client: SpotifyClient,
        account: str,
        text: str,
        *,
        allow_explicit: bool = True,
        country: str | None = None,
    ) -> Result:
        """The track ``text`` asks for on ``account``, or why there is none."""
        parsed = parse_request(text)
        if isinstance(parsed, Refusal):
            return parsed
        return await self.resolve(
            client, account, parsed, allow_explicit=allow_explicit, country=country
        )

    async def resolve(
        self,
        client: SpotifyClient,
        account: str,
        request: ParsedRequest,
        *,
        allow_explicit: bool = True,
        country: str | None = None,
    ) -> Result:
        """The track a parsed request names or finds, through ``client`` (the account's).

        ``allow_explicit`` off prefers a clean version of the song found by a search;
        ``country`` (the streamer's, if known) is used when Spotify answers
        ``available_markets`` rather than ``is_playable``."""
        if isinstance(request, TrackLink):
            asked = f"track:{request.track_id}"
        else:
            asked = f"search:{search_words(request.folded)}"
        key = _Key(account, asked, allow_explicit, country)
        remembered = self._cache.get(key)
        if remembered is not None:
            return remembered
        return await self._flights.run(key, lambda: self._look_up(client, key, request))

    async def _look_up(self, client: SpotifyClient, key: _Key, request: ParsedRequest) -> Result:
        try:
            if isinstance(request, TrackLink):
                result = await self._track(client, request.track_id, key.country)
            else:
                result = await self._search(client, request, key)
        except (SpotifyRateLimitError, SpotifyUnavailableError):
            return refuse(Reason.SPOTIFY_UNAVAILABLE)
        if isinstance(result, Track) or result.code in _DURABLE:
            self._cache.put(key, result)
        return result

    async def _track(self, client: SpotifyClient, track_id: str, country: str | None) -> Result:
        try:
            track = await client.track(track_id, market=MARKET)
        except SpotifyError as exc:
            if exc.status in (400, 404):
                return refuse(Reason.NOT_FOUND)
            raise
        if track.is_local:
            return refuse(Reason.NOT_A_TRACK)
        return track if playable(track, country) else refuse(Reason.NOT_AVAILABLE)

    async def _search(self, client: SpotifyClient, request: SearchText, key: _Key) -> Result:
        words = key.asked.removeprefix("search:")
        found = await client.search_tracks(words, limit=self.search_limit, market=MARKET)
        return choose(words, found, allow_explicit=key.allow_explicit, country=key.country)

    def forget(self, account: str | None = None) -> None:
        """Drop what is remembered (for one account: its Spotify user or market changed)."""
        if account is None:
            self._cache.clear()
        else:
            self._cache.discard(lambda key: key.account == account)
