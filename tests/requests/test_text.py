"""Untrusted text made inert (clean), cut between clusters (cut), folded for comparison
(fold), and durations as chat shows them."""

from __future__ import annotations

import unicodedata

import pytest

from tunedeck.requests.text import (
    MAX_MARKS,
    boundaries,
    bounded,
    clean,
    cut,
    fold,
    format_duration,
    plural,
    utf16_length,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl
THUMBS = "\U0001f44d\U0001f3fd"  # thumbs up, medium skin tone
FLAG_FR = "\U0001f1eb\U0001f1f7"
HEART = "\u2764\ufe0f"  # heart with the emoji variation selector
E_ACUTE = "e\u0301"  # e + combining acute accent


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Neon   Harbor \n", "Neon Harbor"),
        ("a\x00b", "a b"),
        ("line\r\nbreak\ttab", "line break tab"),
        ("lone \ud800 surrogate \udfff", "lone surrogate"),
        ("\u202eevil\u202c title", "evil title"),
        ("\u2066isolated\u2069 \u200fmark\u200e", "isolated mark"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("para\u2028graph\u2029end\x85x", "para graph end x"),
        ("\x7f\x9bcsi", "csi"),
        (FAMILY, FAMILY),
        ("ZWNJ\u200ckept", "ZWNJ\u200ckept"),
        (E_ACUTE, "\u00e9"),  # NFC
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("", ""),
    ],
)
def test_clean(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_clean_bounds_combining_marks_on_one_base() -> None:
    zalgo = "a" + "\u0301\u0302\u0303" * 100 + "b"
    cleaned = unicodedata.normalize("NFD", clean(zalgo))
    assert cleaned == "a" + unicodedata.normalize("NFD", zalgo[1 : 1 + MAX_MARKS]) + "b"


def test_clean_of_hostile_input_is_printable() -> None:
    hostile = "\x00" * 5000 + "\ud800" * 5000 + "\u202e" + "ok"
    assert clean(hostile) == "ok"


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_length("abc") == 3
    assert utf16_length(THUMBS) == 4
    assert utf16_length("\u00e9") == 1


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("abc", [0, 1, 2, 3]),
        (f"a{E_ACUTE}b", [0, 1, 3, 4]),
        (f"x{FAMILY}y", [0, 1, 1 + len(FAMILY), 2 + len(FAMILY)]),
        (f"{THUMBS}!", [0, 2, 3]),
        (f"{HEART}.", [0, 2, 3]),
        (FLAG_FR * 2 + "\U0001f1e9", [0, 2, 4, 5]),
        ("", [0]),
    ],
)
def test_boundaries_keep_clusters_whole(text: str, starts: list[int]) -> None:
    assert boundaries(text) == ([0, *starts[1:]] if text else [0])


def test_cut_leaves_short_text_alone() -> None:
    assert cut("short", 10) == "short"
    assert cut("x" * 10, 10) == "x" * 10


def test_cut_ends_with_an_ellipsis_within_the_limit() -> None:
    line = cut("word " * 100, 20)
    assert line.endswith("…")
    assert utf16_length(line) <= 20
    assert line == "word word word word…"


@pytest.mark.parametrize("unit", [FAMILY, THUMBS, FLAG_FR, HEART, E_ACUTE, "\u00e9"])
def test_cut_never_splits_a_cluster(unit: str) -> None:
    text = "ab" + unit * 50
    for limit in range(2, 40):
        line = cut(text, limit)
        assert utf16_length(line) <= limit
        body = line.removesuffix("…")[2:]
        assert len(body) % len(unit) == 0, (limit, line)
        assert body == unit * (len(body) // len(unit))


def test_cut_refuses_a_limit_without_room() -> None:
    with pytest.raises(ValueError, match="room"):
        cut("abc", 0)


def test_bounded_cleans_then_cuts() -> None:
    assert bounded("\u202eab\x00cdefgh", 5) == "ab c…"


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Beyoncé", "beyonce"),
        ("DON'T Stop Me Now", "dont stop me now"),
        ("Don\u2019t", "dont"),
        ("Simon & Garfunkel", "simon and garfunkel"),
        ("AC/DC - T.N.T.", "ac dc t n t"),
        ("feat._ft", "feat ft"),
        ("".join(chr(ord(c) + 0xFEE0) for c in "Fullwidth"), "fullwidth"),
        ("Straße", "strasse"),
        ("東京 タワー!", "東京 タワー"),
        ("!!!", ""),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_plural() -> None:
    assert plural(1, "song") == "1 song"
    assert plural(0, "song") == "0 songs"
    assert plural(2, "song") == "2 songs"


@pytest.mark.parametrize(
    ("ms", "round_up", "text"),
    [
        (0, False, "0:00"),
        (999, False, "0:00"),
        (999, True, "0:01"),
        (1, True, "0:01"),
        (61_000, False, "1:01"),
        (420_000, False, "7:00"),
        (420_999, False, "7:00"),
        (3_599_999, False, "59:59"),
        (3_600_000, False, "1:00:00"),
        (3_723_000, False, "1:02:03"),
        (90_000, True, "1:30"),
        (-5, False, "0:00"),
    ],
)
def test_format_duration(ms: int, round_up: bool, text: str) -> None:
    assert format_duration(ms, round_up=round_up) == text
