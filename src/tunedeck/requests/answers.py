"""The line a chat bot prints: one line, at most 400 characters, text from Spotify and
viewers made inert.

Bots print the body of TuneDeck's answer as a chat message: nothing may break it into
lines, reorder it (a title with a right-to-left override would reverse the rest of the
message), or make it longer than a chat message may be. Length is counted in UTF-16
units, as the bots (JavaScript) count it: an emoji outside the BMP counts 2. A line too
long is cut between two characters as seen (never inside an emoji sequence, a flag, or a
letter and its accents) and ends with "…".
"""

from __future__ import annotations

from collections.abc import Sequence

from tunedeck.requests.text import bounded, clean, cut

MAX_LINE = 400
"""The longest line a chat bot prints."""

MAX_TITLE = 100
"""The longest song title or artist list inside a line."""


def chat_line(*parts: str, limit: int = MAX_LINE) -> str:
    """``parts`` joined by spaces into one clean line of at most ``limit``."""
    return cut(clean(" ".join(parts)), limit)


def track_label(name: str, artists: Sequence[str], *, limit: int = MAX_TITLE) -> str:
    """A song as chat names it: "Title — Artist, Other", each part bounded."""
    title = bounded(name, limit)
    credited = bounded(", ".join(artists), limit)
    return f"{title} — {credited}" if credited else title


def addressed(viewer_name: str, sentence: str, *, limit: int = MAX_LINE) -> str:
    """A sentence for one viewer: "@name, sentence"."""
    name = bounded(viewer_name.lstrip("@"), 40)
    return chat_line(f"@{name}," if name else "", sentence, limit=limit)
