"""What the chat door keeps for the life of a process: the lookups finishing in the
background and the songs seen go by. Built once by the runtime (``tunedeck.runtime``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from tunedeck.chat.lookups import SlowLookups
from tunedeck.chat.recent import RecentTracks
from tunedeck.player.now_playing import NowPlayingStore
from tunedeck.requests.reasons import Refusal
from tunedeck.requests.service import Submitted

SubmitOutcome = Submitted | Refusal


@dataclass(frozen=True)
class ChatDoor:
    """The chat door's long-lived pieces."""

    lookups: SlowLookups[SubmitOutcome]
    recent: RecentTracks


@asynccontextmanager
async def chat_door(budget: float, now_playing: NowPlayingStore) -> AsyncIterator[ChatDoor]:
    """The pieces for the block: following what plays, and the lookups, which are given
    their grace (then cancelled) when it ends."""
    door = ChatDoor(lookups=SlowLookups(budget=budget), recent=RecentTracks())
    stop_observing = now_playing.observe(door.recent.observe)
    try:
        yield door
    finally:
        stop_observing()
        await door.lookups.close()
