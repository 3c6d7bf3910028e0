"""Every answer, whatever produced it, carries ``X-Content-Type-Options: nosniff`` and a
Content-Security-Policy: JSON and other non-pages the empty policy, pages their own,
none of which runs an inline script (``/docs`` included)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from tests.support import accounts
from tests.support.app import app_settings, asgi_client
from tunedeck.app import create_app
from tunedeck.demo import SIM_PREFIX
from tunedeck.kit.db import Database
from tunedeck.kit.response_headers import API_POLICY
from tunedeck.migrations.apply import upgrade_database
from tunedeck.simulator.app import create_simulator_app
from tunedeck.web.api_docs import CONTENT_SECURITY_POLICY as DOCS_POLICY


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('headers') / 'tunedeck.db'}"
    asyncio.run(upgrade_database(url))
    return url


@pytest.fixture
async def app(database_url: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    app = create_app(
        app_settings(database_url, tmp_path), mounts={SIM_PREFIX: create_simulator_app()}
    )

    async def crash(request: Request) -> Response:
        raise RuntimeError("an unexpected failure")

    app.router.add_route("/_crash", crash)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def key(database_url: str) -> str:
    db = Database(database_url.replace("sqlite://", "sqlite+aiosqlite://", 1))
    try:
        account = await accounts.create_account(db, f"headers-{id(db)}")
        created = await accounts.create_key(db, account, "k", ["admin"])
    finally:
        await db.dispose()
    return created.key


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


HTML = {"Accept": "text/html"}


async def sweep(client: httpx.AsyncClient, key: str) -> dict[str, httpx.Response]:
    """One answer of each kind, named by what it is."""
    admin = {"Authorization": f"Bearer {key}"}
    too_large = b"{" + b" " * 70_000 + b"}"
    requests: dict[str, tuple[str, str, dict[str, Any]]] = {
        "json 200": ("GET", "/v1/me", {"headers": admin}),
        "json 200 public": ("GET", "/healthz", {}),
        "openapi": ("GET", "/openapi.json", {}),
        "json 401": ("GET", "/v1/me", {}),
        "json 422": ("POST", "/v1/keys", {"headers": admin, "json": {"label": 5}}),
        "json 415": ("POST", "/v1/keys", {"headers": admin, "content": b"label=x"}),
        "json 404 unmatched": ("GET", "/no/such/page", {}),
        "json 405": ("DELETE", "/healthz", {}),
        "json 413": ("POST", "/v1/keys", {"headers": admin, "content": too_large}),
        "json 400 bad host": ("GET", "/healthz", {"headers": {"Host": "evil.example"}}),
        "json 500": ("GET", "/_crash", {}),
        "oauth callback page": (
            "GET",
            "/v1/connections/spotify/callback?state=nope&code=x",
            {"headers": HTML},
        ),
        "graphql redirect": ("GET", "/graphql", {"headers": HTML}),
        "metrics": ("GET", "/metrics", {}),
        "readyz": ("GET", "/readyz", {}),
        "docs": ("GET", "/docs", {}),
        "docs boot": ("GET", "/docs/boot.js", {}),
        "docs asset": ("GET", "/docs/assets/swagger-ui.css", {}),
        "graphiql": ("GET", "/graphiql", {}),
        "graphiql boot": ("GET", "/graphiql/assets/boot.js", {}),
        "dashboard": ("GET", "/", {}),
        "dashboard asset": ("GET", "/dashboard/dashboard.css", {}),
        "overlay": ("GET", "/overlay", {}),
        "overlay builder": ("GET", "/overlay/builder", {}),
        "simulator json": ("GET", f"{SIM_PREFIX}/v1/me", {}),
        "simulator page": ("GET", f"{SIM_PREFIX}/authorize?client_id=nobody", {}),
    }
    answers = {}
    for name, (method, path, options) in requests.items():
        answers[name] = await client.request(method, path, **options)
    return answers


EXPECTED_STATUS = {
    "json 200": 200,
    "json 401": 401,
    "json 422": 422,
    "json 415": 415,
    "json 404 unmatched": 404,
    "json 405": 405,
    "json 413": 413,
    "json 400 bad host": 400,
    "json 500": 500,
    "oauth callback page": 400,
    "graphql redirect": 303,
    "docs": 200,
    "graphiql": 200,
    "overlay": 200,
    "simulator page": 400,
}


async def test_every_answer_carries_nosniff_and_a_policy(app: FastAPI, key: str) -> None:
    async with asgi_client(app) as client:
        answers = await sweep(client, key)
    for name, status in EXPECTED_STATUS.items():
        assert answers[name].status_code == status, (name, answers[name].text[:200])
    for name, answer in answers.items():
        assert answer.headers.get("x-content-type-options") == "nosniff", name
        policy = answer.headers.get("content-security-policy")
        assert policy, name
        parsed = directives(policy)
        assert "frame-ancestors" in parsed, name
        scripts = parsed.get("script-src", parsed["default-src"])
        assert "'unsafe-inline'" not in scripts, name
        assert "'unsafe-eval'" not in scripts, name
        if not answer.headers.get("content-type", "").startswith("text/html"):
            continue
        # A page: its own policy, as strict as the one for answers that are not pages
        # where it needs nothing (no plugin, no <base>, not framed by another site).
        assert parsed["object-src" if "object-src" in parsed else "default-src"] == ["'none'"]
        assert parsed["frame-ancestors"] in (["'none'"], ["'self'"]), name
    json_answers = [name for name in answers if name.startswith("json")]
    for name in [*json_answers, "openapi", "metrics", "readyz", "simulator json"]:
        assert answers[name].headers["content-security-policy"] == API_POLICY, name


async def test_the_docs_page_runs_no_inline_script(app: FastAPI) -> None:
    async with asgi_client(app) as client:
        page = await client.get("/docs")
        boot = await client.get("/docs/boot.js")
    assert directives(DOCS_POLICY)["script-src"] == ["'self'"]
    assert page.headers["content-security-policy"] == DOCS_POLICY
    assert "<script>" not in page.text
    assert '<script src="/docs/boot.js"></script>' in page.text
    assert boot.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle(" in boot.text
