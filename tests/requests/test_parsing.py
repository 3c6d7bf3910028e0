"""What a viewer typed after !sr: a track link or URI, search text, or a refusal with a
reason; every input gets an answer, hostile ones included."""

from __future__ import annotations

import pytest

from tunedeck.requests.parsing import (
    MAX_INPUT_CHARS,
    MAX_QUERY_CHARS,
    SearchText,
    TrackLink,
    parse_request,
)
from tunedeck.requests.reasons import SENTENCES, Reason, Refusal

ID = "4cOdK2wGLETKBW3PvgPWqT"
TRACK = TrackLink(ID)


@pytest.mark.parametrize(
    "typed",
    [
        f"https://open.spotify.com/track/{ID}",
        f"https://open.spotify.com/track/{ID}?si=1a2b3c4d5e6f7a8b",
        f"https://open.spotify.com/track/{ID}?si=abc&utm_source=copy-link&nd=1&dlsi=x",
        f"https://open.spotify.com/track/{ID}#fragment",
        f"https://open.spotify.com/track/{ID}/",
        f"https://open.spotify.com/intl-de/track/{ID}?si=x",
        f"https://open.spotify.com/intl-pt-BR/track/{ID}",
        f"https://open.spotify.com/embed/track/{ID}?utm_source=generator",
        f"http://open.spotify.com/track/{ID}",
        f"HTTPS://OPEN.SPOTIFY.COM/TRACK/{ID}",
        f"https://open.spotify.com:443/track/{ID}",
        f"https://open.spotify.com./track/{ID}",
        f"https://play.spotify.com/track/{ID}",
        f"open.spotify.com/track/{ID}",
        f"open.spotify.com/intl-fr/track/{ID}?si=abc",
        f"spotify:track:{ID}",
        f"Spotify:Track:{ID}",
        f"  spotify:track:{ID}  ",
        f"play this please https://open.spotify.com/track/{ID}?si=x thanks!",
        f"(https://open.spotify.com/track/{ID})",
        f"<https://open.spotify.com/track/{ID}>",
        f"“https://open.spotify.com/track/{ID}”.",
        f"\u202ehttps://open.spotify.com/track/{ID}\u202c",
        f"https://open.spotify.com/track/{ID}\x00",
    ],
)
def test_track_links_and_uris(typed: str) -> None:
    assert parse_request(typed) == TRACK


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        (f"https://open.spotify.com/album/{ID}", Reason.ALBUM_LINK),
        (f"https://open.spotify.com/intl-de/album/{ID}?si=x", Reason.ALBUM_LINK),
        (f"spotify:album:{ID}", Reason.ALBUM_LINK),
        (f"https://open.spotify.com/playlist/{ID}?si=x", Reason.PLAYLIST_LINK),
        (f"spotify:playlist:{ID}", Reason.PLAYLIST_LINK),
        (f"https://open.spotify.com/user/someone/playlist/{ID}", Reason.PLAYLIST_LINK),
        (f"spotify:user:someone:playlist:{ID}", Reason.PLAYLIST_LINK),
        (f"https://open.spotify.com/artist/{ID}", Reason.ARTIST_LINK),
        (f"spotify:artist:{ID}", Reason.ARTIST_LINK),
        (f"https://open.spotify.com/episode/{ID}", Reason.PODCAST),
        (f"https://open.spotify.com/embed-podcast/episode/{ID}", Reason.PODCAST),
        (f"spotify:episode:{ID}", Reason.PODCAST),
        (f"https://open.spotify.com/show/{ID}", Reason.PODCAST),
        (f"spotify:show:{ID}", Reason.PODCAST),
        (f"https://open.spotify.com/audiobook/{ID}", Reason.NOT_A_TRACK),
        ("spotify:local:Artist:Album:Title:200", Reason.NOT_A_TRACK),
        ("https://open.spotify.com/", Reason.NOT_A_TRACK),
        ("https://open.spotify.com/user/someone", Reason.NOT_A_TRACK),
        ("https://www.spotify.com/us/premium/", Reason.NOT_A_TRACK),
        ("spotify:user:someone", Reason.NOT_A_TRACK),
        ("spotify:track", Reason.BAD_LINK),
        ("https://spotify.link/AbCdEfGh", Reason.SHORT_LINK),
        ("spotify.link/AbCdEfGh", Reason.SHORT_LINK),
        ("https://spotify.app.link/AbCdEfGh?_p=x", Reason.SHORT_LINK),
        ("https://open.spotify.com/track/abc", Reason.BAD_LINK),
        (f"https://open.spotify.com/track/{ID[:-1]}", Reason.BAD_LINK),
        (f"https://open.spotify.com/track/{ID}x", Reason.BAD_LINK),
        ("https://open.spotify.com/track/", Reason.BAD_LINK),
        ("spotify:track:", Reason.BAD_LINK),
        ("spotify:track:not-an-id-at-all-really!", Reason.BAD_LINK),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", Reason.OTHER_SITE),
        ("https://youtu.be/dQw4w9WgXcQ", Reason.OTHER_SITE),
        ("youtu.be/dQw4w9WgXcQ", Reason.OTHER_SITE),
        ("youtube.com", Reason.OTHER_SITE),
        ("https://soundcloud.com/artist/track", Reason.OTHER_SITE),
        ("https://music.apple.com/us/album/x/1?i=2", Reason.OTHER_SITE),
        ("www.example.com", Reason.OTHER_SITE),
        ("example.org/some/path", Reason.OTHER_SITE),
        ("ftp://open.spotify.com/track/x", Reason.OTHER_SITE),
        ("javascript://alert(1)", Reason.OTHER_SITE),
        (f"https://open.spotify.com.evil.example/track/{ID}", Reason.OTHER_SITE),
        (f"https://evil.example/open.spotify.com/track/{ID}", Reason.OTHER_SITE),
        (f"https://open.spotify.com@evil.example/track/{ID}", Reason.OTHER_SITE),
        (f"https://open.spotify.com\u2024evil/track/{ID}", Reason.OTHER_SITE),
        ("https://[::1", Reason.OTHER_SITE),
        ("Never Gonna Give You Up https://youtu.be/dQw4w9WgXcQ", Reason.OTHER_SITE),
        ("", Reason.EMPTY),
        ("   ", Reason.EMPTY),
        ("\x00\x00", Reason.EMPTY),
        ("\ud800", Reason.EMPTY),
        ("\u202e\u202d\u2066", Reason.EMPTY),
        ("???!!!", Reason.EMPTY),
        (" - ", Reason.EMPTY),
        ("x" * (MAX_QUERY_CHARS + 1), Reason.TOO_LONG),
        ("word " * 100, Reason.TOO_LONG),
        ("x" * 10_000, Reason.TOO_LONG),
        ("\x00" * 10_000, Reason.TOO_LONG),
    ],
)
def test_refusals(typed: str, reason: Reason) -> None:
    refused = parse_request(typed)
    assert isinstance(refused, Refusal)
    assert refused.code is reason
    assert refused.sentence.startswith(SENTENCES[reason].split("{")[0])


@pytest.mark.parametrize(
    ("typed", "text", "folded"),
    [
        ("Neon Harbor", "Neon Harbor", "neon harbor"),
        ("  nova park -  neon harbor ", "nova park - neon harbor", "nova park neon harbor"),
        ("Mr. Brightside", "Mr. Brightside", "mr brightside"),
        ("AC/DC - Thunderstruck", "AC/DC - Thunderstruck", "ac dc thunderstruck"),
        ("will.i.am", "will.i.am", "will i am"),
        ("Beyoncé — Halo", "Beyoncé — Halo", "beyonce halo"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>", "script alert 1 script"),
        ("<b>bold</b> &amp;", "<b>bold</b> &amp;", "b bold b and amp"),
        ("Zer\u200bo\u202e Width", "Zero Width", "zero width"),
        ("tab\there\nnewline", "tab here newline", "tab here newline"),
        ("spotify is great", "spotify is great", "spotify is great"),
        ("x" * MAX_QUERY_CHARS, "x" * MAX_QUERY_CHARS, "x" * MAX_QUERY_CHARS),
    ],
)
def test_search_text(typed: str, text: str, folded: str) -> None:
    assert parse_request(typed) == SearchText(text, folded)


def test_the_length_limit_counts_what_is_left_after_cleaning() -> None:
    padded = "\u200b" * 500 + "Neon Harbor"
    assert parse_request(padded) == SearchText("Neon Harbor", "neon harbor")
    assert isinstance(parse_request("\u200b" * (MAX_INPUT_CHARS + 1)), Refusal)


def test_a_long_link_is_still_a_link() -> None:
    long_link = f"https://open.spotify.com/track/{ID}?si={'a' * 150}&context={'b' * 100}"
    assert len(long_link) > MAX_QUERY_CHARS
    assert parse_request(long_link) == TRACK


def test_the_first_link_decides() -> None:
    album_then_track = f"spotify:album:{ID} spotify:track:{ID}"
    refused = parse_request(album_then_track)
    assert isinstance(refused, Refusal)
    assert refused.code is Reason.ALBUM_LINK
    assert parse_request(f"spotify:track:{ID} spotify:album:{ID}") == TRACK
