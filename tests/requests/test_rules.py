"""The rule check: every rule, its sentence, its boundaries, and the order they are told in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tunedeck.requests.reasons import Reason, Refusal
from tunedeck.requests.rules import (
    QueueFacts,
    TrackFacts,
    ViewerFacts,
    approval_required,
    check,
    check_track,
    check_viewer,
)
from tunedeck.requests.settings import RequestSettings
from tunedeck.requests.viewers import Role

from .tracks import track

NOW = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
URI = "spotify:track:4cOdK2wGLETKBW3PvgPWqT"
OTHER = "spotify:track:0000000000000000000001"
ARTIST = "spotify:artist:0OdUWJ0sBjDrqHygGUXeCF"
SONG = TrackFacts(uri=URI, artist_uris=(ARTIST,), duration_ms=200_000, explicit=False)
EMPTY = QueueFacts()


def settings(**changes: Any) -> RequestSettings:
    return RequestSettings.model_validate(changes)


def regular(**facts: Any) -> ViewerFacts:
    return ViewerFacts(role=Role.REGULAR, **facts)


def refusal(found: Refusal | None) -> tuple[Reason, str]:
    assert found is not None
    return found.code, found.sentence


def test_a_fresh_viewer_may_request() -> None:
    assert check(RequestSettings(), regular(), EMPTY, SONG, NOW) is None


def test_closed_with_the_streamers_message_or_a_default() -> None:
    closed = settings(open=False, closed_message="back after the break")
    assert refusal(check(closed, regular(), EMPTY, SONG, NOW)) == (
        Reason.CLOSED,
        "requests are closed: back after the break",
    )
    assert refusal(check(settings(open=False), regular(), EMPTY, SONG, NOW)) == (
        Reason.CLOSED,
        "requests are closed: try again later",
    )
    for role in (Role.BROADCASTER, Role.MODERATOR):
        assert check(closed, ViewerFacts(role=role), EMPTY, SONG, NOW) is None
    assert check(closed, ViewerFacts(role=Role.VIP), EMPTY, SONG, NOW) is not None


def test_a_role_that_may_not_request() -> None:
    subs_only = settings(roles={"regular": {"can_request": False}})
    assert refusal(check(subs_only, regular(), EMPTY, SONG, NOW)) == (
        Reason.NOT_ALLOWED,
        "you can't request songs on this channel",
    )
    assert check(subs_only, ViewerFacts(role=Role.SUBSCRIBER), EMPTY, SONG, NOW) is None


def test_a_banned_viewer() -> None:
    assert refusal(check(RequestSettings(), regular(banned=True), EMPTY, SONG, NOW)) == (
        Reason.BANNED,
        "you can't request songs on this channel",
    )


@pytest.mark.parametrize(
    ("waiting", "expected"),
    [
        (0, None),
        (1, None),
        (2, (Reason.TOO_MANY_WAITING, "you already have 2 songs waiting (max 2)")),
        (5, (Reason.TOO_MANY_WAITING, "you already have 5 songs waiting (max 2)")),
    ],
)
def test_waiting_per_viewer_is_capped_at_the_cap(
    waiting: int, expected: tuple[Reason, str] | None
) -> None:
    found = check(RequestSettings(), regular(waiting=waiting), EMPTY, SONG, NOW)
    assert (refusal(found) if expected else found) == expected


def test_waiting_sentence_in_the_singular() -> None:
    one = settings(roles={"regular": {"max_waiting": 1}})
    assert refusal(check(one, regular(waiting=1), EMPTY, SONG, NOW))[1] == (
        "you already have 1 song waiting (max 1)"
    )


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (timedelta(seconds=0), "wait 1:00 before your next request"),
        (timedelta(seconds=30), "wait 0:30 before your next request"),
        (timedelta(seconds=59, milliseconds=1), "wait 0:01 before your next request"),
        (timedelta(seconds=59, milliseconds=999), "wait 0:01 before your next request"),
        (timedelta(seconds=60), None),
        (timedelta(hours=1), None),
        (timedelta(seconds=-3600), "wait 1:00 before your next request"),  # clock moved back
    ],
)
def test_cooldown_ends_exactly_at_its_length(ago: timedelta, expected: str | None) -> None:
    found = check(RequestSettings(), regular(last_request_at=NOW - ago), EMPTY, SONG, NOW)
    if expected is None:
        assert found is None
    else:
        assert refusal(found) == (Reason.COOLDOWN, expected)


def test_long_cooldowns_read_in_minutes_and_hours() -> None:
    slow = settings(roles={"regular": {"cooldown_seconds": 5400}})
    found = check(slow, regular(last_request_at=NOW), EMPTY, SONG, NOW)
    assert refusal(found)[1] == "wait 1:30:00 before your next request"


@pytest.mark.parametrize(("length", "allowed"), [(0, True), (49, True), (50, False), (51, False)])
def test_the_queue_is_full_at_its_length(length: int, allowed: bool) -> None:
    found = check(RequestSettings(), regular(), QueueFacts(length=length), SONG, NOW)
    if allowed:
        assert found is None
    else:
        assert refusal(found) == (Reason.QUEUE_FULL, "the queue is full (50 songs)")
    assert (
        check(
            RequestSettings(),
            ViewerFacts(role=Role.MODERATOR),
            QueueFacts(length=length),
            SONG,
            NOW,
        )
        is None
    )


def test_blocked_songs_and_artists() -> None:
    blocking = settings(blocked_tracks=[URI], blocked_artists=[ARTIST])
    assert refusal(check(blocking, regular(), EMPTY, SONG, NOW)) == (
        Reason.TRACK_BLOCKED,
        "that song is blocked on this channel",
    )
    other_song = TrackFacts(OTHER, (ARTIST,), 200_000, False)
    assert refusal(check(blocking, regular(), EMPTY, other_song, NOW)) == (
        Reason.ARTIST_BLOCKED,
        "that artist is blocked on this channel",
    )
    # The lists do not bind the broadcaster (by default), they bind moderators.
    assert check(blocking, ViewerFacts(role=Role.BROADCASTER), EMPTY, SONG, NOW) is None
    assert check(blocking, ViewerFacts(role=Role.MODERATOR), EMPTY, SONG, NOW) is not None


def test_a_relinked_song_is_known_by_both_its_uris() -> None:
    relinked = TrackFacts(OTHER, (), 200_000, False, linked_uri=URI)
    assert relinked.uris == (OTHER, URI)
    blocking = settings(blocked_tracks=[URI])
    assert refusal(check(blocking, regular(), EMPTY, relinked, NOW))[0] is Reason.TRACK_BLOCKED
    waiting = QueueFacts(waiting_uris=frozenset({URI}))
    assert refusal(check(RequestSettings(), regular(), waiting, relinked, NOW))[0] is (
        Reason.ALREADY_QUEUED
    )


def test_the_allowlist_playlist() -> None:
    listed = settings(allowlist_playlist="37i9dQZF1DXcBWIGoYBM5M")
    assert check(listed, regular(), EMPTY, SONG, NOW, allowlist=frozenset({URI})) is None
    assert refusal(check(listed, regular(), EMPTY, SONG, NOW, allowlist=frozenset())) == (
        Reason.NOT_IN_ALLOWLIST,
        "only songs from the streamer's request playlist can be requested",
    )
    with pytest.raises(ValueError, match="allowlist"):
        check(listed, regular(), EMPTY, SONG, NOW)
    assert check(RequestSettings(), regular(), EMPTY, SONG, NOW) is None  # no list, no check


def test_explicit_songs() -> None:
    explicit = TrackFacts(URI, (), 200_000, True)
    assert check(RequestSettings(), regular(), EMPTY, explicit, NOW) is None
    clean_only = settings(roles={"regular": {"explicit_allowed": False}})
    assert refusal(check(clean_only, regular(), EMPTY, explicit, NOW)) == (
        Reason.EXPLICIT,
        "explicit songs are off on this channel",
    )
    assert check(clean_only, regular(), EMPTY, SONG, NOW) is None


@pytest.mark.parametrize(
    ("duration_ms", "expected"),
    [
        (419_999, None),
        (420_000, None),
        (420_001, "that song is 7:01 long — the limit is 7:00"),
        (421_000, "that song is 7:01 long — the limit is 7:00"),
        (3_723_000, "that song is 1:02:03 long — the limit is 7:00"),
    ],
)
def test_track_length_limit_is_inclusive(duration_ms: int, expected: str | None) -> None:
    song = TrackFacts(URI, (), duration_ms, False)
    found = check(RequestSettings(), regular(), EMPTY, song, NOW)
    if expected is None:
        assert found is None
    else:
        assert refusal(found) == (Reason.TRACK_TOO_LONG, expected)
    assert check(RequestSettings(), ViewerFacts(role=Role.MODERATOR), EMPTY, song, NOW) is None


def test_a_song_already_waiting() -> None:
    waiting = QueueFacts(length=3, waiting_uris=frozenset({URI}))
    assert refusal(check(RequestSettings(), regular(), waiting, SONG, NOW)) == (
        Reason.ALREADY_QUEUED,
        "that song is already in the queue",
    )
    assert check(RequestSettings(), ViewerFacts(role=Role.MODERATOR), waiting, SONG, NOW) is None


@pytest.mark.parametrize(
    ("ago", "allowed"),
    [
        (timedelta(minutes=0), False),
        (timedelta(minutes=29, seconds=59), False),
        (timedelta(minutes=30), True),
        (timedelta(hours=2), True),
    ],
)
def test_played_recently_ends_exactly_at_the_window(ago: timedelta, allowed: bool) -> None:
    played = QueueFacts(played_at={URI: NOW - ago})
    found = check(RequestSettings(), regular(), played, SONG, NOW)
    if allowed:
        assert found is None
    else:
        assert refusal(found) == (
            Reason.PLAYED_RECENTLY,
            "that song was played in the last 30 minutes",
        )


@pytest.mark.parametrize(
    ("minutes", "window"), [(1, "minute"), (45, "45 minutes"), (60, "hour"), (120, "2 hours")]
)
def test_the_duplicate_window_reads_naturally(minutes: int, window: str) -> None:
    played = QueueFacts(played_at={URI: NOW})
    found = check(settings(duplicate_window_minutes=minutes), regular(), played, SONG, NOW)
    assert refusal(found)[1] == f"that song was played in the last {window}"


def test_no_duplicate_window() -> None:
    played = QueueFacts(played_at={URI: NOW})
    assert check(settings(duplicate_window_minutes=0), regular(), played, SONG, NOW) is None


def test_rules_are_told_in_order() -> None:
    """Closed first, then who asks, then their counts, then the queue, then the song."""
    strict = {"regular": {"explicit_allowed": False}}
    steps: list[tuple[RequestSettings, ViewerFacts, QueueFacts, TrackFacts, Reason]] = []
    viewer = regular(banned=True, waiting=9, last_request_at=NOW)
    queue = QueueFacts(length=99, waiting_uris=frozenset({URI}), played_at={URI: NOW})
    song = TrackFacts(URI, (ARTIST,), 9_000_000, True)
    blocked = settings(blocked_tracks=[URI], roles=strict)
    forbidden = {"regular": {"explicit_allowed": False, "can_request": False}}
    steps += [
        (
            settings(open=False, blocked_tracks=[URI], roles=forbidden),
            viewer,
            queue,
            song,
            Reason.CLOSED,
        ),
        (settings(blocked_tracks=[URI], roles=forbidden), viewer, queue, song, Reason.NOT_ALLOWED),
        (blocked, viewer, queue, song, Reason.BANNED),
        (blocked, regular(waiting=9, last_request_at=NOW), queue, song, Reason.TOO_MANY_WAITING),
        (blocked, regular(last_request_at=NOW), queue, song, Reason.COOLDOWN),
        (blocked, regular(), queue, song, Reason.QUEUE_FULL),
    ]
    queue = QueueFacts(waiting_uris=frozenset({URI}), played_at={URI: NOW})
    unblocked = settings(roles=strict)
    steps += [
        (blocked, regular(), queue, song, Reason.TRACK_BLOCKED),
        (unblocked, regular(), queue, song, Reason.EXPLICIT),
        (unblocked, regular(), queue, TrackFacts(URI, (), 9_000_000, False), Reason.TRACK_TOO_LONG),
        (unblocked, regular(), queue, SONG, Reason.ALREADY_QUEUED),
        (unblocked, regular(), QueueFacts(played_at={URI: NOW}), SONG, Reason.PLAYED_RECENTLY),
    ]
    told = [refusal(check(s, v, q, t, NOW))[0] for s, v, q, t, _ in steps]
    assert told == [reason for *_, reason in steps]


def test_the_viewer_check_needs_no_song_and_agrees_with_the_whole_check() -> None:
    viewer = regular(waiting=2)
    alone = check_viewer(RequestSettings(), viewer, EMPTY, NOW)
    assert alone == check(RequestSettings(), viewer, EMPTY, SONG, NOW)
    assert check_track(RequestSettings(), viewer, EMPTY, SONG, NOW) is None


def test_the_check_is_deterministic() -> None:
    """The service runs it again under the account's lock: same inputs, same answer."""
    viewer = regular(waiting=1, last_request_at=NOW - timedelta(seconds=10))
    answers = {check(RequestSettings(), viewer, EMPTY, SONG, NOW) for _ in range(5)}
    assert len(answers) == 1


def test_approval() -> None:
    approving = settings(roles={"regular": {"approval_required": True}})
    assert approval_required(approving, Role.REGULAR)
    assert not approval_required(approving, Role.SUBSCRIBER)
    assert not approval_required(RequestSettings(), Role.REGULAR)


def test_track_facts_of_a_spotify_track() -> None:
    found = track("Song", "Artist", explicit=True, duration_ms=123_000, linked_from=URI)
    facts = TrackFacts.of(found)
    assert facts.uri == found.uri
    assert facts.linked_uri == URI
    assert facts.explicit
    assert facts.duration_ms == 123_000
    assert facts.artist_uris == tuple(a.uri for a in found.artists if a.uri)
