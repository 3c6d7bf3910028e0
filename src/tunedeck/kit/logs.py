"""The process's log output: text or one JSON object per line, never a secret.

:func:`configure_logging` is called once at start-up by the commands that run
TuneDeck (``serve``, ``worker``, ``demo``): one handler on the root logger, writing to
stderr, that every logger propagates to (uvicorn's included: they run with
``log_config=None``). Each line carries the id of the request being served, if any
(:data:`request_id`, set by ``kit.observe`` for the duration of a request), and passes
through :func:`redact`, the one function that blanks secrets wherever they appear:
TuneDeck's own keys, overlay tokens and session ids (recognised by their prefix),
``Authorization`` values, and the values of query, form or JSON fields whose name
says they hold one (``token``, ``code``, ``client_secret``, ``refresh_token`` ...).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]

REDACTED = "[redacted]"

request_id: ContextVar[str | None] = ContextVar("tunedeck_request_id", default=None)
"""The id of the request being served in this context (None outside a request)."""

# Names of fields that may carry a secret, in a query string, a form, JSON or a repr.
_SECRET_NAMES = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "code",
        "code_verifier",
        "client_secret",
        "secret",
        "password",
        "key",
        "api_key",
        "apikey",
        "authorization",
    }
)
_NAMES_PATTERN = "|".join(sorted(_SECRET_NAMES))
# name=value (query strings, forms, reprs): any name, kept unless it is in the list; the
# value up to a separator (unless it is redacted already: redacting twice changes nothing).
_PAIR = re.compile(r"(?<![A-Za-z0-9_])([A-Za-z_]+)=(?!\[redacted\])[^&\s\"',;)}\]]+")
# "name": "value" (JSON) and 'name': 'value' (Python reprs).
_SECRET_JSON = re.compile(rf"(?i)([\"'](?:{_NAMES_PATTERN})[\"']\s*:\s*)([\"'])(?:\\.|(?!\2).)*\2")
# An Authorization header's credentials.
_AUTH_VALUE = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+")
# TuneDeck's own secrets (accounts.secrets: API keys, overlay tokens, session ids).
_OWN_SECRET = re.compile(r"\b(td[kos]_)[A-Za-z0-9_-]{8,}")


def _blank_value(match: re.Match[str]) -> str:
    return match.group(1) + REDACTED


def _blank_pair(match: re.Match[str]) -> str:
    name = match.group(1)
    return f"{name}={REDACTED}" if name.lower() in _SECRET_NAMES else match.group(0)


def _blank_quoted(match: re.Match[str]) -> str:
    quote = match.group(2)
    return match.group(1) + quote + REDACTED + quote


def _blank_credentials(match: re.Match[str]) -> str:
    return f"{match.group(1)} {REDACTED}"


def redact(text: str) -> str:
    """``text`` with every secret it may contain replaced by ``[redacted]`` (idempotent).

    Each pattern runs only when the text has the character it needs (most log values
    have none of them: this runs on every line)."""
    if "=" in text:
        text = _PAIR.sub(_blank_pair, text)
    if ":" in text and ('"' in text or "'" in text):
        text = _SECRET_JSON.sub(_blank_quoted, text)
    lowered = text.lower()
    if "bearer" in lowered or "basic" in lowered:
        text = _AUTH_VALUE.sub(_blank_credentials, text)
    if "td" in text:
        text = _OWN_SECRET.sub(_blank_value, text)
    return text


# LogRecord attributes that are not extra fields given by the caller (uvicorn adds a
# copy of its message with terminal colours).
_RECORD_FIELDS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "color_message"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, the
    ``extra`` fields given by the caller, and the traceback if any (all redacted)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            entry["request_id"] = rid
        for name, value in vars(record).items():
            if name not in _RECORD_FIELDS and name != "request_id" and not name.startswith("_"):
                entry[name] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["error"] = redact(record.exc_text)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A human-readable line (time, level, logger, request id), redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.request_tag = f" [{rid}]" if rid else ""
        return redact(super().format(record))


class RedactingFilter(logging.Filter):
    """Redacts a record's message and arguments in place (never drops the record): for
    loggers whose lines may reach a handler other than ours (uvicorn's own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")


@contextmanager
def redacted_server_logs(names: tuple[str, ...] = SERVER_LOGGERS) -> Iterator[None]:
    """Redact the server's loggers for the block (an app's lifetime), whatever handlers
    they write to: uvicorn logs WebSocket handshakes with their query string."""
    loggers = [logging.getLogger(name) for name in names]
    secret_filter = RedactingFilter()
    for log in loggers:
        log.addFilter(secret_filter)
    try:
        yield
    finally:
        for log in loggers:
            log.removeFilter(secret_filter)


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was written for (if any)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        return True


def make_handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """A stream handler (stderr by default) writing ``log_format`` lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    return handler


def configure_logging(log_format: LogFormat, level: int | str = logging.INFO) -> None:
    """Send every log record of the process to one redacting handler on stderr.

    Replaces the root logger's handlers (call once, at start-up); uvicorn's loggers
    lose their own handlers and propagate here.
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(make_handler(log_format))
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    # httpx logs every request it sends at INFO (each poll of each account): the Spotify
    # metrics count them; its warnings still come through.
    logging.getLogger("httpx").setLevel(logging.WARNING)
