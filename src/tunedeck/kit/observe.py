"""Every request observed once: its id, its metrics, its log line.

:class:`ObserveRequests` is the outermost middleware of the app (plain ASGI, so a
streamed response such as the SSE feed is never buffered). For each HTTP request and
WebSocket session it

- takes the caller's ``X-Request-ID`` when it is a plausible id (1-64 characters of
  letters, digits and ``._:-``), else makes one, returns it in the response's
  ``X-Request-ID`` header and sets :data:`tunedeck.kit.logs.request_id` while the
  request is served, so every line logged meanwhile carries it;
- counts it in ``tunedeck_http_requests_total`` and times it in
  ``tunedeck_http_request_duration_seconds`` under its *route template*
  (``/v1/keys/{key_id}``; one ``<unmatched>`` for every path no route matched), never
  the raw path, so no caller can create series at will;
- writes one line to the ``tunedeck.access`` logger: method, route, path and redacted
  query, status, duration, request id, the peer's address, its ``User-Agent`` (cut to
  :data:`USER_AGENT_CHARS`: it says which bot or browser called), and the principal's
  kind and credential id when the request authenticated (never a secret). Each of these
  is the caller's text: ``kit.logs`` writes it escaped, never as a line of its own.

Who the caller is comes from ``scope["state"]["principal"]``, where the auth doors
leave the principal (``accounts.auth``); kit does not import them.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tunedeck.kit.logs import redact, request_id
from tunedeck.kit.metrics import Metrics

access_log = logging.getLogger("tunedeck.access")

REQUEST_ID_HEADER = "X-Request-ID"
UNMATCHED = "<unmatched>"
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
USER_AGENT_CHARS = 200


def accepted_request_id(value: str | None) -> str:
    """The caller's request id when it is plausible, else a new one."""
    if value is not None and _VALID_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def route_template(scope: Scope, root_path: str) -> str:
    """The template of the route that served ``scope`` (after routing), mount prefixes
    included; :data:`UNMATCHED` when no route matched."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    # Mounts extend root_path with their prefix before the mounted app routes.
    prefix = str(scope.get("root_path", ""))[len(root_path) :]
    if isinstance(route, Mount):
        return prefix.removesuffix(route.path) + route.path_format
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return prefix + template if isinstance(template, str) else UNMATCHED


class ObserveRequests:
    """ASGI middleware: request id, metrics and the access log line (module docstring)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics | None, access: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = accepted_request_id(Headers(scope=scope).get("x-request-id"))
        token = request_id.set(rid)
        root_path = str(scope.get("root_path", ""))
        scope.setdefault("state", {})
        websocket = scope["type"] == "websocket"
        status = 0
        started = time.perf_counter()

        async def observed_send(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status = int(message["status"])
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            elif kind == "websocket.accept":
                status = 101
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            elif kind == "websocket.close" and status == 0:
                status = 403  # closed before the handshake completed: refused
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except BaseException:
            status = status or 500
            raise
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope, root_path)
            method = "WEBSOCKET" if websocket else str(scope.get("method", ""))
            if not websocket and self.metrics is not None:
                label = method if method in _METHODS else "OTHER"
                self.metrics.http_requests.labels(route, label, str(status)).inc()
                self.metrics.http_duration.labels(route, label).observe(seconds)
            if self.access:
                self._log(scope, method, route, status, seconds)
            request_id.reset(token)

    @staticmethod
    def _log(scope: Scope, method: str, route: str, status: int, seconds: float) -> None:
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        client = scope.get("client")
        agent = Headers(scope=scope).get("user-agent")
        fields: dict[str, Any] = {
            "method": method,
            "route": route,
            "path": scope.get("path", ""),
            "query": redact(query) if query else "",
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client": client[0] if client else None,
            "user_agent": agent[:USER_AGENT_CHARS] if agent is not None else None,
        }
        principal = scope.get("state", {}).get("principal")
        if principal is not None:
            fields["principal_kind"] = str(getattr(principal, "kind", ""))
            fields["principal_id"] = str(getattr(principal, "credential_id", ""))
            fields["account_id"] = str(getattr(principal, "account_id", ""))
        target = fields["path"] + (f"?{fields['query']}" if query else "")
        access_log.info(
            '%s %s %d %.1fms "%s"',
            method,
            target,
            status,
            fields["duration_ms"],
            fields["user_agent"] or "-",
            extra=fields,
        )
