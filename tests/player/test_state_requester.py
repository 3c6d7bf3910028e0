"""The state read names the requester of the track playing when the account's live
channel named one for that track (no further read); another track, or none heard,
leaves it out."""

from __future__ import annotations

from typing import Any

from tunedeck.player.reads import with_requester
from tunedeck.player.schemas import NowPlayingOut, StateOut, TrackOut

PLAYING = TrackOut(uri="spotify:track:playing", name="Song", duration_ms=200_000)


def state() -> StateOut:
    return StateOut(now_playing=NowPlayingOut(is_playing=True, track=PLAYING))


def heard(uri: str, name: str | None) -> dict[str, Any]:
    return {"type": "now_playing", "now_playing": {"track": {"uri": uri}, "requested_by": name}}


def test_the_requester_heard_for_the_same_track_is_named() -> None:
    out = with_requester(state(), heard(PLAYING.uri, "Zoë"))
    assert out.now_playing is not None
    assert out.now_playing.requested_by == "Zoë"


def test_nothing_is_named_for_another_track_or_when_nothing_was_heard() -> None:
    for announced in (heard("spotify:track:other", "Zoë"), heard(PLAYING.uri, None), None):
        out = with_requester(state(), announced)
        assert out.now_playing is not None
        assert out.now_playing.requested_by is None
