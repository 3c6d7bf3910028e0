"""The event types: one per kind of successful playback action (SPEC.md section 5), and
one per change of a song request or of the request queue (section 10)."""

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
    # Song requests: each change of a request, or of the channel's queue, with its actor.
    REQUEST_ADDED = "request:added"
    REQUEST_APPROVED = "request:approved"
    REQUEST_REJECTED = "request:rejected"
    REQUEST_REMOVED = "request:removed"
    REQUEST_PLAYED = "request:played"
    REQUEST_SKIPPED = "request:skipped"
    REQUEST_MOVED = "request:moved"
    REQUEST_BANNED = "request:banned"
    REQUEST_UNBANNED = "request:unbanned"
    REQUEST_SETTINGS = "request:settings"  # opened, closed, or the rules changed
    REQUEST_CLEARED = "request:cleared"
