"""Request and response shapes of the accounts API. No shape carries a stored secret;
the ``Created*`` shapes carry the new plaintext secret once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from tunedeck.accounts.permissions import GRANTABLE, PrincipalKind
from tunedeck.kit.constraints import OneOf, Text

MAX_LABEL = 100
PermissionName = Annotated[StrictStr, OneOf(tuple(p.value for p in GRANTABLE))]


class _FromRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AccountOut(_FromRow):
    id: uuid.UUID
    name: str


class MeOut(BaseModel):
    account: AccountOut
    kind: PrincipalKind
    label: str
    key_id: uuid.UUID | None
    permissions: list[str]


class ApiKeyOut(_FromRow):
    id: uuid.UUID
    label: str
    prefix: str = Field(description="First characters of the key, to recognise it.")
    permissions: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Annotated[StrictStr, Text(MAX_LABEL)]
    permissions: list[PermissionName] = Field(
        min_length=1, examples=[["spotify:read", "spotify:playback"]]
    )


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself. Shown this once; only its hash is stored.")


class OverlayTokenOut(_FromRow):
    id: uuid.UUID
    label: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class OverlayTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Annotated[StrictStr, Text(MAX_LABEL, blank_ok=True)] = Field(
        default="overlay", description="Blank: named 'overlay'."
    )


class OverlayTokenCreated(OverlayTokenOut):
    token: str = Field(description="The token itself. Shown this once; only its hash is stored.")
    overlay_url: str = Field(description="The overlay page for OBS's browser source.")


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[StrictStr, Text(200)]


class SessionOut(BaseModel):
    me: MeOut
    expires_at: datetime = Field(
        description="When the session ends unless used before (the idle timeout)."
    )
    idle_timeout_seconds: int = Field(description="How long an unused session lasts.")
    csrf_token: str = Field(
        description="Send it as X-CSRF-Token with every state-changing request made with "
        "the session cookie. Keep it in memory only."
    )
