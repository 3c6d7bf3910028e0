"""Keep secrets that ride in URLs out of the server's logs.

A live client that can do no better sends its token as ``?token=`` and uvicorn logs
WebSocket handshakes (and, with the access log on, every request) with their query
string. A filter on uvicorn's loggers blanks those values before any handler sees them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")
# Query parameters that may carry a secret.
_SECRET_PARAM = re.compile(r"([?&](?:token|access_token|key)=)[^&\s\"']*", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with the values of secret-bearing query parameters replaced."""
    return _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, text)


class RedactQuerySecrets(logging.Filter):
    """Rewrites a record's message and arguments, never drops the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


@contextmanager
def redacted_server_logs(names: tuple[str, ...] = SERVER_LOGGERS) -> Iterator[None]:
    """Install the filter on the server's loggers for the block (the app's lifetime)."""
    loggers = [logging.getLogger(name) for name in names]
    secret_filter = RedactQuerySecrets()
    for log in loggers:
        log.addFilter(secret_filter)
    try:
        yield
    finally:
        for log in loggers:
            log.removeFilter(secret_filter)
