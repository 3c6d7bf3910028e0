"""REST doors of the first-run setup.

``GET /v1/setup/status`` and ``POST /v1/setup/account`` are public: the setup link's
code is what authorizes the second (single use, expiring, looked up as a failed
sign-in would be: throttled per client address). The rest is the admin's, with the
session the first step opened.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from tunedeck.accounts.auth import GuardedRoute, call_context, public
from tunedeck.accounts.context import CallContext
from tunedeck.accounts.permissions import Permission
from tunedeck.accounts.rest import open_browser_session, refuse_other_sites
from tunedeck.accounts.throttle import authentication_attempt
from tunedeck.connections.deps import TokenManagerDep
from tunedeck.kit.deps import KeyringDep, SettingsDep
from tunedeck.kit.error_docs import FAILED_LOGINS_DOC, error_doc
from tunedeck.kit.unit_of_work import UnitsDep
from tunedeck.setup import service
from tunedeck.setup.schemas import AccountCreate, AccountCreated, SetupProgress, SetupStatus

router = APIRouter(prefix="/v1/setup", tags=["setup"], route_class=GuardedRoute)
Admin = Annotated[CallContext, call_context(Permission.ADMIN)]


@router.get("/status", dependencies=[Depends(public)])
async def setup_status(units: UnitsDep) -> SetupStatus:
    """Whether setup waits for its link (open), is under way (started), is done, or was
    skipped by an operator who made accounts with the command line (operator)."""
    return SetupStatus(stage=await service.stage(units))


@router.post(
    "/account",
    dependencies=[Depends(public)],
    status_code=status.HTTP_201_CREATED,
    responses={
        401: error_doc("The setup link is unknown, already used or expired."),
        403: error_doc("Sent from another site's page (csrf_failed)."),
        409: error_doc("An account of that name exists."),
        429: FAILED_LOGINS_DOC,
    },
)
async def create_account(
    body: AccountCreate,
    units: UnitsDep,
    request: Request,
    response: Response,
    settings: SettingsDep,
) -> AccountCreated:
    """Spend the setup link: the channel's account and an admin key (in this answer and
    nowhere else), and this browser signed in with it."""
    refuse_other_sites(request)
    async with authentication_attempt(request):
        created = await service.create_account(units, body.code, body.name)
    session = await open_browser_session(units, created.secret, response, settings)
    return AccountCreated(key=created.secret, session=session)


@router.get("")
async def setup_progress(
    ctx: Admin, keyring: KeyringDep, settings: SettingsDep, manager: TokenManagerDep
) -> SetupProgress:
    """Where the setup of the caller's account stands, and its next step."""
    return await service.progress(ctx, keyring, settings, manager)


@router.post("/complete", status_code=status.HTTP_204_NO_CONTENT)
async def complete(ctx: Admin) -> None:
    """Finish setup: from now on no setup link is made."""
    await service.complete(ctx)
