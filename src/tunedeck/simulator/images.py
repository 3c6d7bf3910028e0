"""Album art served by the simulator itself: an SVG per album and size, in the album's colours."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tunedeck.simulator.catalog import IMAGE_SIZES, Album
from tunedeck.simulator.state import SimulatorState


def album_svg(album: Album, size: int) -> str:
    """A square cover: a diagonal gradient of the album's two colours and its initials."""
    first, second = album.colors
    initials = "".join(word[0] for word in album.name.split()[:2]).upper()
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
        album = sim.catalog.albums.get(request.path_params["album_id"])
        size_text = request.path_params["size"]
        if album is None or not size_text.isdigit() or int(size_text) not in IMAGE_SIZES:
            return Response("Not found", status_code=404, media_type="text/plain")
        return Response(
            album_svg(album, int(size_text)),
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return [Route("/images/{album_id}/{size}.svg", image, methods=["GET"])]
