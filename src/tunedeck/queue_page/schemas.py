"""What the public queue page's doors take and give.

:class:`PublicQueue` is all a holder of the link ever receives: song names, artists,
covers, the requesters' display names, positions and estimates. No viewer ids, logins or
roles, no queries, no refusals, no device, no context, no account: only what the page
shows. Requests awaiting approval are left out (a moderator has not seen them yet).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class QueuePageOut(BaseModel):
    """The account's public queue page: on or off, and its link when on."""

    enabled: bool
    url: str | None = Field(default=None, description="The page's link (anyone with it sees it).")
    created_at: datetime | None = Field(default=None, description="When this link was made.")


class PublicTrack(BaseModel):
    name: str
    artists: list[str]
    album_art_url: str | None = None
    duration_ms: int | None = None


class PublicPlaying(BaseModel):
    """What plays now."""

    track: PublicTrack
    requested_by: str | None = None
    is_playing: bool
    progress_ms: int | None = None


class PublicItem(BaseModel):
    """A song coming: the one handed to Spotify (position null: next), then the queue."""

    position: int | None
    track: PublicTrack
    requested_by: str
    eta_ms: int | None = None


class PublicQueue(BaseModel):
    """One message of the page's feed: the whole page, each time something changed."""

    type: Literal["queue"] = "queue"
    open: bool
    closed_message: str = ""
    playing: PublicPlaying | None = None
    coming: list[PublicItem]
    server_time: int = Field(description="ms since the epoch: progress is as of this time.")
