"""Cover art served by the simulator itself: an SVG per album or show and size, in its colours."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tunedeck.simulator.catalog import IMAGE_SIZES
from tunedeck.simulator.state import SimulatorState


def cover_svg(name: str, colors: tuple[str, str], size: int) -> str:
    """A square cover: a diagonal gradient of two colours and the name's initials."""
    first, second = colors
    initials = "".join(word[0] for word in name.split()[:2]).upper()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 100 100">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="{first}"/><stop offset="1" stop-color="{second}"/>'
        f"</linearGradient></defs>"
        f'<rect width="100" height="100" fill="url(#g)"/>'
        f'<text x="50" y="62" font-family="sans-serif" font-size="30" font-weight="bold" '
        f'text-anchor="middle" fill="#ffffff" fill-opacity="0.85">{escape(initials)}</text>'
        f"</svg>"
    )


def routes(sim: SimulatorState) -> list[Route]:
    async def image(request: Request) -> Response:
        # Albums and shows share the path: their ids never collide.
        ident = request.path_params["album_id"]
        cover = sim.catalog.albums.get(ident) or sim.catalog.shows.get(ident)
        size_text = request.path_params["size"]
        if cover is None or not size_text.isdigit() or int(size_text) not in IMAGE_SIZES:
            return Response("Not found", status_code=404, media_type="text/plain")
        return Response(
            cover_svg(cover.name, cover.colors, int(size_text)),
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return [Route("/images/{album_id}/{size}.svg", image, methods=["GET"])]
