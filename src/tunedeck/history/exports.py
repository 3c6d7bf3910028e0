"""A stream's plays as files: YouTube chapters, CSV, JSON, Markdown, M3U. Pure functions.

Names come from Spotify and from users: every format escapes what it must (CSV quotes,
Markdown pipes and line breaks, M3U line breaks and the comma of ``#EXTINF``), and keeps
every other character as it is (UTF-8 throughout).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

from tunedeck.history.schemas import PlayOut

MIN_CHAPTERS = 3
MIN_CHAPTER_MS = 10_000
CSV_COLUMNS = (
    "offset",
    "started_at",
    "ended_at",
    "title",
    "artists",
    "album",
    "uri",
    "listened_seconds",
    "end_reason",
    "requested_by",
)


class TooFewChaptersError(ValueError):
    """YouTube needs three chapters of 10 s or more: the stream does not have them."""


@dataclass(frozen=True, slots=True)
class Chapter:
    start_ms: int
    title: str


def title_of(play: PlayOut) -> str:
    """ "Artist - Title" (just the name for items without artists)."""
    artists = ", ".join(play.artists)
    return f"{artists} - {play.name}" if artists else play.name


def clock(ms: int) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` from there on (YouTube's forms)."""
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def chapters(
    plays: Sequence[PlayOut], *, offset_ms: int = 0, prefix: str | None = None
) -> list[Chapter]:
    """The chapters of a stream: one per play from its offset (shifted by ``offset_ms``
    of pre-roll, which ``prefix`` titles), a play shorter than 10 s merged into the one
    before it (the first: into the one after), the first at 0:00. Raises
    :class:`TooFewChaptersError` when fewer than three remain."""
    starts: list[Chapter] = []
    if offset_ms > 0:
        starts.append(Chapter(0, _one_line(prefix or "Intro")))
    for play in plays:
        start = max(0, play.offset_ms or 0) + offset_ms
        starts.append(Chapter(start, _one_line(title_of(play))))
    merged: list[Chapter] = []
    for index, chapter in enumerate(starts):
        end = starts[index + 1].start_ms if index + 1 < len(starts) else None
        too_short = end is not None and end - chapter.start_ms < MIN_CHAPTER_MS
        if too_short and merged:
            continue  # heard within the chapter before it
        if merged and chapter.start_ms - merged[-1].start_ms < MIN_CHAPTER_MS:
            merged[-1] = Chapter(merged[-1].start_ms, chapter.title)  # the first was short
            continue
        merged.append(chapter)
    if merged:
        merged[0] = Chapter(0, merged[0].title)
    if len(merged) < MIN_CHAPTERS:
        raise TooFewChaptersError(
            f"YouTube chapters need at least {MIN_CHAPTERS} of {MIN_CHAPTER_MS // 1000} s or "
            f"more; this stream gives {len(merged)}"
        )
    return merged


def youtube(plays: Sequence[PlayOut], *, offset_ms: int = 0, prefix: str | None = None) -> str:
    lines = [
        f"{clock(c.start_ms)} {c.title}"
        for c in chapters(plays, offset_ms=offset_ms, prefix=prefix)
    ]
    return "\n".join(lines) + "\n"


def to_csv(plays: Sequence[PlayOut]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for play in plays:
        writer.writerow(
            [
                clock(play.offset_ms or 0) if play.offset_ms is not None else "",
                play.started_at.isoformat(),
                play.ended_at.isoformat() if play.ended_at else "",
                _formula_safe(play.name),
                _formula_safe(", ".join(play.artists)),
                _formula_safe(play.album or ""),
                play.item_uri or "",
                play.listened_ms // 1000,
                play.end_reason or "",
                _formula_safe(play.requested_by or ""),
            ]
        )
    return buffer.getvalue()


def _formula_safe(text: str) -> str:
    """A cell a spreadsheet would take for a formula is kept as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def to_json(plays: Sequence[PlayOut]) -> str:
    items = [play.model_dump(mode="json") for play in plays]
    return json.dumps({"plays": items}, ensure_ascii=False, indent=2) + "\n"


def _md_cell(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("|", "\\|")
    return _one_line(escaped)


def to_markdown(plays: Sequence[PlayOut], *, title: str | None = None) -> str:
    lines = [f"# {_one_line(title)}", ""] if title else []
    lines += ["| # | Time | Title | Artists | Requested by |", "|---|---|---|---|---|"]
    for index, play in enumerate(plays, start=1):
        cells = [
            str(index),
            clock(play.offset_ms or 0) if play.offset_ms is not None else "",
            _md_cell(play.name),
            _md_cell(", ".join(play.artists)),
            _md_cell(play.requested_by or ""),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_m3u(plays: Sequence[PlayOut]) -> str:
    """Extended M3U: ``#EXTINF:<seconds>,<artists> - <title>`` then the item's URI (one
    line each: line breaks in names become spaces; the comma after the duration is the
    only separator readers look for)."""
    lines = ["#EXTM3U"]
    for play in plays:
        if play.item_uri is None:
            continue
        seconds = (play.duration_ms or 0) // 1000
        lines.append(f"#EXTINF:{seconds},{_one_line(title_of(play))}")
        lines.append(_one_line(play.item_uri))
    return "\n".join(lines) + "\n"
