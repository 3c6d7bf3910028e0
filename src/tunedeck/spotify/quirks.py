"""What we learned about a Spotify app's restrictions, shared by the clients of that app.

Development-mode apps answer some requests differently (search limit at most 10, some
library paths refused). Once a client has found out, every client built with the same
``app_id`` (the Spotify client id) and the same :class:`QuirksRegistry` goes straight
to the form that works. The registry belongs to whoever builds the clients (the app's
token manager), so two apps in one process learn independently.
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


class QuirksRegistry:
    """The learned restrictions of each Spotify app, by client id; safe across threads."""

    def __init__(self) -> None:
        self._apps: dict[str, AppQuirks] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"QuirksRegistry(apps={len(self._apps)})"

    def for_app(self, app_id: str) -> AppQuirks:
        """The shared, mutable record for ``app_id`` (created empty on first use)."""
        with self._lock:
            quirks = self._apps.get(app_id)
            if quirks is None:
                quirks = self._apps[app_id] = AppQuirks()
            return quirks

    def forget(self, app_id: str | None = None) -> None:
        """Forget what was learned about one app (or all apps), e.g. after its settings change."""
        with self._lock:
            if app_id is None:
                self._apps.clear()
            else:
                self._apps.pop(app_id, None)
