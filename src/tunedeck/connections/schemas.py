"""Request and response shapes of the connections API. No shape carries a stored secret."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr

from tunedeck.kit.constraints import BLANK, Matching


class LinkState(StrEnum):
    """Whether the account's Spotify can be used."""

    NOT_CONNECTED = "not_connected"
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"


# Spotify's client ids and secrets are hex; anything visible is let through, and the
# blanks a paste brings around it are dropped.
CREDENTIAL = r"^[\x09-\x0d\x20]*[\x21-\x7e]{1,255}[\x09-\x0d\x20]*$"
Credential = Annotated[
    StrictStr,
    Matching(CREDENTIAL, "credential", "1-255 visible characters, no spaces"),
    AfterValidator(lambda value: value.strip(BLANK)),
]


class AppCredentialsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: Credential
    client_secret: Credential


class AppCredentialsOut(BaseModel):
    configured: bool
    client_id_hint: str | None = Field(
        default=None, description="The first characters of the client id, to recognise it."
    )
    updated_at: datetime | None = None


class ConnectionOut(BaseModel):
    platform: str = "spotify"
    status: LinkState
    connected: bool = Field(description="True when Spotify can be called for this account.")
    app: AppCredentialsOut
    spotify_user_id: str | None = None
    scopes: list[str] = Field(default_factory=list)
    missing_scopes: list[str] = Field(
        default_factory=list, description="Scopes TuneDeck needs that the grant lacks."
    )
    expires_at: datetime | None = Field(default=None, description="Of the access token.")
    connected_at: datetime | None = None
    updated_at: datetime | None = None


class AuthorizeOut(BaseModel):
    authorize_url: str = Field(description="Send the streamer's browser here.")
    expires_at: datetime = Field(description="The authorization must finish before this.")


class CallbackOut(BaseModel):
    connection: ConnectionOut
    return_to: str
