"""``/metrics``, ``/healthz`` and ``/readyz`` (left out of the API description: they are
the operator's, not the API's).

- ``GET /healthz``: the process is alive and its event loop answers (no database);
- ``GET /readyz``: the checks of :mod:`.readiness`, 200 ``ok`` / ``degraded`` or 503
  ``unavailable``, for anyone (load balancers send no credentials): the status and each
  check's outcome; what each check says (what is wrong) only to a caller on this machine
  or a key holding ``admin``;
- ``GET /metrics``: Prometheus text, for a caller on this machine or a key holding
  ``admin`` (``accounts.auth.local_or``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from tunedeck.accounts.auth import GuardedRoute, local_or, public
from tunedeck.accounts.permissions import Permission
from tunedeck.kit.errors import Forbidden, Unauthorized, is_database_unavailable
from tunedeck.kit.metrics import CONTENT_TYPE
from tunedeck.runtime import runtime_of

router = APIRouter(include_in_schema=False, route_class=GuardedRoute)
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/healthz", dependencies=[Depends(public)])
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.get("/readyz", dependencies=[Depends(public)])
async def readyz(request: Request) -> JSONResponse:
    report = await runtime_of(request).readiness.report()
    body = report.to_json(details=await _sees_details(request))
    return JSONResponse(body, status_code=report.http_status, headers=NO_STORE)


async def _sees_details(request: Request) -> bool:
    """Whether the caller may read what the checks say: the rule of ``/metrics``. Any
    other caller gets the outcomes, never a 401: the probe stays public."""
    try:
        await local_or(Permission.ADMIN)(request)
    except (Unauthorized, Forbidden):
        return False
    except Exception as exc:
        if is_database_unavailable(exc):  # the key cannot be checked: the report says why
            return False
        raise
    return True


@router.get("/metrics", dependencies=[Depends(local_or(Permission.ADMIN))])
async def metrics(request: Request) -> Response:
    registry = runtime_of(request).metrics
    return Response(await registry.render(), media_type=CONTENT_TYPE, headers=NO_STORE)
