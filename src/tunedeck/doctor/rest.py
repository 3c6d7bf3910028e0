"""``GET /v1/doctor``: the doctor's checks for the caller's account (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from tunedeck.accounts.auth import GuardedRoute, call_context
from tunedeck.accounts.context import CallContext
from tunedeck.accounts.permissions import Permission
from tunedeck.doctor import service
from tunedeck.doctor.deps import DoctorRuntime
from tunedeck.doctor.schemas import DoctorReport
from tunedeck.kit.deps import runtime_of

router = APIRouter(prefix="/v1", tags=["operations"], route_class=GuardedRoute)
Admin = Annotated[CallContext, call_context(Permission.ADMIN)]


@router.get("/doctor")
async def doctor(ctx: Admin, request: Request) -> DoctorReport:
    """Database and migrations, the key file, Redis, the public URL and redirect URI, the
    clock against Spotify's, Spotify reachable, the account's Spotify token, the poller:
    each ok or not, with what to do."""
    runtime: DoctorRuntime = runtime_of(request)
    poller = runtime.poller
    return await service.for_admin(
        ctx,
        runtime.settings,
        runtime.db,
        runtime.http,
        runtime.token_manager,
        poller.running if poller is not None else None,
    )
