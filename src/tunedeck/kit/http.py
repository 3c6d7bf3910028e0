"""The process's one pooled HTTP client, used for every call to Spotify.

httpx is the API the code is written against; underneath, the transport is
aiohttp's connection pool. httpcore's own pool rescans every connection on each
state change, which makes it CPU-bound at the concurrency a busy instance sees
(many accounts polled at once). ``bench/client.py`` prints both pools side by
side ("raw HTTP, service pool" and "raw HTTP, httpx pool").
"""

from __future__ import annotations

import httpx
from httpx_aiohttp import AiohttpTransport

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)


def create_http_client(
    *,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    limits: httpx.Limits = DEFAULT_LIMITS,
) -> httpx.AsyncClient:
    """A pooled AsyncClient on aiohttp's transport; close it with ``aclose()``."""
    return httpx.AsyncClient(transport=AiohttpTransport(limits=limits), timeout=timeout)
