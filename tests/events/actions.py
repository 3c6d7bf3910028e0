"""A test-only action door: records an event in a unit of work of its own, like the player.

Used in-process by the tests and by ``server.py`` (the process the kill -9 test kills).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel, Field

from tunedeck.accounts.auth import requires
from tunedeck.accounts.permissions import Permission, Principal
from tunedeck.events.recorder import record_event
from tunedeck.events.schemas import Actor, EventOut, TrackSnapshot
from tunedeck.events.types import EventType
from tunedeck.kit.errors import Conflict
from tunedeck.kit.unit_of_work import UnitsDep

RECORD_PATH = "/test/events/record"

SAMPLE_TRACK = TrackSnapshot(
    name="Windowlicker",
    artists=["Aphex Twin"],
    album="Windowlicker",
    art_url="https://i.scdn.co/image/abc",
    uri="spotify:track:6nUsv8R3V2tA6s3XqJgG0x",
    duration_ms=367_000,
    progress_ms=12_345,
)


class RecordBody(BaseModel):
    type: EventType = EventType.PLAY
    params: dict[str, Any] = Field(default_factory=dict)
    # The action fails after its event was recorded: the event must go with it.
    fail_after_recording: bool = False


Playback = Annotated[Principal, Depends(requires(Permission.SPOTIFY_PLAYBACK))]

router = APIRouter()


@router.post(RECORD_PATH)
async def record(body: RecordBody, principal: Playback, units: UnitsDep) -> EventOut:
    async with units.begin() as work:
        event = await record_event(
            work,
            account_id=principal.account_id,
            event_type=body.type,
            actor=Actor.from_principal(principal),
            params=body.params,
            track=SAMPLE_TRACK,
        )
        if body.fail_after_recording:
            raise Conflict("the action failed after recording its event")
    return event


def with_actions(app: FastAPI) -> FastAPI:
    app.include_router(router)
    return app
