"""The poller's in-memory path: a reading that says the open play simply plays on is
answered by ``plays_on`` exactly as ``decide`` would keep it, and every other reading is
left to ``decide`` (pure functions: readings and times are made up, no clock is read)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tunedeck.history.tracking import Current, decide, plays_on, seen_of
from tunedeck.spotify.models import Playback

TOLERANCE_MS = 2000
GAP = timedelta(seconds=60)
SEEN = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
URI = "spotify:track:0000000000000000000001"


def playback(**changes: Any) -> Playback:
    fields: dict[str, Any] = {
        "device": {"id": "d", "name": "PC", "type": "Computer", "volume_percent": 50},
        "context": {"uri": "spotify:playlist:set", "type": "playlist"},
        "progress_ms": 63_000,
        "is_playing": True,
        "currently_playing_type": "track",
        "item": {
            "type": "track",
            "uri": URI,
            "name": "Ünïcode | song",
            "duration_ms": 180_000,
            "artists": [{"name": "Band"}],
        },
    }
    fields.update(changes)
    return Playback.model_validate(fields)


def current(**changes: Any) -> Current:
    fields: dict[str, Any] = {
        "play_id": uuid.uuid4(),
        "started_at": SEEN - timedelta(seconds=60),
        "item_uri": URI,
        "item_type": "track",
        "duration_ms": 180_000,
        "context_uri": "spotify:playlist:set",
        "is_playing": True,
        "progress_ms": 60_000,
        "seen_at": SEEN,
        "listened_ms": 58_000,
        "stream_id": None,
    }
    fields.update(changes)
    return Current(**fields)


def test_a_reading_that_plays_on_is_kept_as_decide_keeps_it() -> None:
    now = SEEN + timedelta(seconds=3)
    open_play = current()
    reading = playback(progress_ms=63_400)  # 400 ms off the prediction: no seek
    kept = plays_on(open_play, reading, now, tolerance_ms=TOLERANCE_MS, gap=GAP)
    decision = decide(open_play, seen_of(reading, now), now, tolerance_ms=TOLERANCE_MS, gap=GAP)
    assert (decision.update, decision.end, decision.start) == (None, None, None)
    assert kept is not None
    assert kept == decision.keep
    assert (kept.progress_ms, kept.seen_at, kept.listened_ms) == (63_400, now, 61_000)


@pytest.mark.parametrize(
    ("what", "open_play", "reading", "after"),
    [
        ("a pause", current(), playback(is_playing=False, progress_ms=63_000), 3),
        ("a resume", current(is_playing=False), playback(progress_ms=60_000), 3),
        ("a seek", current(), playback(progress_ms=150_000), 3),
        (
            "another track",
            current(),
            playback(item={"type": "track", "uri": "x:y", "name": "B", "duration_ms": 1}),
            3,
        ),
        ("another context", current(), playback(context={"uri": "spotify:album:a"}), 3),
        ("an episode", current(item_type="episode"), playback(), 3),
        ("nothing active", current(), None, 3),
        ("a gap in the readings", current(), playback(progress_ms=130_000), 70),
    ],
)
def test_any_other_reading_is_left_to_decide(
    what: str, open_play: Current, reading: Playback | None, after: int
) -> None:
    now = SEEN + timedelta(seconds=after)
    assert plays_on(open_play, reading, now, tolerance_ms=TOLERANCE_MS, gap=GAP) is None, what
