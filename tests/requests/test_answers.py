"""The line a chat bot prints: one line, at most 400 characters, inert."""

from __future__ import annotations

from tunedeck.requests.answers import MAX_LINE, addressed, chat_line, track_label
from tunedeck.requests.text import utf16_length


def test_a_short_line_is_left_as_it_is() -> None:
    assert chat_line("Now playing:", "Neon Harbor — Nova Park") == (
        "Now playing: Neon Harbor — Nova Park"
    )


def test_newlines_and_controls_never_reach_chat() -> None:
    line = chat_line("first\nsecond\r\nthird", "\x00tab\there\u2028")
    assert line == "first second third tab here"


def test_a_title_cannot_reverse_the_rest_of_the_line() -> None:
    title = "\u202eevil title\u2066"
    line = chat_line("Now playing:", track_label(title, ["Artist\u202d"]), "requested by x")
    assert line == "Now playing: evil title — Artist requested by x"


def test_long_lines_are_cut_to_400_with_an_ellipsis() -> None:
    line = chat_line("word " * 200)
    assert utf16_length(line) <= MAX_LINE
    assert line.endswith("word…")


def test_emoji_count_as_bots_count_them_and_are_never_split() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    line = chat_line(family * 100)
    assert utf16_length(line) <= MAX_LINE
    body = line.removesuffix("…")
    assert body == family * (len(body) // len(family))


def test_a_combining_mark_stays_with_its_letter() -> None:
    text = "x" + "e\u0301\u0328" * 300  # e with an acute and an ogonek: not one code point
    line = chat_line(text, limit=20)
    assert utf16_length(line) <= 20
    assert not line.removesuffix("…").endswith("e")


def test_track_label_bounds_each_part() -> None:
    label = track_label("t" * 500, ["a" * 300, "b"], limit=50)
    title, artists = label.split(" — ")
    assert len(title) <= 50
    assert len(artists) <= 50
    assert track_label("Solo", []) == "Solo"


def test_addressed() -> None:
    assert addressed("@CoolViewer", "couldn't find that song") == (
        "@CoolViewer, couldn't find that song"
    )
    assert addressed("", "couldn't find that song") == "couldn't find that song"
    assert addressed("\u202e" + "n" * 100, "hi").startswith("@" + "n" * 39 + "…,")
