"""What each chat command says: one sentence a viewer understands, from the request
service (``requests.service``, the one place every door calls) and what plays now.

Each command takes a :class:`ChatCall` (who asks, what they typed, the service's context)
and returns the line to print; ``chat.door`` checks the token, finds the viewer, checks
moderator commands' role and turns any failure into a sentence. Lines are cut to 400
characters by the door (``requests.answers.chat_line``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from tunedeck.chat.lookups import Finished, Pending
from tunedeck.chat.pieces import ChatDoor, SubmitOutcome
from tunedeck.history import service as history
from tunedeck.history.schemas import PlayOut
from tunedeck.player.now_playing import NowPlayingStore, Reading
from tunedeck.queue_page import service as queue_pages
from tunedeck.requests import service
from tunedeck.requests.answers import addressed, chat_line, track_label
from tunedeck.requests.context import RequestsContext
from tunedeck.requests.parsing import parse_request
from tunedeck.requests.reasons import Refusal
from tunedeck.requests.schemas import (
    MAX_CLOSED_MESSAGE,
    HistoryIn,
    RequestOut,
    Source,
    State,
)
from tunedeck.requests.text import bounded, format_duration, plural
from tunedeck.requests.viewers import Viewer

QUEUE_SHOWN = 5
"""How many waiting requests ``!queue`` names."""
NO_REQUEST_WAITING = "you have no request waiting — !sr artist - title"
LOOKING_UP = "got it, looking it up — type !pos in a moment"


@dataclass(frozen=True, slots=True)
class ChatCall:
    """One chat command: who asks (None when the bot named nobody), the text after the
    command, the service's context, the door's pieces and the now-playing store."""

    viewer: Viewer | None
    text: str
    ctx: RequestsContext
    door: ChatDoor
    now_playing: NowPlayingStore
    # Where TuneDeck is reached (the links a command names: the public queue page).
    public_url: str

    @property
    def account_id(self) -> uuid.UUID:
        return self.ctx.account_id

    def lookup_key(self, viewer: Viewer) -> Hashable:
        """The viewer, for the lookups of this account."""
        return (self.account_id, viewer.platform, viewer.id or viewer.login or viewer.display_name)


Command = Callable[[ChatCall, Viewer], Awaitable[str]]
"""A command that answers a viewer."""
Announcement = Callable[[ChatCall], Awaitable[str]]
"""A command that answers anyone (no viewer needed)."""


def label_of(request: RequestOut) -> str:
    return track_label(request.track.name, request.track.artists)


def _eta(request: RequestOut) -> str:
    if request.eta_ms is None:
        return ""
    return f", playing in about {format_duration(request.eta_ms, round_up=True)}"


def _standing(request: RequestOut) -> str:
    """Where a request stands, as a clause."""
    label = label_of(request)
    if request.state is State.PLAYING:
        return f"{label} is playing now"
    if request.state is State.SENT:
        return f"{label} is up next"
    if request.state is State.PENDING:
        return f"{label} is waiting for a moderator's approval"
    place = f" is #{request.position}" if request.position is not None else " is in the queue"
    return f"{label}{place}{_eta(request)}"


def _taken(request: RequestOut) -> str:
    if request.state is State.PENDING:
        return f"{label_of(request)} is waiting for a moderator's approval"
    place = f" at #{request.position}" if request.position is not None else ""
    return f"added {label_of(request)}{place}{_eta(request)}"


def _outcome(outcome: SubmitOutcome | None) -> str:
    if outcome is None:
        return "looking that song up failed — try !sr again"
    if isinstance(outcome, Refusal):
        return outcome.sentence
    return _taken(outcome.request)


# ---- viewers' commands ---------------------------------------------------------------


async def request_song(call: ChatCall, viewer: Viewer) -> str:
    """``!sr <query>``: the request taken (or pending approval), or why not. A lookup
    slower than the budget goes on in the background (the outcome on ``!pos``)."""
    key = call.lookup_key(viewer)
    if (under_way := call.door.lookups.running(key)) is not None:
        return addressed(
            viewer.display_name,
            f"still looking up “{bounded(under_way.query, 60)}” — type !pos in a moment",
        )
    parsed = parse_request(call.text)  # refused for free: no lookup, nothing stored
    if isinstance(parsed, Refusal):
        return addressed(viewer.display_name, parsed.sentence)
    gates = call.door.gates
    # Behind a full gate's worth of others (a raid), it cannot end within the budget:
    # say so at once rather than after keeping the bot waiting.
    budget = 0.0 if gates.backed_up(call.account_id) else None
    submission = service.submit(call.ctx, viewer, call.text, Source.CHAT)
    work = gates.through(call.account_id, submission)
    outcome = await call.door.lookups.within_budget(key, call.text, work, budget=budget)
    if isinstance(outcome, Pending):
        return addressed(viewer.display_name, LOOKING_UP)
    return addressed(viewer.display_name, _outcome(outcome))


async def position(call: ChatCall, viewer: Viewer) -> str:
    """``!pos`` / ``!when``: the outcome of a lookup that ended since, or where the
    viewer's next request stands and when it plays."""
    status = call.door.lookups.status(call.lookup_key(viewer))
    if isinstance(status, Pending):
        query = bounded(status.query, 60)
        return addressed(viewer.display_name, f"still looking up “{query}” — ask again soon")
    if isinstance(status, Finished) and not isinstance(status.outcome, service.Submitted):
        return addressed(viewer.display_name, _outcome(status.outcome))
    place = await service.place_of(call.ctx, viewer)
    if place.request is None:
        return addressed(viewer.display_name, NO_REQUEST_WAITING)
    more = place.waiting - 1
    tail = f" (and {plural(more, 'more')} waiting)" if more > 0 else ""
    return addressed(viewer.display_name, _standing(place.request) + tail)


async def withdraw(call: ChatCall, viewer: Viewer) -> str:
    """``!wrongsong``: the viewer's latest waiting request taken back."""
    withdrawn = await service.withdraw_last(call.ctx, viewer)
    if withdrawn is None:
        return addressed(viewer.display_name, NO_REQUEST_WAITING)
    return addressed(viewer.display_name, f"took back {label_of(withdrawn)}")


# ---- anyone's ------------------------------------------------------------------------


async def _reading(call: ChatCall) -> Reading:
    """What plays: the store's fresh reading (no Spotify call), else one read shared with
    every other caller of the account meanwhile."""
    fresh = call.now_playing.fresh(call.account_id)
    if fresh is not None:
        return fresh
    client = await call.ctx.clients.client_for(call.account_id)
    return await call.now_playing.read(call.account_id, client.playback)


async def now_playing(call: ChatCall) -> str:
    """``!song``: the item playing and, when it was requested, who asked."""
    reading = await _reading(call)
    playback = reading.playback
    if playback is None or playback.item is None:
        return chat_line("Nothing is playing right now.")
    item = playback.item
    label = track_label(item.name, item.artist_names)
    queue = await service.queue(call.ctx)
    asked = next(
        (r for r in queue.items if r.state is State.PLAYING and r.track.uri == item.uri), None
    )
    by = f" — requested by {bounded(asked.viewer.display_name, 40)}" if asked else ""
    paused = "" if playback.is_playing else " (paused)"
    return chat_line(f"Now playing: {label}{by}{paused}")


LAST_SONGS_MAX = 5
"""The most songs ``!lastsong <n>`` names."""


def _how_many(text: str) -> int:
    """``!lastsong 3``: how many songs back (1 when not a number, at most LAST_SONGS_MAX)."""
    word = text.strip().split(" ", 1)[0]
    return max(1, min(int(word), LAST_SONGS_MAX)) if word.isdecimal() and len(word) < 4 else 1


def _play_label(play: PlayOut) -> str:
    label = track_label(play.name, play.artists)
    by = f" (requested by {bounded(play.requested_by, 40)})" if play.requested_by else ""
    return label + by


async def last_song(call: ChatCall) -> str:
    """``!lastsong [n]``: the song (or the n songs) before this one, from the play
    history; without one, as this process saw them go by, else the last request played."""
    count = _how_many(call.text)
    plays = await history.last_plays(call.ctx.units, call.account_id, count + 1)
    ended = [play for play in plays if play.ended_at is not None][:count]
    if ended:
        if len(ended) == 1:
            return chat_line(f"Last song: {_play_label(ended[0])}")
        return chat_line(
            f"Last {len(ended)} songs: " + " · ".join(_play_label(play) for play in ended)
        )
    seen = call.door.recent.previous(call.account_id)
    if seen is not None:
        return chat_line(f"Last song: {track_label(seen.name, seen.artists)}")
    page = await service.history(call.ctx, HistoryIn(state=[State.PLAYED, State.SKIPPED], limit=1))
    if not page.items:
        return chat_line("I haven't seen a song before this one yet.")
    last = page.items[0]
    by = bounded(last.viewer.display_name, 40)
    return chat_line(f"Last song: {label_of(last)} — requested by {by}")


async def upcoming(call: ChatCall) -> str:
    """``!queue``: what plays now (if a request) and the next requests, with who asked."""
    queue = await service.queue(call.ctx)
    parts: list[str] = []
    for request in queue.items:
        who = bounded(request.viewer.display_name, 40)
        if request.state in (State.PLAYING, State.SENT):
            word = "Now" if request.state is State.PLAYING else "Next"
            parts.append(f"{word}: {label_of(request)} ({who})")
        elif request.position is not None and request.position <= QUEUE_SHOWN:
            parts.append(f"{request.position}. {label_of(request)} ({who})")
    waiting = sum(1 for r in queue.items if r.position is not None)
    if waiting > QUEUE_SHOWN:
        parts.append(f"+{waiting - QUEUE_SHOWN} more")
    if not parts:
        parts.append("The request queue is empty.")
    if not queue.open:
        closed = bounded(queue.closed_message, 100)
        parts.append(f"Requests are closed{': ' + closed if closed else '.'}")
    return chat_line(" · ".join(parts))


async def song_list(call: ChatCall) -> str:
    """``!songlist``: the link of the channel's public queue page, when the streamer
    turned it on (what plays, what is coming, and who asked)."""
    page = await queue_pages.get_page(call.ctx, call.public_url)
    if not page.enabled or page.url is None:
        return chat_line("This channel's song list isn't public.")
    return chat_line(f"Songs playing and coming up: {page.url}")


# ---- moderators' ---------------------------------------------------------------------


async def skip(call: ChatCall, viewer: Viewer) -> str:
    """``!skip``: the playing request skipped."""
    skipped = await service.skip(call.ctx)
    if skipped is None:
        return addressed(viewer.display_name, "no request is playing — !skip skips requests")
    return addressed(viewer.display_name, f"skipped {label_of(skipped)}")


async def open_requests(call: ChatCall, viewer: Viewer) -> str:
    """``!sropen``."""
    await service.open_requests(call.ctx)
    return chat_line("Song requests are open — !sr artist - title")


async def close_requests(call: ChatCall, viewer: Viewer) -> str:
    """``!srclose [message]``: closed, with the message viewers will read."""
    message = bounded(call.text, MAX_CLOSED_MESSAGE) or None
    await service.close_requests(call.ctx, message)
    return chat_line("Song requests are closed" + (f": {message}" if message else "."))


VIEWER_COMMANDS: dict[str, Command] = {
    "sr": request_song,
    "pos": position,
    "when": position,
    "wrongsong": withdraw,
}
ANYONE_COMMANDS: dict[str, Announcement] = {
    "song": now_playing,
    "lastsong": last_song,
    "queue": upcoming,
    "songlist": song_list,
}
MODERATOR_COMMANDS: dict[str, Command] = {
    "skip": skip,
    "sropen": open_requests,
    "srclose": close_requests,
}
KNOWN: frozenset[str] = frozenset(VIEWER_COMMANDS) | set(ANYONE_COMMANDS) | set(MODERATOR_COMMANDS)
"""Every command's name."""
