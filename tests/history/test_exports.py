"""The export formats as pure functions: chapters by YouTube's rules, and names with
every kind of Unicode kept intact and escaped where each format needs it."""

from __future__ import annotations

import csv
import io
import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tunedeck.history import exports
from tunedeck.history.schemas import PlayOut

START = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
NAMES = [
    'Quote "this", comma, | pipe',
    "עברית مرحبا mixed RTL",
    "Emoji 🎧👩‍👩‍👧 and ZWJ",
    "Combining e\u0301 and 中文 日本語",
    "Line\nbreak\ttab",
    "=SUM(A1) formula",
]


def play(
    index: int, offset_s: int, name: str = "Song", artists: list[str] | None = None
) -> PlayOut:
    return PlayOut(
        id=uuid.uuid4(),
        item_uri=f"spotify:track:{index:022d}",
        item_type="track",
        name=name,
        artists=artists if artists is not None else ["Artist"],
        album="Album",
        duration_ms=200_000,
        art_url=None,
        started_at=START + timedelta(seconds=offset_s),
        ended_at=START + timedelta(seconds=offset_s + 60),
        ended_estimated=False,
        listened_ms=60_000,
        end_reason="natural",
        context_uri=None,
        context_type=None,
        source="context",
        request_id=None,
        requested_by="viewer | one",
        skipped_by=None,
        stream_id=None,
        offset_ms=offset_s * 1000,
    )


def test_chapters_start_at_zero_merge_short_plays_and_use_hours() -> None:
    plays = [play(0, 5), play(1, 120), play(2, 125), play(3, 3700), play(4, 7300)]
    chapters = exports.chapters(plays)
    assert [c.start_ms for c in chapters] == [0, 125_000, 3_700_000, 7_300_000]
    text = exports.youtube(plays)
    assert text.splitlines()[0].startswith("0:00 ")
    assert "1:01:40 " in text
    assert "2:01:40 " in text
    starts = [c.start_ms for c in chapters]
    assert all(b - a >= exports.MIN_CHAPTER_MS for a, b in itertools.pairwise(starts))


def test_a_short_first_play_merges_into_the_next() -> None:
    chapters = exports.chapters(
        [play(0, 0, "short"), play(1, 4, "second"), play(2, 60), play(3, 120)]
    )
    assert chapters[0] == exports.Chapter(0, "Artist - second")
    assert len(chapters) == 3


def test_a_pre_roll_offset_gets_its_own_chapter() -> None:
    chapters = exports.chapters([play(0, 0), play(1, 60)], offset_ms=30_000, prefix="Starting soon")
    assert chapters[0] == exports.Chapter(0, "Starting soon")
    assert [c.start_ms for c in chapters] == [0, 30_000, 90_000]


def test_too_few_chapters_are_refused_not_emitted() -> None:
    with pytest.raises(exports.TooFewChaptersError, match="at least 3"):
        exports.youtube([play(0, 0)])
    with pytest.raises(exports.TooFewChaptersError):
        exports.youtube([play(0, 0), play(1, 3), play(2, 6), play(3, 30)])


def test_every_format_keeps_unicode_and_escapes_what_it_must() -> None:
    plays = [play(i, i * 60, name, [name]) for i, name in enumerate(NAMES)]
    rows = list(csv.reader(io.StringIO(exports.to_csv(plays))))
    assert rows[0][3] == "title"
    assert [row[3] for row in rows[1:]] == [*NAMES[:-1], "'" + NAMES[-1]]
    assert json.loads(exports.to_json(plays))["plays"][2]["name"] == NAMES[2]
    markdown = exports.to_markdown(plays, title="Stream | night")
    table = markdown.splitlines()[4:]
    assert len(table) == len(NAMES)
    for line in table:
        cells = [c for c in line.split(" | ")]
        assert len(cells) == 5  # escaped pipes never split a cell
    assert 'Quote "this", comma, \\| pipe' in markdown
    assert "Line break tab" in markdown
    m3u = exports.to_m3u(plays).splitlines()
    assert m3u[0] == "#EXTM3U"
    assert len(m3u) == 1 + 2 * len(NAMES)  # no name spills onto a line of its own
    assert m3u[1].startswith("#EXTINF:200,")
    assert "עברית مرحبا mixed RTL" in m3u[3]
    youtube = exports.youtube(plays)
    assert "Emoji 🎧👩‍👩‍👧 and ZWJ" in youtube
    assert len(youtube.splitlines()) == len(NAMES)
