"""Pages served by TuneDeck itself."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from tunedeck.accounts.auth import public

HOME_PAGE = (Path(__file__).parent / "static" / "home.html").read_text(encoding="utf-8")

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse, dependencies=[Depends(public)])
async def home() -> HTMLResponse:
    """Where the OAuth callback lands: the connection result and the ways in."""
    return HTMLResponse(HOME_PAGE)
