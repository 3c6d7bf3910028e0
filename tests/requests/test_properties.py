"""Properties over any text at all (hypothesis): parsing, cleaning, cutting and reading a
bot's headers never fail, and what they let through is inert."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from tunedeck.requests.answers import chat_line
from tunedeck.requests.parsing import MAX_QUERY_CHARS, SearchText, TrackLink, parse_request
from tunedeck.requests.reasons import SENTENCES, Refusal
from tunedeck.requests.text import boundaries, clean, cut, utf16_length
from tunedeck.requests.viewers import identify

# Any code point, surrogates included, with the troublesome ones made likely.
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec=None),
        st.sampled_from("\x00\n\r\t\u202e\u2066\u200b\u200d\ufeff\ud800\udfff\u0301:/."),
    ),
    max_size=400,
)
INERT = ("Cc", "Cs")


def inert(text: str) -> bool:
    """No control character, lone surrogate or invisible format character but joiners."""
    return all(
        unicodedata.category(c) not in INERT
        and (unicodedata.category(c) != "Cf" or c in "\u200c\u200d")
        for c in text
    )


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_parsing_answers_anything(raw: str) -> None:
    parsed = parse_request(raw)
    assert isinstance(parsed, TrackLink | SearchText | Refusal)
    if isinstance(parsed, SearchText):
        assert parsed.text
        assert parsed.folded
        assert len(parsed.text) <= MAX_QUERY_CHARS
        assert inert(parsed.text)
    if isinstance(parsed, Refusal):
        assert parsed.code in SENTENCES


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, st.integers(min_value=1, max_value=120))
def test_cut_lines_are_inert_bounded_and_end_between_clusters(raw: str, limit: int) -> None:
    line = chat_line(raw, limit=limit)
    assert utf16_length(line) <= limit
    assert inert(line)
    assert "\n" not in line
    cleaned = clean(raw)
    body = line.removesuffix("…")
    if line != cleaned:
        assert cleaned.startswith(body.rstrip())
        assert len(body.rstrip()) in boundaries(cleaned) or not body


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_cut_of_clean_text_within_the_limit_is_the_text(raw: str) -> None:
    cleaned = clean(raw)
    assert cut(cleaned, max(1, utf16_length(cleaned))) == cleaned


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["Nightbot-User", "Nightbot-Channel"]), ANY_TEXT),
    st.dictionaries(
        st.sampled_from(["user", "name", "id", "role", "level", "mod", "platform"]), ANY_TEXT
    ),
    st.booleans(),
)
def test_any_bot_headers_and_query_identify_or_not(
    headers: dict[str, str], query: dict[str, str], trust: bool
) -> None:
    viewer = identify(headers, query, trust_roles=trust)
    if viewer is not None:
        assert inert(viewer.display_name)
        assert utf16_length(viewer.display_name) <= 64
        assert viewer.display_name or viewer.id
        assert trust or viewer.role == "regular"
