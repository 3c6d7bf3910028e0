"""The process's log output: text or one JSON object per line, never a secret.

:func:`configure_logging` is called once at start-up by the commands that run
TuneDeck (``serve``, ``worker``, ``demo``): one handler on the root logger, writing to
stderr, that every logger propagates to (uvicorn's included: they run with
``log_config=None``). Each line carries the id of the request being served, if any
(:data:`request_id`, set by ``kit.observe`` for the duration of a request), and passes
through :func:`redact`, the one function that blanks secrets wherever they appear:
TuneDeck's own keys, overlay tokens, session ids and chat tokens (recognised by
their prefix),
``Authorization`` values, and the values of query, form or JSON fields whose name
says they hold one (``token``, ``code``, ``client_secret``, ``refresh_token`` ...).
"""

from __future__ import annotations

import json
import logging
import re
import string
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
# A secret-named field and its value, in every form a log line carries one: ``name=v``
# (query strings, forms, reprs: ``Token(access_token='v')``), ``name%3Dv`` (a URL inside
# a parameter: ``return_to=%2Fcb%3Fcode%3Dv``), ``name: v`` and ``"name": "v"`` (headers,
# JSON, YAML, dict reprs). The value is quoted, up to its closing quote (to the end of
# the text if it was cut short before it), or bare, up to a separator or an escaped ``&``
# (``%26``). A bare value already ``[redacted]`` is left alone (redacting twice changes
# nothing), and so is an ``Authorization`` scheme (``Bearer``, ``Basic``: their
# credentials are blanked below). It runs on the lower-cased text: a case-sensitive
# pattern that starts with the names is several times faster than one with ``(?i)``.
_SECRET_FIELD = re.compile(
    rf"""(?x)
    (?:{_NAMES_PATTERN}) ["']? \s* (?:[:=]|%3d) \s*
    (?P<value>
        (?P<quote>["']) (?:\\.|(?!(?P=quote))[^\\])* (?P=quote)?
      | (?!\[redacted\]|(?:bearer|basic)\s) (?:[^%&\s"',;)}}\]]+|%(?!26)[0-9a-f]{{2}})+
    )
    """
)
# What may come right before a field's name without making it part of a longer one
# (``my_token=`` is another field), unless that is a percent-escape (``%3Fcode%3D``).
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_%")
_HEX = frozenset("0123456789abcdef")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# An Authorization header's credentials.
_AUTH_VALUE = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+")
# TuneDeck's own secrets (accounts.secrets: API keys, overlay tokens, session ids, chat
# tokens), wherever they are: a chat token travels in a bot's URL, and a bot set up
# wrongly may put it in the path or in the text of a command.
_OWN_SECRET = re.compile(r"\b(td[kosc]_)[A-Za-z0-9_-]{8,}")


def _blank_value(match: re.Match[str]) -> str:
    return match.group(1) + REDACTED


def _stands_alone(lowered: str, start: int) -> bool:
    """Whether the name found at ``start`` is a whole field name."""
    if start == 0 or lowered[start - 1] not in _NAME_CHARS:
        return True
    escape = lowered[start - 3 : start]
    return len(escape) == 3 and escape[0] == "%" and escape[1] in _HEX and escape[2] in _HEX


def _may_name_a_secret(lowered: str) -> bool:
    """A cheap first look (every name in ``_SECRET_NAMES`` contains one of these words):
    most lines name none, and skip the pattern."""
    return (
        "token" in lowered
        or "code" in lowered
        or "key" in lowered
        or "secret" in lowered
        or "password" in lowered
        or "authorization" in lowered
    )


def _blank_fields(text: str, lowered: str) -> str:
    """``text`` with the value of each secret-named field blanked (found in ``lowered``,
    its lower-cased copy: the same positions)."""
    pieces: list[str] = []
    kept = 0
    for match in _SECRET_FIELD.finditer(lowered):
        if not _stands_alone(lowered, match.start()):
            continue
        quote = match.group("quote") or ""
        pieces += (text[kept : match.start("value")], quote, REDACTED, quote)
        kept = match.end()
    if not pieces:
        return text
    pieces.append(text[kept:])
    return "".join(pieces)


def _blank_credentials(match: re.Match[str]) -> str:
    return f"{match.group(1)} {REDACTED}"


def redact(text: str) -> str:
    """``text`` with every secret it may contain replaced by ``[redacted]`` (idempotent).

    Each pattern runs only when the text has the characters it needs (most log values
    have none of them: this runs on every line)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters lower to two characters (İ)
        lowered = text.translate(_ASCII_LOWER)
    if ("=" in text or ":" in text or "%3d" in lowered) and _may_name_a_secret(lowered):
        text = _blank_fields(text, lowered)
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


def _redacted_extra(value: Any) -> Any:
    """An ``extra`` field without its secrets. A structure (dict, list, an object written
    as its ``str``) is redacted as the JSON it will be written as, then read back (kept
    as that text if blanking a bare value left it unreadable, as ``"code": 42`` would)."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    text = json.dumps(value, default=str, ensure_ascii=False)
    cleaned = redact(text)
    if cleaned == text:
        return value
    try:
        return json.loads(cleaned)
    except ValueError:
        return cleaned


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
                entry[name] = _redacted_extra(value)
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["error"] = redact(record.exc_text)
        return json.dumps(entry, default=str, ensure_ascii=False)


# What a text line writes as an escape: the C0 controls (line feed and carriage return
# among them), DEL, the C1 controls (NEL among them), the Unicode line and paragraph
# separators (a line break to some viewers and collectors), and the bidirectional
# formatting characters (which reorder what a terminal shows).
_CONTROL_ESCAPES: dict[int, str] = {
    code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))
}
_CONTROL_ESCAPES.update(
    {
        ord("\t"): "\\t",
        ord("\n"): "\\n",
        ord("\r"): "\\r",
        **{code: f"\\u{code:04x}" for code in (0x2028, 0x2029, 0x061C, 0x200E, 0x200F)},
        **{code: f"\\u{code:04x}" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
    }
)
_NEEDS_ESCAPING = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
TRACE_INDENT = "    "
"""What each line of a traceback starts with, under its record's line (text format)."""


def escape_controls(text: str) -> str:
    """``text`` on one line: each control character written as an escape (``\\n``,
    ``\\r``, ``\\x1b``, ``\\u2028`` ...), so that no value can end the line it is
    written on and start one of its own."""
    if _NEEDS_ESCAPING.search(text) is None:  # most lines: no copy
        return text
    return text.translate(_CONTROL_ESCAPES)


class TextFormatter(logging.Formatter):
    """A human-readable line (time, level, logger, request id), redacted.

    One record is one line: a value that reaches the message (a request's path or
    query, a header, a label someone typed) has its control characters escaped
    (:func:`escape_controls`), since a line break in it would start a line that reads as
    another record, and a log collector splitting on lines would take it for one. A
    traceback keeps its own lines, each indented under the record (escaped too: an
    exception's text may quote a value), so that every line that starts at the margin
    is a record."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.request_tag = f" [{rid}]" if rid else ""
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = escape_controls(redact(self.formatMessage(record)))
        details = []
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            details.append(record.exc_text)
        if record.stack_info:
            details.append(self.formatStack(record.stack_info))
        for text in details:
            for detail_line in redact(text).split("\n"):
                line += "\n" + TRACE_INDENT + escape_controls(detail_line)
        return line


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
