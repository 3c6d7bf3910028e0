"""The song before this one, as the now-playing store's observer saw them go by."""

from __future__ import annotations

import uuid

from tunedeck.chat.recent import RecentTracks, SeenItem
from tunedeck.player.now_playing import Reading
from tunedeck.spotify.models import Playback


def reading(uri: str | None, name: str = "Song") -> Reading:
    if uri is None:
        return Reading(None, 0.0)
    item = {
        "type": "track",
        "name": name,
        "uri": uri,
        "duration_ms": 1000,
        "artists": [{"name": "Artist"}],
    }
    return Reading(Playback.model_validate({"item": item, "is_playing": True}), 0.0)


def test_previous_is_the_last_other_item() -> None:
    recent = RecentTracks()
    account = uuid.uuid4()
    assert recent.previous(account) is None
    recent.observe(account, reading("spotify:track:a", "A"))
    recent.observe(account, reading("spotify:track:a", "A"))  # the same song, polled again
    assert recent.previous(account) is None
    recent.observe(account, None)  # an invalidation says nothing
    recent.observe(account, reading(None))  # nothing active: neither
    recent.observe(account, reading("spotify:track:b", "B"))
    assert recent.previous(account) == SeenItem("spotify:track:a", "A", ("Artist",))
    recent.observe(account, reading("spotify:track:c", "C"))
    assert recent.previous(account) == SeenItem("spotify:track:b", "B", ("Artist",))
    assert recent.previous(uuid.uuid4()) is None


def test_accounts_are_bounded() -> None:
    recent = RecentTracks(capacity=2)
    accounts = [uuid.uuid4() for _ in range(3)]
    for account in accounts:
        recent.observe(account, reading("spotify:track:a"))
        recent.observe(account, reading("spotify:track:b"))
    assert recent.previous(accounts[0]) is None
    assert recent.previous(accounts[2]) is not None
