"""The connections routes declare their access rules; mounted apps are declared public."""

from __future__ import annotations

from pathlib import Path

from tests.connections.conftest import settings_for
from tests.support.simulator import Sim
from tunedeck.accounts.auth import route_table
from tunedeck.app import create_app
from tunedeck.connections.deps import get_token_manager
from tunedeck.connections.token_manager import TokenManager
from tunedeck.runtime import app_runtime
from tunedeck.simulator.app import create_simulator_app


def test_rules_of_connection_routes(sim_server: Sim, tmp_path: Path) -> None:
    settings = settings_for("sqlite:///unused.db", sim_server, tmp_path, "http://127.0.0.1:1")
    app = create_app(settings, mounts={"/spotify-sim": create_simulator_app()})
    table = route_table(app)
    assert [str(r) for r in table if len(r.rules) != 1] == []
    rules = {
        f"{method} {r.path}": str(next(iter(r.rules)))
        for r in table
        for method in sorted(r.methods) or ["MOUNT"]
        if r.path.startswith(("/v1/connections", "/spotify-sim"))
    }
    assert rules == {
        "GET /v1/connections/spotify": "admin",
        "DELETE /v1/connections/spotify": "admin",
        "GET /v1/connections/spotify/app": "admin",
        "PUT /v1/connections/spotify/app": "admin",
        "GET /v1/connections/spotify/authorize": "admin",
        "GET /v1/connections/spotify/callback": "public",
        "MOUNT /spotify-sim/{path}": "public",
    }


async def test_lifespan_builds_the_token_manager(sim_server: Sim, tmp_path: Path) -> None:
    from starlette.requests import Request

    settings = settings_for(f"sqlite:///{tmp_path / 'x.db'}", sim_server, tmp_path, "http://x")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        manager = app_runtime(app).token_manager
        assert isinstance(manager, TokenManager)
        request = Request({"type": "http", "app": app, "headers": []})
        assert get_token_manager(request) is manager
