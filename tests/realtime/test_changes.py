"""What counts as a change (realtime/changes.py), when the next poll is due and what a
command's burst adds (realtime/schedule.py), and the per-app pauses after a 429
(realtime/ratelimit.py): pure functions of their inputs and an injected clock."""

from __future__ import annotations

import random
from typing import Any

from tunedeck.kit.background import Backoff
from tunedeck.realtime.changes import Change, Observation, changes
from tunedeck.realtime.ratelimit import AppPauses
from tunedeck.realtime.schedule import Bursts, Cadence
from tunedeck.spotify.models import Playback


def playback(**fields: Any) -> Playback:
    base: dict[str, Any] = {
        "device": {"id": "desk", "name": "Desk", "type": "Computer", "volume_percent": 50},
        "repeat_state": "off",
        "shuffle_state": False,
        "context": {"uri": "spotify:playlist:p"},
        "progress_ms": 10_000,
        "is_playing": True,
        "item": {"type": "track", "uri": "spotify:track:a", "name": "A", "duration_ms": 200_000},
        "currently_playing_type": "track",
    }
    return Playback.model_validate({**base, **fields})


def seen(at: float, **fields: Any) -> Observation:
    return Observation(playback(**fields), at)


def diff(before: Observation | None, after: Observation) -> frozenset[Change]:
    return changes(before, after, seek_tolerance_ms=2000)


def test_first_poll_always_counts() -> None:
    assert diff(None, seen(0)) == {Change.FIRST}
    assert diff(None, Observation(None, 0)) == {Change.FIRST}


def test_progress_moving_as_predicted_is_no_change() -> None:
    assert diff(seen(0), seen(3, progress_ms=13_000)) == set()
    assert diff(seen(0), seen(3, progress_ms=14_900)) == set()  # within the tolerance
    paused = seen(0, is_playing=False)
    assert diff(paused, seen(30, is_playing=False)) == set()


def test_seeks_are_positions_off_the_prediction() -> None:
    assert diff(seen(0), seen(3, progress_ms=60_000)) == {Change.SEEK}
    assert diff(seen(0), seen(3, progress_ms=1_000)) == {Change.SEEK}
    assert diff(seen(0, is_playing=False), seen(3, is_playing=False, progress_ms=0)) == {
        Change.SEEK
    }


def test_each_field_is_a_change() -> None:
    other_item = {"type": "track", "uri": "spotify:track:b", "name": "B", "duration_ms": 1000}
    episode = {"type": "episode", "uri": "spotify:episode:e", "name": "E", "duration_ms": 1000}
    device = {"id": "phone", "name": "Phone", "type": "Smartphone", "volume_percent": 50}
    private = {**playback().model_dump()["device"], "is_private_session": True}
    cases: dict[Change, dict[str, Any]] = {
        Change.ITEM: {"item": other_item, "progress_ms": 0},
        Change.PLAYING: {"is_playing": False, "progress_ms": 10_000},
        Change.DEVICE: {"device": device, "progress_ms": 10_000},
        Change.VOLUME: {"device": {**device, "id": "desk", "name": "Desk", "volume_percent": 9}},
        Change.SHUFFLE: {"shuffle_state": True},
        Change.REPEAT: {"repeat_state": "track"},
        Change.CONTEXT: {"context": {"uri": "spotify:album:x"}},
    }
    for change, fields in cases.items():
        assert change in diff(seen(0), seen(0, **fields)), change
    assert Change.ITEM in diff(seen(0), seen(0, item=episode, currently_playing_type="episode"))
    assert Change.DEVICE in diff(seen(0), seen(0, device=private))
    # An ad: no item, another kind of playing.
    assert Change.ITEM in diff(seen(0), seen(0, item=None, currently_playing_type="ad"))
    # Nothing active any more (204).
    assert Change.ITEM in diff(seen(0), Observation(None, 1))


def test_cadence_by_state() -> None:
    cadence = Cadence(playing=3, paused=15, idle=30, end_margin=0.4)
    assert cadence.next_poll(seen(100)) == 103
    assert cadence.next_poll(seen(100, is_playing=False)) == 115
    assert cadence.next_poll(seen(100, is_playing=False, device=None)) == 130
    assert cadence.next_poll(Observation(None, 100)) == 130
    # The first regular period is a random part of one: accounts taken together spread.
    assert cadence.next_poll(seen(100), phase=0.5) == 101.5


def test_the_end_of_the_track_comes_first_when_sooner() -> None:
    cadence = Cadence(playing=3, end_margin=0.4)
    ending = seen(100, progress_ms=199_000)  # one second left
    assert cadence.next_poll(ending) == 101.4
    assert cadence.next_poll(ending, end_polls_left=False) == 103
    # Already past its end (Spotify late to move on), an ad (no duration), paused: regular.
    assert cadence.next_poll(seen(100, progress_ms=200_500)) == 103
    assert cadence.next_poll(seen(100, item=None, currently_playing_type="ad")) == 103
    assert cadence.track_end(seen(100, is_playing=False, progress_ms=199_000)) is None


def test_a_command_adds_a_burst_served_by_any_poll() -> None:
    bursts = Bursts((0.3, 1.5))
    assert bursts.next() is None
    bursts.command_seen(10)
    assert bursts.next() == 10.3
    bursts.polled(10.4)  # the first burst poll (or any poll after it) served it
    assert bursts.next() == 11.5
    bursts.command_seen(11)  # another command: its own burst
    assert len(bursts) == 3
    bursts.polled(20)
    assert bursts.next() is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_429_pauses_its_app_with_a_backoff_floor() -> None:
    clock = Clock()
    pauses = AppPauses(backoff=Backoff(initial=1, maximum=60, jitter=0), clock=clock)
    assert pauses.until("app") is None
    assert pauses.pause("app", 5) == 1005
    assert pauses.until("app") == 1005
    assert pauses.until("other app") is None
    clock.now = 1005
    assert pauses.until("app") is None
    # Retry-After 0 (or missing) again and again: the pauses still grow.
    assert pauses.pause("app", 0) == 1007  # second strike: 2 s
    clock.now = 1007
    assert pauses.pause("app", 0) == 1011  # third: 4 s
    clock.now = 1011
    pauses.succeeded("app")  # a poll went through: the next 429 starts over
    assert pauses.pause("app", 0) == 1012
    # A success of a poll sent before the pause does not end it.
    pauses.succeeded("app")
    assert pauses.until("app") == 1012
    assert pauses.limited == 4


def test_jittered_backoff_never_goes_below_retry_after() -> None:
    clock = Clock()
    pauses = AppPauses(clock=clock)
    random.seed(1)
    for _ in range(20):
        until = pauses.pause("app", 7)
        assert until >= clock.now + 7
        clock.now = until
