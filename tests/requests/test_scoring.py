"""The best of several search results: relevance, originals over other versions unless
asked for, popularity, the streamer's market and clean versions."""

from __future__ import annotations

import pytest

from tunedeck.requests.reasons import Reason, Refusal
from tunedeck.requests.scoring import THRESHOLD, choose, rank, split_title, version_kinds
from tunedeck.requests.text import fold
from tunedeck.spotify.models import Track

from .tracks import track

WEEKND = "The Weeknd"


def pick(query: str, results: list[Track], **options: object) -> Track | Refusal:
    return choose(fold(query), results, **options)  # type: ignore[arg-type]


def blinding_lights() -> dict[str, Track]:
    """What a search for "blinding lights" finds: the original among its versions."""
    return {
        "karaoke": track("Blinding Lights (Karaoke Version)", "Sing Along Stars", popularity=41),
        "original": track("Blinding Lights", WEEKND, popularity=90, album="After Hours"),
        "sped_up": track("Blinding Lights - Sped Up", WEEKND, popularity=92),
        "slowed": track("Blinding Lights (Slowed + Reverb)", "Slowed Dreams", popularity=70),
        "live": track("Blinding Lights - Live at the Rose Bowl", WEEKND, popularity=30),
        "remix": track("Blinding Lights - Chromatics Remix", WEEKND, "Chromatics", popularity=50),
        "famous": track(
            "Blinding Lights (Made Famous by The Weeknd)", "Karaoke Hits Band", popularity=20
        ),
        "nightcore": track("Blinding Lights", "Nightcore Nation", popularity=35),
        "cover": track("Blinding Lights", "The Cover Collective", popularity=33),
        "acoustic": track("Blinding Lights (Acoustic)", WEEKND, popularity=25),
        "eight_d": track("Blinding Lights (8D Audio)", "8D Tunes", popularity=15),
        "instrumental": track("Blinding Lights (Instrumental)", WEEKND, popularity=12),
    }


@pytest.mark.parametrize(
    "query",
    [
        "blinding lights",
        "Blinding Lights",
        "the weeknd - blinding lights",
        "blinding lights by the weeknd",
        "BLINDING LIGHTS THE WEEKND!!!",
        "blinding lihgts",
        "blinding lights please",
        "weeknd blinding",
    ],
)
def test_the_original_wins_over_every_version_not_asked_for(query: str) -> None:
    found = blinding_lights()
    assert pick(query, list(found.values())) == found["original"]


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("blinding lights live", "live"),
        ("blinding lights (live)", "live"),
        ("blinding lights sped up", "sped_up"),
        ("blinding lights speed up", "sped_up"),
        ("blinding lights slowed reverb", "slowed"),
        ("blinding lights remix", "remix"),
        ("blinding lights chromatics remix", "remix"),
        ("blinding lights acoustic", "acoustic"),
        ("blinding lights instrumental", "instrumental"),
        ("blinding lights 8d", "eight_d"),
        ("blinding lights karaoke", "karaoke"),
        ("blinding lights nightcore", "nightcore"),
        ("blinding lights cover", "cover"),
    ],
)
def test_a_version_asked_for_is_not_passed_over(query: str, kind: str) -> None:
    found = blinding_lights()
    assert pick(query, list(found.values())) == found[kind]


def test_a_title_that_says_live_does_not_ask_for_a_live_version() -> None:
    original = track("Live Forever", "Oasis", popularity=70)
    live = track("Live Forever - Live at Knebworth", "Oasis", popularity=75)
    assert pick("live forever", [live, original]) == original
    assert pick("oasis live forever live", [original, live]) == live


def test_remasters_radio_edits_and_features_are_originals() -> None:
    remaster = track("Bohemian Rhapsody - Remastered 2011", "Queen", popularity=88)
    live_aid = track("Bohemian Rhapsody - Live Aid", "Queen", popularity=89)
    assert pick("bohemian rhapsody", [live_aid, remaster]) == remaster
    edit = track("Titanium (feat. Sia) - Radio Edit", "David Guetta", "Sia", popularity=70)
    mix = track("Titanium (feat. Sia) - Extended Mix", "David Guetta", popularity=71)
    assert pick("titanium david guetta sia", [mix, edit]) == edit
    stay = track("STAY (with Justin Bieber)", "The Kid LAROI", "Justin Bieber", popularity=90)
    assert pick("stay feat justin bieber", [stay]) == stay
    assert pick("The Kid LAROI - Stay", [stay]) == stay


def test_accents_case_and_punctuation_do_not_matter() -> None:
    halo = track("Halo", "Beyoncé", popularity=80)
    other = track("Hello", "Adele", popularity=95)
    assert pick("beyonce halo", [other, halo]) == halo
    dont = track("Don't Stop Me Now - Remastered 2011", "Queen", popularity=85)
    assert pick("dont stop me now", [dont]) == dont
    assert pick("Don\u2019t stop me now!!", [dont]) == dont


def test_an_artist_alone_finds_their_most_popular_song() -> None:
    songs = [
        track("Save Your Tears", WEEKND, popularity=85),
        track("Blinding Lights", WEEKND, popularity=90),
        track("Something Else", "Someone Else", popularity=99),
    ]
    assert pick("the weeknd", songs) == songs[1]


def test_popularity_breaks_ties_and_spotifys_order_breaks_the_rest() -> None:
    single = track("Neon Harbor", "Nova Park", popularity=40, album="Neon Harbor")
    album = track("Neon Harbor", "Nova Park", popularity=60, album="Night Drives")
    assert pick("neon harbor", [single, album]) == album
    first = track("Neon Harbor", "Nova Park", popularity=None)
    second = track("Neon Harbor", "Nova Park", popularity=None)
    assert pick("neon harbor", [first, second]) == first


def test_more_relevant_beats_more_popular() -> None:
    exact = track("Neon Harbor", "Nova Park", popularity=10)
    partial = track("Neon Harbor Nights", "Nova Park", popularity=90)
    assert pick("nova park neon harbor", [partial, exact]) == exact


@pytest.mark.parametrize(
    "query",
    ["completely unrelated words", "neon harbor nova park", "zzz", "a the of"],
)
def test_nothing_matching_well_is_not_found(query: str) -> None:
    wrong_artist = track("Neon Harbor", "Other Band Entirely", popularity=90)
    unrelated = track("Something", "Someone", popularity=99)
    refused = pick(query, [wrong_artist, unrelated])
    assert isinstance(refused, Refusal)
    assert refused.code is Reason.NOT_FOUND
    assert refused.sentence == "couldn't find that song"


def test_no_results_is_not_found() -> None:
    refused = pick("anything", [])
    assert isinstance(refused, Refusal)
    assert refused.code is Reason.NOT_FOUND


def test_what_the_market_cannot_play_is_passed_over() -> None:
    deluxe = track("Neon Harbor", "Nova Park", popularity=70, playable=False, album="Deluxe")
    original = track("Neon Harbor", "Nova Park", popularity=60)
    assert pick("neon harbor", [deluxe, original]) == original


def test_another_song_does_not_stand_in_for_one_the_market_cannot_play() -> None:
    locked = track("Neon Harbor", "Nova Park", popularity=70, playable=False)
    longer = track("Neon Harbor Nights", "Nova Park", popularity=90)
    refused = pick("neon harbor", [longer, locked])
    assert isinstance(refused, Refusal)
    assert refused.code is Reason.NOT_AVAILABLE
    # Songs matching just as well do stand in for each other (an artist asked for).
    first = track("Save Your Tears", WEEKND, popularity=95, playable=False)
    second = track("Blinding Lights", WEEKND, popularity=90)
    assert pick("the weeknd", [first, second]) == second


def test_nothing_playable_is_not_available_even_with_a_karaoke_version_that_plays() -> None:
    original = track("Sakura Postcard", "Maya Hale", popularity=60, playable=False)
    karaoke = track("Sakura Postcard (Karaoke Version)", "Sing Along Stars", popularity=20)
    refused = pick("sakura postcard", [original, karaoke])
    assert isinstance(refused, Refusal)
    assert refused.code is Reason.NOT_AVAILABLE
    assert refused.sentence == "that song isn't available in the streamer's country"


def test_available_markets_decide_when_spotify_did_not_say_playable() -> None:
    here = track("Neon Harbor", "Nova Park", playable=None)
    there = track("Neon Harbor", "Nova Park", playable=None, popularity=90)
    there = there.model_copy(update={"available_markets": ["JP"]})
    here = here.model_copy(update={"available_markets": ["US", "CA"]})
    assert pick("neon harbor", [there, here], country="US") == here
    assert pick("neon harbor", [there, here]) == there  # not knowing the country


def test_only_versions_found_gives_the_best_version() -> None:
    live = track("Neon Harbor (Live)", "Nova Park", popularity=30)
    karaoke = track("Neon Harbor (Karaoke Version)", "Sing Along Stars", popularity=50)
    assert pick("neon harbor", [live, karaoke]) == karaoke  # the more popular
    assert [found.track for found in rank(fold("neon harbor"), [live, karaoke])] == [karaoke, live]


def test_local_files_are_never_chosen() -> None:
    local = track("Neon Harbor", "Nova Park", local=True, playable=None, popularity=None)
    refused = pick("neon harbor", [local])
    assert isinstance(refused, Refusal)
    assert refused.code is Reason.NOT_FOUND


def test_a_clean_version_is_preferred_when_explicit_songs_are_off() -> None:
    explicit = track("Neon Harbor", "Nova Park", explicit=True, popularity=80)
    clean = track("Neon Harbor", "Nova Park", popularity=50)
    other = track("Neon Harbor (Live)", "Nova Park", popularity=10)
    assert pick("neon harbor", [explicit, clean, other]) == explicit
    assert pick("neon harbor", [explicit, clean, other], allow_explicit=False) == clean
    # No clean version: the explicit one, for the rules to refuse with their reason.
    assert pick("neon harbor", [explicit, other], allow_explicit=False) == explicit
    unplayable_clean = clean.model_copy(update={"is_playable": False})
    assert pick("neon harbor", [explicit, unplayable_clean], allow_explicit=False) == explicit


def test_hostile_queries_are_scored_without_error() -> None:
    results = list(blinding_lights().values())
    for query in ("x " * 500, "<script>alert(1)</script>", "\u202e" * 50, "é" * 200):
        assert isinstance(pick(query, results), Track | Refusal)


@pytest.mark.parametrize(
    ("title", "core", "decorations"),
    [
        ("Song", "Song", []),
        ("Song (Live)", "Song", ["Live"]),
        ("Song - Live at Wembley", "Song", ["Live at Wembley"]),
        ("Song (feat. X) - Remix", "Song", ["feat. X", "Remix"]),
        ("Song (In the Style of X) [Karaoke]", "Song", ["In the Style of X", "Karaoke"]),
        ("Rock-a-bye", "Rock-a-bye", []),
        ("(Untitled)", "(Untitled)", ["Untitled"]),
        ("- Song", "- Song", []),
    ],
)
def test_split_title(title: str, core: str, decorations: list[str]) -> None:
    assert split_title(title) == (core, decorations)


def test_version_kinds() -> None:
    found = blinding_lights()
    assert version_kinds(found["original"]) == frozenset()
    assert version_kinds(found["famous"]) == {"karaoke"}
    assert version_kinds(found["nightcore"]) == {"nightcore"}
    assert version_kinds(found["cover"]) == {"cover"}
    assert version_kinds(found["slowed"]) == {"slowed"}
    assert version_kinds(track("Song - Radio Mix", "A")) == frozenset()
    assert version_kinds(track("Live Wire", "Band")) == frozenset()
    assert version_kinds(track("Song", "Live")) == frozenset()
    assert version_kinds(track("Song", "Band", album="Karaoke Hits Vol. 3")) == {"karaoke"}


def test_the_threshold_is_what_the_docs_say() -> None:
    assert THRESHOLD == 0.6
    original = track("Neon Harbor", "Nova Park")
    best = rank("neon harbor", [original])[0]
    assert (best.relevance, best.coverage) == (1.0, 1.0)
