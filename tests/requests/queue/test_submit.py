"""Submitting song requests through the service, on both databases: taken as queued or
pending, refused with a reason (and without a Spotify call where none is needed), and
the rules holding exactly under concurrency."""

from __future__ import annotations

import asyncio

import pytest

from tests.requests.queue.conftest import Harness
from tests.requests.queue.support import (
    SEARCH,
    MeetingMatcher,
    rules,
    songs,
    track_id,
    viewer,
    with_matcher,
)
from tunedeck.accounts.permissions import Permission
from tunedeck.kit.errors import Forbidden
from tunedeck.requests import service
from tunedeck.requests.reasons import Reason, Refusal
from tunedeck.requests.schemas import BanIn, HistoryIn, Source, State
from tunedeck.requests.viewers import Role


async def test_a_link_is_queued_with_its_song_and_an_event(harness: Harness) -> None:
    ctx = harness.ctx()
    [link] = songs(harness.sim, 1)
    taken = await service.submit(ctx, viewer("ana"), f"please {link}", Source.CHAT)
    assert isinstance(taken, service.Submitted), taken
    request = taken.request
    assert request.state is State.QUEUED
    assert request.track.uri == f"spotify:track:{track_id(link)}"
    assert request.track.name
    assert request.track.artists
    assert request.track.duration_ms > 0
    assert request.viewer.login == "ana"
    assert request.viewer.display_name == "Ana"
    assert request.position == 1
    queue = await service.queue(ctx)
    assert [item.id for item in queue.items] == [request.id]


async def test_a_search_finds_a_song(harness: Harness) -> None:
    track = next(t for t in harness.sim.state.catalog.tracks if not t.explicit)
    text = f"{track.artists[0].name} - {track.name}"
    taken = await service.submit(harness.ctx(), viewer("bo"), text, Source.CHAT)
    assert isinstance(taken, service.Submitted), taken
    assert harness.spotify_calls(SEARCH) == 1
    assert taken.request.query == text


async def test_approval_required_makes_requests_pending(harness: Harness) -> None:
    ctx = harness.ctx()
    await service.update_settings(ctx, rules(approval_required=True))
    [link] = songs(harness.sim, 1)
    taken = await service.submit(ctx, viewer("cy"), link, Source.CHAT)
    assert isinstance(taken, service.Submitted)
    assert taken.request.state is State.PENDING
    approved = await service.approve(ctx, taken.request.id)
    assert approved.state is State.QUEUED


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", Reason.EMPTY),
        ("   \u202e\u200b  ", Reason.EMPTY),
        ("x" * 10_000, Reason.TOO_LONG),
        ("\x00" * 50, Reason.EMPTY),
        ("\ud800\udfff\ud800", Reason.EMPTY),
        ("https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy", Reason.ALBUM_LINK),
        ("spotify:playlist:37i9dQZF1DXcBWIGoYBM5M", Reason.PLAYLIST_LINK),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", Reason.OTHER_SITE),
        ("spotify:episode:512ojhOuo1ktJprKbVcKyQ", Reason.PODCAST),
        ("<script>alert(1)</script> https://evil.example/x", Reason.OTHER_SITE),
    ],
)
async def test_hostile_text_is_refused_with_nothing_stored_and_no_spotify_call(
    harness: Harness, text: str, code: Reason
) -> None:
    ctx = harness.ctx()
    before = harness.spotify_calls()
    refused = await service.submit(ctx, viewer("eve"), text, Source.CHAT)
    assert isinstance(refused, Refusal)
    assert refused.code is code
    assert harness.spotify_calls() == before
    history = await service.history(ctx, HistoryIn())
    assert history.items == []


async def test_html_and_rtl_overrides_are_just_text(harness: Harness) -> None:
    track = next(t for t in harness.sim.state.catalog.tracks if not t.explicit)
    text = f"<b>{track.name}</b> \u202e{track.artists[0].name}"
    result = await service.submit(harness.ctx(), viewer("eve"), text, Source.CHAT)
    assert isinstance(result, service.Submitted), result
    assert "\u202e" not in result.request.query
    assert result.request.query.startswith("<b>")


async def test_closed_and_banned_viewers_cost_no_spotify_call(harness: Harness) -> None:
    ctx = harness.ctx()
    [link] = songs(harness.sim, 1)
    await service.close_requests(ctx, "back at 8")
    before = harness.spotify_calls()
    closed = await service.submit(ctx, viewer("dan"), link, Source.CHAT)
    assert isinstance(closed, Refusal)
    assert closed.code is Reason.CLOSED
    assert "back at 8" in closed.sentence
    await service.open_requests(ctx)
    await service.ban(ctx, BanIn(platform="twitch", login="dan"))
    banned = await service.submit(ctx, viewer("dan"), link, Source.CHAT)
    assert isinstance(banned, Refusal)
    assert banned.code is Reason.BANNED
    assert harness.spotify_calls() == before


async def test_caps_cooldown_and_duplicates_are_refused(harness: Harness) -> None:
    ctx = harness.ctx()
    await service.update_settings(ctx, rules(max_waiting=1, cooldown_seconds=0))
    first, second = songs(harness.sim, 2)
    taken = await service.submit(ctx, viewer("fi"), first, Source.CHAT)
    assert isinstance(taken, service.Submitted)
    before = harness.spotify_calls()
    capped = await service.submit(ctx, viewer("fi"), second, Source.CHAT)
    assert isinstance(capped, Refusal)
    assert capped.code is Reason.TOO_MANY_WAITING
    assert harness.spotify_calls() == before  # refused on cheap facts
    duplicate = await service.submit(ctx, viewer("gus"), first, Source.CHAT)
    assert isinstance(duplicate, Refusal)
    assert duplicate.code is Reason.ALREADY_QUEUED
    await service.update_settings(ctx, rules(max_waiting=5, cooldown_seconds=600))
    cooling = await service.submit(ctx, viewer("fi"), second, Source.CHAT)
    assert isinstance(cooling, Refusal)
    assert cooling.code is Reason.COOLDOWN


async def test_explicit_and_length_rules_name_the_rule(harness: Harness) -> None:
    ctx = harness.ctx()
    await service.update_settings(ctx, rules(explicit_allowed=False, max_track_ms=60_000))
    [explicit] = songs(harness.sim, 1, explicit=True)
    refused = await service.submit(ctx, viewer("hal"), explicit, Source.CHAT)
    assert isinstance(refused, Refusal)
    assert refused.code in (Reason.EXPLICIT, Reason.TRACK_TOO_LONG)
    [clean] = songs(harness.sim, 1)
    too_long = await service.submit(ctx, viewer("hal"), clean, Source.CHAT)
    assert isinstance(too_long, Refusal)
    assert too_long.code is Reason.TRACK_TOO_LONG
    assert "the limit is 1:00" in too_long.sentence


async def test_two_requests_of_one_viewer_at_once_cannot_both_pass_a_cap(
    harness: Harness,
) -> None:
    ctx = harness.ctx()
    await service.update_settings(ctx, rules(max_waiting=1, cooldown_seconds=0))
    meeting = with_matcher(ctx, MeetingMatcher(2))
    first, second = songs(harness.sim, 2)
    results = await asyncio.gather(
        service.submit(meeting, viewer("ivy"), first, Source.CHAT),
        service.submit(meeting, viewer("ivy"), second, Source.CHAT),
    )
    taken = [r for r in results if isinstance(r, service.Submitted)]
    refused = [r for r in results if isinstance(r, Refusal)]
    assert len(taken) == 1
    assert len(refused) == 1
    assert refused[0].code is Reason.TOO_MANY_WAITING
    assert len((await service.queue(ctx)).items) == 1


async def test_many_viewers_at_once_fill_the_queue_exactly_to_its_length(
    harness: Harness,
) -> None:
    ctx = harness.ctx()
    await service.update_settings(ctx, rules(max_queue_length=3, cooldown_seconds=0))
    meeting = with_matcher(ctx, MeetingMatcher(6))
    links = songs(harness.sim, 6)
    results = await asyncio.gather(
        *(
            service.submit(meeting, viewer(f"v{n}"), link, Source.CHAT)
            for n, link in enumerate(links)
        )
    )
    taken = [r for r in results if isinstance(r, service.Submitted)]
    assert len(taken) == 3
    assert all(r.code is Reason.QUEUE_FULL for r in results if isinstance(r, Refusal))
    queue = await service.queue(ctx)
    assert [item.position for item in queue.items] == [1, 2, 3]


async def test_submitting_needs_the_permission(harness: Harness) -> None:
    [link] = songs(harness.sim, 1)
    with pytest.raises(Forbidden):
        await service.submit(harness.ctx(Permission.REQUESTS_READ), viewer(), link, Source.API)


async def test_the_broadcaster_has_no_limits_by_default(harness: Harness) -> None:
    ctx = harness.ctx()
    links = songs(harness.sim, 4)
    for link in links:
        taken = await service.submit(ctx, viewer("boss", Role.BROADCASTER), link, Source.CHAT)
        assert isinstance(taken, service.Submitted), taken
