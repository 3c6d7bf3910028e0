"""``/metrics``: who may read it, and what it counts under which labels."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from tests.accounts.conftest import MakeCaller
from tests.support.app import OUTSIDE_CLIENT, asgi_client
from tunedeck.app import create_app
from tunedeck.config import Settings
from tunedeck.kit.observe import UNMATCHED, route_template
from tunedeck.runtime import app_runtime
from tunedeck.spotify.transport import operation_name

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition: (name, labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def scrape(client: httpx.AsyncClient, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


async def test_local_callers_read_metrics_without_a_key(client: httpx.AsyncClient) -> None:
    samples = await scrape(client)
    names = {name for name, _ in samples}
    for expected in (
        "tunedeck_event_outbox_backlog",
        "tunedeck_event_relay_lag_seconds",
        "tunedeck_bus_connected",
        "tunedeck_poll_leases_held",
        "tunedeck_poller_watched_accounts",
        "tunedeck_polls_total",
        "tunedeck_event_relay_failed_passes_total",
    ):
        assert expected in names, expected
    for kind in ("websocket", "sse", "graphql"):
        assert value(samples, "tunedeck_live_connections", kind=kind) == 0
    assert value(samples, "tunedeck_bus_connected") == 1


async def test_outside_callers_need_an_admin_key(app: FastAPI, make_caller: MakeCaller) -> None:
    reader = await make_caller("spotify:read")
    admin = await make_caller("admin")
    overlay_owner = await make_caller("admin")
    async with asgi_client(app) as local, asgi_client(app, client=OUTSIDE_CLIENT) as outside:
        token = await local.post("/v1/overlay-tokens", headers=overlay_owner.headers, json={})
        overlay = {"Authorization": f"Bearer {token.json()['token']}"}
        refused = {
            "no key": await outside.get("/metrics"),
            "spoofed X-Forwarded-For": await outside.get(
                "/metrics", headers={"X-Forwarded-For": "127.0.0.1"}
            ),
            "spoofed Forwarded": await outside.get(
                "/metrics", headers={"Forwarded": "for=127.0.0.1"}
            ),
            "key without admin": await outside.get("/metrics", headers=reader.headers),
            "overlay token": await outside.get("/metrics", headers=overlay),
            # A proxy on this machine forwarding an outside caller: not local.
            "through a local proxy": await local.get(
                "/metrics", headers={"X-Forwarded-For": "198.51.100.1"}
            ),
        }
        allowed = await outside.get("/metrics", headers=admin.headers)
    statuses = {who: r.status_code for who, r in refused.items()}
    assert statuses == {
        "no key": 401,
        "spoofed X-Forwarded-For": 401,
        "spoofed Forwarded": 401,
        "key without admin": 403,
        "overlay token": 403,
        "through a local proxy": 401,
    }
    for response in refused.values():
        assert "tunedeck_" not in response.text
        assert response.json()["error"]["code"] in {"unauthorized", "missing_permission"}
    assert allowed.status_code == 200
    assert "tunedeck_http_requests_total" in allowed.text


async def test_loopback_is_any_loopback_address(app: FastAPI) -> None:
    statuses = {}
    for address in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1", "::ffff:203.0.113.7"):
        async with asgi_client(app, client=(address, 5000)) as caller:
            statuses[address] = (await caller.get("/metrics")).status_code
    assert statuses == {
        "127.0.0.1": 200,
        "127.8.9.10": 200,
        "::1": 200,
        "::ffff:127.0.0.1": 200,
        "::ffff:203.0.113.7": 401,
    }


async def test_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for key_id in ids:
        assert (await client.delete(f"/v1/keys/{key_id}")).status_code == 401
    for n in range(3):
        assert (await client.get(f"/no-such-page-{n}")).status_code == 404
    assert (await client.request("BREW", "/healthz")).status_code == 405
    samples = await scrape(client)
    count = "tunedeck_http_requests_total"
    assert value(samples, count, route="/v1/keys/{key_id}", method="DELETE", status="401") == 3
    assert value(samples, count, route=UNMATCHED, method="GET", status="404") == 3
    assert value(samples, count, route="/healthz", method="OTHER", status="405") == 1
    duration = "tunedeck_http_request_duration_seconds_count"
    assert value(samples, duration, route="/v1/keys/{key_id}", method="DELETE") == 3
    # No raw path, no made-up method in any label.
    labels = {v for _, pairs in samples for _, v in pairs}
    assert [label for label in labels if any(raw in label for raw in ids)] == []
    assert [label for label in labels if "no-such-page" in label or label == "BREW"] == []


async def test_every_app_counts_on_its_own_registry(settings: Settings, app: FastAPI) -> None:
    other = create_app(settings)
    async with (
        other.router.lifespan_context(other),
        asgi_client(app) as first,
        asgi_client(other) as second,
    ):
        for _ in range(2):
            await first.get("/healthz")
        await second.get("/healthz")
        one, two = await scrape(first), await scrape(second)
        assert app_runtime(app).metrics.registry is not app_runtime(other).metrics.registry
    count = "tunedeck_http_requests_total"
    assert value(one, count, route="/healthz", method="GET", status="200") == 2
    assert value(two, count, route="/healthz", method="GET", status="200") == 1


def test_mounted_apps_are_labelled_by_their_mount() -> None:
    from starlette.routing import Mount, Route

    inner = Route("/v1/me/player", endpoint=lambda r: None)
    scope = {"route": inner, "root_path": "/spotify-sim"}
    assert route_template(scope, "") == "/spotify-sim/v1/me/player"
    static = Mount("/assets", routes=[])
    assert route_template({"route": static, "root_path": "/assets"}, "") == "/assets/{path}"
    assert route_template({}, "") == UNMATCHED


def test_spotify_operations_name_no_id() -> None:
    assert operation_name("GET", "/me/player") == "GET /me/player"
    assert operation_name("POST", "/playlists/37i9dQZF1/items") == "POST /playlists/{id}/items"
    assert operation_name("PUT", "/playlists/abc") == "PUT /playlists/{id}"


async def test_loopback_can_be_distrusted(settings: Settings, make_caller: MakeCaller) -> None:
    # A tunnel or a proxy at its defaults forwards outside callers from loopback and
    # names nobody: the operator turns the local rule off, and a key is needed.
    admin = await make_caller("admin")
    app = create_app(settings.model_copy(update={"trust_loopback": False}))
    async with app.router.lifespan_context(app), asgi_client(app) as local:
        without_key = await local.get("/metrics")
        with_key = await local.get("/metrics", headers=admin.headers)
    assert without_key.status_code == 401
    assert with_key.status_code == 200
