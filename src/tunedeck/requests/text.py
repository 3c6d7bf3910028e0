"""Text from outside (what a viewer typed, a chat bot's headers, Spotify's names) made inert,
cut cleanly, and folded for comparison.

``clean`` is the one policy for untrusted text, and it strips rather than refuses: viewers
paste from pages full of invisible marks, and a refusal would be unexplainable to them.
What it removes cannot be seen or typed on purpose, and could otherwise reorder or hide
the rest of a line: control characters (NUL included; tabs and line breaks become
spaces), lone surrogates, bidirectional overrides, embeddings and isolates, zero-width
spaces and the other invisible format characters (the zero-width joiner and non-joiner
stay: emoji and several scripts need them), and combining marks past eight on one base
("Zalgo" text). What is left is NFC-normalised, with runs of spaces made one.
"""

from __future__ import annotations

import re
import unicodedata

#: Format characters kept: the zero-width non-joiner and joiner.
_KEPT_FORMAT = frozenset("\u200c\u200d")
#: Line and paragraph separators, which bots would print as line breaks.
_BREAKS = frozenset("\u2028\u2029\x85")
#: Combining marks kept on one base character.
MAX_MARKS = 8

ELLIPSIS = "…"


def clean(text: str) -> str:
    """``text`` made inert for one line: see the module's docstring."""
    out: list[str] = []
    marks = 0
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc" or char in _BREAKS:
            out.append(" ")
            marks = 0
        elif category == "Cs" or (category == "Cf" and char not in _KEPT_FORMAT):
            continue
        elif category in ("Mn", "Me", "Mc"):
            marks += 1
            if marks <= MAX_MARKS:
                out.append(char)
        else:
            out.append(char)
            marks = 0
    return " ".join(unicodedata.normalize("NFC", "".join(out)).split())


def utf16_length(text: str) -> int:
    """Length as chat bots written in JavaScript count it (an emoji outside the BMP: 2)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _extends(previous: str, char: str, regional_run: int) -> bool:
    """Whether ``char`` belongs to the cluster ``previous`` ends (an approximation of
    Unicode's extended grapheme clusters that never parts what must stay together)."""
    code = ord(char)
    if unicodedata.category(char) in ("Mn", "Me", "Mc"):
        return True
    if char in _KEPT_FORMAT or previous == "\u200d":
        return True  # a joiner and what it joins
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:
        return True  # variation selectors
    if 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return True  # emoji skin tones, emoji tags
    if 0x1160 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FF:
        return True  # Hangul vowel and final jamo
    return _is_regional(char) and regional_run % 2 == 1  # the second letter of a flag


def _is_regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def boundaries(text: str) -> list[int]:
    """Offsets where a cluster starts (0 first), and ``len(text)``."""
    starts = [0] if text else []
    regional_run = 1 if text and _is_regional(text[0]) else 0
    for index in range(1, len(text)):
        char = text[index]
        if not _extends(text[index - 1], char, regional_run):
            starts.append(index)
        regional_run = regional_run + 1 if _is_regional(char) else 0
    starts.append(len(text))
    return starts


def cut(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``text`` if it is at most ``limit`` long (in UTF-16 units), else its longest start
    ending between two clusters that fits with ``ellipsis`` after it."""
    if limit < utf16_length(ellipsis):
        raise ValueError("limit must leave room for the ellipsis")
    if utf16_length(text) <= limit:
        return text
    room = limit - utf16_length(ellipsis)
    best = 0
    used = 0
    previous = 0
    for start in boundaries(text)[1:]:
        used += utf16_length(text[previous:start])
        if used > room:
            break
        best = previous = start
    return text[:best].rstrip() + ellipsis


def bounded(text: str, limit: int) -> str:
    """``text`` cleaned and cut to ``limit``: untrusted text ready to keep or print."""
    return cut(clean(text), limit)


_APOSTROPHES = str.maketrans("", "", "'`\u2019\u02bc\u00b4")  # and the typographic ones
_SEPARATORS = re.compile(r"[^\w]+|_+")


def fold(text: str) -> str:
    """``text`` for comparison: cleaned, accents and case folded, apostrophes dropped
    ("don't" is "dont"), "&" read as "and", every other punctuation a space."""
    decomposed = unicodedata.normalize("NFKD", clean(text))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.casefold().translate(_APOSTROPHES).replace("&", " and ")
    return " ".join(_SEPARATORS.sub(" ", bare).split())


def plural(count: int, noun: str) -> str:
    """ "1 song", "2 songs"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def format_duration(ms: int, *, round_up: bool = False) -> str:
    """A length as chat shows it: "3:07" under an hour, "1:02:03" from one; seconds are
    dropped, or with ``round_up`` counted whole (a wait of 0.2 s reads "0:01")."""
    seconds = max(0, -(-ms // 1000) if round_up else ms // 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"
