"""The simulator's ASGI app: accounts service, Web API under ``/v1``, cover art, ``/_sim``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from tunedeck.simulator import (
    control,
    images,
    oauth,
    player_routes,
    playlist_routes,
    show_routes,
    webapi,
)
from tunedeck.simulator.config import SimulatorConfig
from tunedeck.simulator.errors import SpotifyError
from tunedeck.simulator.guards import BodyMediaTypes
from tunedeck.simulator.state import SimulatorState


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods answer Spotify-shaped JSON errors."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = (
        "Service not found"
        if status == 404
        else ("Method not allowed" if status == 405 else "Server error.")
    )
    return SpotifyError(status, message).response()


def create_simulator_app(config: SimulatorConfig | None = None) -> Starlette:
    """A Spotify simulator; its state is ``app.state.simulator`` (a ``SimulatorState``).

    Mountable anywhere (``outer.mount("/spotify", create_simulator_app())``): every URL
    it generates is built from the request's origin and mount prefix. Bodies are JSON
    (form-encoded on the token endpoint): ``guards``.
    """
    sim = SimulatorState(config or SimulatorConfig())
    app = Starlette(
        routes=[
            *oauth.routes(sim),
            *webapi.routes(sim),
            *player_routes.routes(sim),
            *playlist_routes.routes(sim),
            *show_routes.routes(sim),
            *images.routes(sim),
            *control.routes(sim),
        ],
        middleware=[Middleware(BodyMediaTypes)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.simulator = sim
    return app
