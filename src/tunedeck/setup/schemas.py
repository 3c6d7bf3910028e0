"""What the setup doors take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from tunedeck.accounts.schemas import SessionOut
from tunedeck.accounts.service import ACCOUNT_NAME
from tunedeck.kit.constraints import Text

Stage = Literal["open", "started", "done", "operator"]
"""open: no account yet, a setup link is waiting; started: the link created the account,
the steps after it are not all done; done: finished; operator: accounts were made with
the command line, no setup link is offered."""


class SetupStatus(BaseModel):
    """What anyone may learn: whether setup is waiting, under way or done."""

    stage: Stage


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[StrictStr, Text(200)] = Field(description="The setup link's code.")
    name: StrictStr = Field(
        pattern=ACCOUNT_NAME.pattern,
        description="The channel's name: letters, digits, '_', '.', '-', starting with a "
        "letter or digit, at most 64.",
    )


class AccountCreated(BaseModel):
    """The account, its admin key (shown this once) and this browser's session."""

    key: str
    session: SessionOut


class Problem(BaseModel):
    """Something in the way, in the streamer's words: what happened and what to do."""

    code: str
    message: str
    fix: str


class SpotifyAccount(BaseModel):
    """The connected Spotify user, as Spotify describes them now."""

    id: str
    display_name: str | None = None
    premium: bool


class SetupProgress(BaseModel):
    """Where the setup of the caller's account stands, step by step."""

    account_name: str
    redirect_uri: str
    public_url: str
    public_url_problem: Problem | None = None
    app_configured: bool
    client_id_hint: str | None = None
    connection: Literal["active", "needs_reauth", "not_connected"]
    spotify_account: SpotifyAccount | None = None
    spotify_problem: Problem | None = None
    overlay_tokens: int
    completed_at: datetime | None = None
    next_step: int = Field(description="The first step not done yet (2 to 5).")
