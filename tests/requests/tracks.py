"""Spotify track models as a search answers them, for scoring tests."""

from __future__ import annotations

from itertools import count

from tunedeck.spotify.models import AlbumRef, ArtistRef, LinkedTrack, Track

_ids = count(1)


def track(
    name: str,
    *artists: str,
    popularity: int | None = 50,
    explicit: bool = False,
    playable: bool | None = True,
    album: str | None = None,
    local: bool = False,
    duration_ms: int = 200_000,
    linked_from: str | None = None,
) -> Track:
    """A track of ``artists`` (each gets a stable made-up id from its name)."""
    number = next(_ids)
    ident = f"{number:022d}"
    credited = [
        ArtistRef(id=_artist_id(a), name=a, uri=f"spotify:artist:{_artist_id(a)}") for a in artists
    ]
    return Track(
        id=None if local else ident,
        name=name,
        uri=f"spotify:local:a:b:{name}:200" if local else f"spotify:track:{ident}",
        duration_ms=duration_ms,
        artists=credited,
        album=AlbumRef(name=album or name),
        explicit=explicit,
        is_local=local,
        is_playable=playable,
        popularity=popularity,
        linked_from=LinkedTrack(uri=linked_from) if linked_from else None,
    )


def _artist_id(name: str) -> str:
    digits = "".join(str(ord(c) % 10) for c in name)
    return (digits + "0" * 22)[:22]
