"""What we learned about a Spotify app's restrictions, shared by every client of that app.

Development-mode apps answer some requests differently (search limit at most 10, some
library paths refused). Once a client has found out, every client built with the same
``app_id`` (the Spotify client id) goes straight to the form that works.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class AppQuirks:
    """Learned restrictions of one Spotify app."""

    search_page_limit: int | None = None
    """Largest ``limit`` search accepts, once a larger one was refused (None = not seen)."""

    library_remove_refused: bool = False
    """DELETE /me/library was refused: unfollow playlists through /playlists/{id}/followers."""


_registry: dict[str, AppQuirks] = {}
_lock = threading.Lock()


def quirks_for(app_id: str) -> AppQuirks:
    """The shared, mutable record for ``app_id`` (created empty on first use)."""
    with _lock:
        quirks = _registry.get(app_id)
        if quirks is None:
            quirks = _registry[app_id] = AppQuirks()
        return quirks


def forget_quirks(app_id: str | None = None) -> None:
    """Forget what was learned about one app (or all apps), e.g. after its settings change."""
    with _lock:
        if app_id is None:
            _registry.clear()
        else:
            _registry.pop(app_id, None)
