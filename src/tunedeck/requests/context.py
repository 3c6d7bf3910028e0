"""What every request operation runs with: the player's context (who calls, the units of
work, the Spotify clients, the state cache) and the process's matcher.

Built by each door (REST, GraphQL, the chat door) with :func:`requests.deps.requests_context`,
or by the command line and tests from their own pieces.
"""

from __future__ import annotations

from dataclasses import dataclass

from tunedeck.player.context import PlayerContext
from tunedeck.requests.matching import Matcher


@dataclass(frozen=True, slots=True)
class RequestsContext(PlayerContext):
    """One call of a request operation; ``matcher`` is the process's, shared by every
    door so that one search text costs Spotify one call."""

    matcher: Matcher
