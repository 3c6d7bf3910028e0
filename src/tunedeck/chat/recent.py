"""The song before the one playing, per account, as this process saw them go by (``!lastsong``).

An observer of the now-playing store (``player.now_playing``): each reading that names an
item other than the last one seen moves that one to "previous". No Spotify call, no
table: a play history is a domain of its own; until it answers, this is what the poller
showed this process, and the door falls back on the last request played.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass

from tunedeck.player.now_playing import Reading


@dataclass(frozen=True, slots=True)
class SeenItem:
    """An item as chat names it."""

    uri: str
    name: str
    artists: tuple[str, ...]


class RecentTracks:
    """The last two distinct items seen per account (at most ``capacity`` accounts)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[uuid.UUID, tuple[SeenItem, SeenItem | None]] = OrderedDict()

    def observe(self, account_id: uuid.UUID, reading: Reading | None) -> None:
        """A now-playing observer: keep what changed."""
        if reading is None or reading.playback is None or reading.playback.item is None:
            return
        item = reading.playback.item
        seen = SeenItem(item.uri or "", item.name, tuple(item.artist_names))
        current = self._seen.get(account_id)
        if current is not None and current[0].uri == seen.uri:
            return
        self._seen[account_id] = (seen, current[0] if current else None)
        self._seen.move_to_end(account_id)
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)

    def previous(self, account_id: uuid.UUID) -> SeenItem | None:
        """The item seen before the current one, if this process saw one."""
        entry = self._seen.get(account_id)
        return entry[1] if entry else None
