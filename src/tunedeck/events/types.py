"""The event types of SPEC.md section 5, one per kind of successful playback action."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    PLAY = "spotify:play"
    PAUSE = "spotify:pause"
    SKIP = "spotify:skip"  # next, or skip_to a queued track
    PREVIOUS = "spotify:previous"
    SEEK = "spotify:seek"
    VOLUME = "spotify:volume"
    SHUFFLE = "spotify:shuffle"
    REPEAT = "spotify:repeat"
    QUEUE_ADD = "spotify:queue_add"
    DEVICE = "spotify:device"
    PLAYLIST = "spotify:playlist"
