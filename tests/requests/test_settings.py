"""A channel's request settings: defaults per role and validation with clear messages."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tunedeck.requests.settings import RequestSettings, RoleRules, settings_error
from tunedeck.requests.viewers import Role

TRACK = "spotify:track:4cOdK2wGLETKBW3PvgPWqT"
ARTIST = "spotify:artist:0OdUWJ0sBjDrqHygGUXeCF"


def refused(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        RequestSettings.model_validate(data)
    return settings_error(caught.value)


def test_defaults() -> None:
    settings = RequestSettings()
    assert settings.open
    assert settings.duplicate_window_minutes == 30
    regular = settings.rules_for(Role.REGULAR)
    assert (regular.max_waiting, regular.cooldown_seconds) == (2, 60)
    assert regular.max_track_ms == 7 * 60_000
    assert regular.explicit_allowed
    assert not regular.approval_required
    assert not regular.bypass_closed
    for role in (Role.BROADCASTER, Role.MODERATOR):
        rules = settings.rules_for(role)
        assert rules.max_waiting is None
        assert rules.cooldown_seconds == 0
        assert rules.max_queue_length is None
        assert rules.max_track_ms is None
        assert rules.bypass_closed
        assert rules.duplicates_allowed
    assert not settings.rules_for(Role.BROADCASTER).lists_apply
    assert settings.rules_for(Role.MODERATOR).lists_apply
    for role in (Role.VIP, Role.SUBSCRIBER):
        rules = settings.rules_for(role)
        assert rules.max_waiting is not None
        assert regular.max_waiting is not None
        assert rules.max_waiting > regular.max_waiting
        assert rules.cooldown_seconds < regular.cooldown_seconds


def test_a_document_round_trips() -> None:
    data: dict[str, Any] = {
        "open": False,
        "closed_message": "back after the break",
        "duplicate_window_minutes": 60,
        "blocked_tracks": [TRACK],
        "blocked_artists": [ARTIST],
        "allowlist_playlist": "37i9dQZF1DXcBWIGoYBM5M",
        "roles": {"regular": {"max_waiting": 1, "approval_required": True}},
    }
    settings = RequestSettings.model_validate(data)
    assert settings.blocked_tracks == {TRACK}
    assert settings.rules_for(Role.REGULAR).max_waiting == 1
    assert settings.rules_for(Role.REGULAR).cooldown_seconds == 60  # the rest defaults
    again = RequestSettings.model_validate_json(settings.model_dump_json())
    assert again == settings


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"roles": {"regular": {"cooldown_seconds": -1}}},
            "roles.regular.cooldown_seconds: must not be negative (got -1)",
        ),
        (
            {"roles": {"vip": {"max_waiting": -3}}},
            "roles.vip.max_waiting: must not be negative (got -3)",
        ),
        (
            {"roles": {"vip": {"max_waiting": 0}}},
            "roles.vip.max_waiting: must be at least 1 request, or null for no limit",
        ),
        (
            {"roles": {"subscriber": {"max_queue_length": 0}}},
            "roles.subscriber.max_queue_length: must be at least 1 song, or null for no limit",
        ),
        (
            {"roles": {"regular": {"max_track_ms": 500}}},
            "roles.regular.max_track_ms: must be at least 1000 ms, or null for no limit",
        ),
        (
            {"roles": {"regular": {"cooldown_seconds": 86_401}}},
            "roles.regular.cooldown_seconds: must be at most 86400 seconds (got 86401)",
        ),
        (
            {"duplicate_window_minutes": -30},
            "duplicate_window_minutes: must not be negative (got -30)",
        ),
        ({"roles": {"regular": {"cooldown_seconds": "60"}}}, "roles.regular.cooldown_seconds"),
        ({"roles": {"regular": {"cooldown_seconds": True}}}, "roles.regular.cooldown_seconds"),
        ({"roles": {"regular": {"cooldown_seconds": 1.5}}}, "roles.regular.cooldown_seconds"),
        ({"roles": {"admin": {}}}, "roles.admin: Extra inputs are not permitted"),
        ({"roles": {"regular": {"max_wait": 3}}}, "roles.regular.max_wait"),
        (
            {"blocked_tracks": ["spotify:album:4cOdK2wGLETKBW3PvgPWqT"]},
            "is not a Spotify track uri",
        ),
        ({"blocked_tracks": ["<script>"]}, "is not a Spotify track uri"),
        ({"blocked_artists": [TRACK]}, "is not a Spotify artist uri"),
        ({"allowlist_playlist": "not a playlist"}, "allowlist_playlist: must be a Spotify"),
        ({"closed_message": "x" * 201}, "closed_message"),
        ({"blocked_tracks": [f"spotify:track:{n:022d}" for n in range(5001)]}, "blocked_tracks"),
    ],
)
def test_bad_values_are_refused_saying_where_and_why(data: dict[str, Any], message: str) -> None:
    assert message in refused(data)


def test_the_closed_message_is_cleaned() -> None:
    settings = RequestSettings(closed_message="\u202eback\x00 soon\n")
    assert settings.closed_message == "back soon"


def test_null_means_no_limit() -> None:
    rules = RoleRules.model_validate(
        {"max_waiting": None, "max_queue_length": None, "max_track_ms": None}
    )
    assert (rules.max_waiting, rules.max_queue_length, rules.max_track_ms) == (None, None, None)


def test_settings_are_immutable() -> None:
    settings = RequestSettings()
    with pytest.raises(ValidationError):
        settings.open = False  # type: ignore[misc]
