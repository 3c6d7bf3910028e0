"""The permission matrix, read off the app's own route table.

Every route of ``create_app()`` must declare exactly one access rule (see
``tunedeck.accounts.auth``). Then, for every HTTP route: no credentials -> 401;
every permission short of the rule -> 403 naming it; an overlay token -> 403; and a
key of another account holding every permission sees none of this account's data
and cannot touch its objects. Routes added by later modules join automatically. The
calls come from another machine (routes that also serve local callers, like
``/metrics``, demand their rule from everyone else).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.routing import Mount

from tests.accounts.conftest import Caller, MakeCaller
from tests.support.app import OUTSIDE_CLIENT, asgi_client
from tunedeck.accounts.auth import AccessRule, RouteEntry, route_table
from tunedeck.accounts.permissions import (
    GRANTABLE,
    IMPLIED,
    Permission,
    effective_permissions,
)
from tunedeck.app import create_app
from tunedeck.config import Settings

ALL = [p.value for p in GRANTABLE]


def http_routes(app: FastAPI) -> list[tuple[str, RouteEntry, AccessRule]]:
    found = []
    for route in route_table(app):
        if route.is_http:
            (rule,) = route.rules
            found += [(method, route, rule) for method in sorted(route.methods)]
    return found


@dataclass
class Victim:
    """The account whose data others must not reach."""

    caller: Caller
    overlay_token: str
    overlay_token_id: str
    markers: list[str]

    def path_value(self, name: str) -> str:
        # Path parameters naming this account's objects; anything else gets a random id.
        return {"key_id": self.caller.key_id, "token_id": self.overlay_token_id}.get(
            name, str(uuid.uuid4())
        )


async def make_victim(client: httpx.AsyncClient, make_caller: MakeCaller) -> Victim:
    caller = await make_caller(*ALL)
    token = (await client.post("/v1/overlay-tokens", headers=caller.headers, json={})).json()
    markers = [str(caller.account.id), caller.account.name, caller.key_id, token["id"]]
    return Victim(caller, token["token"], token["id"], markers)


def fill_path(route: RouteEntry, victim: Victim) -> str:
    path = route.path
    for name in route.path_params:
        path = path.replace("{" + name + "}", victim.path_value(name))
    return path


def test_every_route_declares_exactly_one_rule(app: FastAPI) -> None:
    table = route_table(app)
    undeclared = [
        f"{r}: {sorted(map(str, r.rules)) or 'no rule'}" for r in table if len(r.rules) != 1
    ]
    assert undeclared == [], "declare requires()/authenticated/public or declare_rule()"
    rules = {f"{m} {r.path}": str(rule) for m, r, rule in http_routes(app)}
    assert {
        k: v
        for k, v in rules.items()
        if k.split()[1].startswith(("/v1/me", "/v1/session", "/v1/keys", "/v1/overlay"))
    } == {
        "GET /v1/me": "authenticated",
        "POST /v1/session": "public",
        "GET /v1/session": "authenticated",
        "DELETE /v1/session": "authenticated",
        "GET /v1/keys": "admin",
        "POST /v1/keys": "admin",
        "DELETE /v1/keys/{key_id}": "admin",
        "GET /v1/overlay-tokens": "admin",
        "POST /v1/overlay-tokens": "admin",
        "DELETE /v1/overlay-tokens/{token_id}": "admin",
    }
    assert {k: v for k, v in rules.items() if k.split()[1] in ("/metrics", "/healthz")} == {
        "GET /metrics": "admin or local",
        "GET /healthz": "public",
    }


async def test_permission_matrix(
    app: FastAPI, client: httpx.AsyncClient, make_caller: MakeCaller
) -> None:
    victim = await make_victim(client, make_caller)
    others = await make_caller(*ALL)  # another account, holding everything
    single = {p: await make_caller(p) for p in ALL}
    all_but = {p: await make_caller(*(q for q in ALL if q != p)) for p in ALL}
    overlay = {"Authorization": f"Bearer {victim.overlay_token}"}
    failures: list[str] = []

    async def call(method: str, path: str, headers: dict[str, str]) -> httpx.Response:
        body: dict[str, Any] | None = {} if method in {"POST", "PUT", "PATCH"} else None
        async with asgi_client(app, client=OUTSIDE_CLIENT) as outside:
            return await outside.request(method, path, headers=headers, json=body)

    for method, route, rule in http_routes(app):
        where = f"{method} {route.path} [{rule}]"
        path = fill_path(route, victim)
        if rule.public:
            continue
        if (r := await call(method, path, {})).status_code != 401:
            failures.append(f"{where}: no credentials -> {r.status_code}, want 401")

        needed = rule.permission.value if rule.permission else None
        denied: list[tuple[str, dict[str, str]]] = []
        if needed is not None and needed in ALL:
            # A key holding a permission that implies the one needed is not denied.
            denied += [
                (f"only {p}", c.headers)
                for p, c in single.items()
                if p != needed and needed not in IMPLIED.get(Permission(p), frozenset())
            ]
            rest = {Permission(p) for p in ALL if p != needed}
            if Permission(needed) not in effective_permissions(rest):
                denied.append((f"all but {needed}", all_but[needed].headers))
        if rule.permission is not Permission.OVERLAY_READ:
            denied.append(("overlay token", overlay))
        for who, headers in denied:
            r = await call(method, path, headers)
            if r.status_code != 403:
                failures.append(f"{where}: {who} -> {r.status_code}, want 403")
            elif needed and needed not in r.json()["error"]["message"]:
                failures.append(f"{where}: {who}: 403 does not name {needed}")

        r = await call(method, path, others.headers)
        if r.status_code in (401, 403, 500):
            failures.append(f"{where}: other account with every permission -> {r.status_code}")
        if route.path_params and r.status_code != 404:
            failures.append(f"{where}: other account's object -> {r.status_code}, want 404")
        # An id the caller sent may come back in the 404 message; anything else is a leak.
        leaked = [m for m in victim.markers if m in r.text and m not in path]
        if leaked:
            failures.append(f"{where}: other account sees {leaked}")

    assert failures == []
    # The victim's key and overlay token survived everyone else's calls.
    me = await client.get("/v1/me", headers=victim.caller.headers)
    assert me.status_code == 200
    tokens = (await client.get("/v1/overlay-tokens", headers=victim.caller.headers)).json()
    assert [t["revoked_at"] for t in tokens] == [None]


def test_declared_rules_belong_to_their_app(settings: Settings) -> None:
    """A rule declared for a mount of one app says nothing about another app's routes."""
    inner = FastAPI()
    declared = create_app(settings, mounts={"/elsewhere": inner})
    other = create_app(settings)
    other.router.routes.append(Mount("/elsewhere", app=inner))  # declares nothing

    def rules_at(app: FastAPI, path: str) -> list[str]:
        return [str(rule) for r in route_table(app) if r.path == path for rule in r.rules]

    assert rules_at(declared, "/elsewhere/{path}") == ["public"]
    assert rules_at(other, "/elsewhere/{path}") == []
    # FastAPI's own pages are public wherever the app puts them.
    assert rules_at(other, "/openapi.json") == ["public"]
    moved = FastAPI(docs_url="/api-docs", redoc_url=None)
    assert rules_at(moved, "/api-docs") == ["public"]
    assert rules_at(moved, "/docs") == []
