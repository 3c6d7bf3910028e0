"""The pages' static files, one tree for every page: the shared core of ES modules
(``web/core/``), the dashboard (``web/dashboard/``) and the overlay and its builder
(``web/overlay/``), served under ``/static/<version>/<path>``.

``<version>`` is a hash of the whole tree, so a page's modules import one another with
plain relative specifiers (``../core/feed.js``) and every import of a page resolves within
the same version: after an upgrade a page gets all new files or, loaded before it, keeps
all old ones (a request for a version this process does not serve is a 404, never a newer
file). Versioned URLs are cached for good. A page's HTML names its files as ``{{path}}``
(the versioned URL) and its entry module as ``{{module path}}``, which becomes a
``modulepreload`` link for each module it imports, directly or not, then the
``<script type="module">`` itself: the browser fetches them all at once instead of one
import level after another.

Files are read once, at import; HTML pages are not among the served files (each route
serves its own, rendered), and nothing outside the tree's folders is reachable.
"""

from __future__ import annotations

import gzip
import hashlib
import posixpath
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response

WEB_DIR = Path(__file__).parent
# Later pages add their folder here and import the core as ``../core/<module>.js``.
AREAS = ("core", "dashboard", "overlay", "queue_page", "setup")
STATIC_PATH = "/static"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"
# `import ... from "x"`, `import "x"`, `export ... from "x"` (static imports only).
IMPORT = re.compile(
    r'^\s*(?:import\s*"([^"]+)"|(?:import|export)\s[^;"\'=()]*?\bfrom\s*"([^"]+)")', re.MULTILINE
)
PLACEHOLDER = re.compile(r"\{\{\s*(module\s+)?([\w./-]+)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Asset:
    """One static file: its bytes, gzipped bytes, type and ETag."""

    body: bytes
    gzipped: bytes
    media_type: str
    etag: str


class StaticTree:
    """The files of ``areas`` under ``root``, their version and their module graph."""

    def __init__(self, root: Path, areas: tuple[str, ...]) -> None:
        self.assets: dict[str, Asset] = {}
        digest = hashlib.sha256()
        for area in areas:
            for path in sorted((root / area).rglob("*")):
                media_type = MEDIA_TYPES.get(path.suffix)
                if media_type is None or not path.is_file() or path.name.startswith("."):
                    continue
                name = path.relative_to(root).as_posix()
                body = path.read_bytes()
                digest.update(f"{name}\0{len(body)}\0".encode())
                digest.update(body)
                etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                self.assets[name] = Asset(body, gzip.compress(body, 9, mtime=0), media_type, etag)
        self.version = digest.hexdigest()[:16]
        scripts = [name for name in self.assets if name.endswith(".js")]
        self.imports = {name: self._imports_of(name) for name in scripts}

    def _imports_of(self, name: str) -> tuple[str, ...]:
        found = []
        for bare, named in IMPORT.findall(self.assets[name].body.decode()):
            specifier = bare or named
            if not specifier.startswith(("./", "../")):
                raise ValueError(f"{name}: import {specifier!r} is not relative to the file")
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), specifier))
            if target not in self.assets:
                raise ValueError(f"{name}: imports {specifier!r}, which is not served")
            found.append(target)
        return tuple(found)

    def url(self, name: str) -> str:
        """The versioned URL of a file of the tree."""
        if name not in self.assets:
            raise KeyError(f"no static file {name!r}")
        return f"{STATIC_PATH}/{self.version}/{name}"

    def module_graph(self, entry: str) -> list[str]:
        """``entry`` and every module it imports, directly or not, each once."""
        seen: list[str] = []
        pending = [entry]
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.append(name)
            pending.extend(reversed(self.imports[name]))
        return seen

    def render(self, html: str) -> str:
        """A page with its ``{{path}}`` and ``{{module path}}`` placeholders filled in."""

        def fill(match: re.Match[str]) -> str:
            name = match.group(2)
            if not match.group(1):
                return escape(self.url(name))
            graph = self.module_graph(name)
            links = [f'<link rel="modulepreload" href="{escape(self.url(m))}">' for m in graph[1:]]
            script = f'<script type="module" src="{escape(self.url(name))}"></script>'
            line_start = html.rfind("\n", 0, match.start()) + 1
            indent = html[line_start : match.start()]
            return f"\n{indent}".join([*links, script])

        return PLACEHOLDER.sub(fill, html)

    def send(self, request: Request, name: str, headers: dict[str, str]) -> Response | None:
        """The file ``name`` (gzipped when the browser takes it; 304 for its ETag), or
        None when the tree has no such file."""
        asset = self.assets.get(name)
        if asset is None:
            return None
        headers = {**headers, "ETag": asset.etag, "Vary": "Accept-Encoding"}
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)


STATIC = StaticTree(WEB_DIR, AREAS)


def static_headers() -> dict[str, str]:
    """The headers of a versioned file: cached for good, never sniffed."""
    return {"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"}
