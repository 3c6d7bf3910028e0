"""GraphQL types of song requests: mirrors of the REST shapes (``requests.schemas``)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.experimental.pydantic import type as from_model
from strawberry.scalars import JSON

from tunedeck.requests.schemas import (
    BanOut,
    ClearedOut,
    HistoryPage,
    QueueOut,
    RequestOut,
    RequestTrackOut,
    SettingsOut,
    Source,
    State,
    ViewerOut,
    ViewerPlace,
)
from tunedeck.requests.viewers import Role

RequestState = strawberry.enum(State, name="RequestState")
RequestSource = strawberry.enum(Source, name="RequestSource")
ViewerRole = strawberry.enum(Role, name="ViewerRole")


@from_model(model=ViewerOut, all_fields=True, name="RequestViewer")
class RequestViewer:
    pass


@from_model(model=RequestTrackOut, all_fields=True, name="RequestTrack")
class RequestTrack:
    pass


@from_model(model=RequestOut, all_fields=True, name="SongRequest")
class SongRequest:
    pass


@from_model(model=QueueOut, all_fields=True, name="RequestQueue")
class RequestQueue:
    pass


@from_model(model=HistoryPage, all_fields=True, name="RequestHistoryPage")
class RequestHistoryPage:
    pass


@from_model(model=ViewerPlace, all_fields=True, name="RequestViewerPlace")
class RequestViewerPlace:
    pass


@from_model(model=BanOut, all_fields=True, name="RequestBan")
class RequestBan:
    pass


@from_model(model=ClearedOut, all_fields=True, name="RequestsCleared")
class RequestsCleared:
    pass


@strawberry.type(name="RequestSettings")
class RequestSettingsType:
    """The channel's settings as the REST document (``PUT /v1/requests/settings``)."""

    settings: JSON
    version: int

    @classmethod
    def of(cls, out: SettingsOut) -> RequestSettingsType:
        document: Any = out.settings.model_dump(mode="json")
        return cls(settings=document, version=out.version)


@strawberry.input(name="RequestViewerInput")
class RequestViewerInput:
    """A viewer named by a bot or tool submitting for them (``requests:submit``)."""

    display_name: str
    platform: str = "api"
    id: str | None = None
    login: str | None = None
    role: ViewerRole = Role.REGULAR  # type: ignore[valid-type]
