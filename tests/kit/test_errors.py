"""One JSON error shape for expected errors, bad input, unknown routes and crashes."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, Field

from tunedeck.kit.errors import (
    ErrorDetails,
    Forbidden,
    NotFound,
    TuneDeckError,
    Unauthorized,
    install_error_handlers,
)


class Body(BaseModel):
    volume_percent: int = Field(ge=0, le=100)


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/missing")
    async def missing() -> None:
        raise NotFound("no such thing")

    @app.get("/nope")
    async def nope() -> None:
        raise Unauthorized()

    @app.get("/forbidden")
    async def forbidden() -> None:
        raise Forbidden("missing permission spotify:read", code="missing_permission")

    @app.get("/custom")
    async def custom() -> None:
        raise TuneDeckError(
            "rate limited", status=429, code="rate_limited", details=ErrorDetails(retry_after=3)
        )

    @app.post("/volume")
    async def volume(body: Body) -> Body:
        return body

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret-token-in-message")

    return app


async def _client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_error_family_rendered_with_status_and_code() -> None:
    async with await _client() as client:
        r = await client.get("/missing")
        assert (r.status_code, r.json()) == (
            404,
            {"error": {"code": "not_found", "message": "no such thing"}},
        )
        r = await client.get("/nope")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"]["code"] == "unauthorized"
        r = await client.get("/forbidden")
        assert (r.status_code, r.json()["error"]["code"]) == (403, "missing_permission")
        r = await client.get("/custom")
        assert r.status_code == 429
        assert r.json()["error"] == {
            "code": "rate_limited",
            "message": "rate limited",
            "details": {"retry_after": 3},
        }


async def test_validation_errors_are_422_with_a_clear_message() -> None:
    async with await _client() as client:
        r = await client.post("/volume", json={"volume_percent": 150})
        assert r.status_code == 422
        error = r.json()["error"]
        assert error["code"] == "validation_error"
        assert "volume_percent" in error["message"]
        assert "100" in error["message"]
        assert error["details"]["fields"][0]["field"] == "volume_percent"
        r = await client.post(
            "/volume", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "invalid_json"


async def test_unknown_route_and_method_in_the_same_shape() -> None:
    async with await _client() as client:
        r = await client.get("/no/such/route")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
        r = await client.delete("/volume")
        assert (r.status_code, r.json()["error"]["code"]) == (405, "method_not_allowed")


async def test_crash_is_500_without_details() -> None:
    async with await _client() as client:
        r = await client.get("/crash")
        assert r.status_code == 500
        assert r.json() == {
            "error": {"code": "internal_error", "message": "Internal server error."}
        }
        assert "secret-token" not in r.text
        assert "Traceback" not in r.text
