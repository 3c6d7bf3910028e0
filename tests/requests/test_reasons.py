"""The fixed list of reasons and their sentences."""

from __future__ import annotations

import pytest

from tunedeck.requests.reasons import SENTENCES, Reason, Refusal, fields_of, refuse


def test_every_reason_has_a_sentence_a_viewer_can_read() -> None:
    assert set(SENTENCES) == set(Reason)
    for reason, sentence in SENTENCES.items():
        assert sentence == sentence.strip()
        assert not sentence.endswith(".")
        assert len(sentence) <= 120, reason
        assert reason.value == reason.value.lower()


def test_refuse_fills_the_sentence() -> None:
    assert refuse(Reason.COOLDOWN, wait="1:30") == Refusal(
        Reason.COOLDOWN, "wait 1:30 before your next request"
    )
    assert refuse(Reason.ALBUM_LINK).sentence == "that's an album link — send a track"
    assert fields_of(Reason.TOO_MANY_WAITING) == {"waiting", "limit"}


def test_refuse_wants_exactly_the_fields_of_the_sentence() -> None:
    with pytest.raises(ValueError, match="needs"):
        refuse(Reason.COOLDOWN)
    with pytest.raises(ValueError, match="needs"):
        refuse(Reason.EMPTY, extra="x")


def test_codes_are_stable_strings() -> None:
    assert Reason("not_found") is Reason.NOT_FOUND
    assert str(Reason.NOT_AVAILABLE) == "not_available"
