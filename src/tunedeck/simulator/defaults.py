"""The simulator's built-in demo app and users, with stable ids other code and tests may use."""

from __future__ import annotations

from tunedeck.simulator.specs import (
    AppConfig,
    DeviceConfig,
    PlaybackConfig,
    PlaylistConfig,
    UserConfig,
)

DEMO_CLIENT_ID = "tunedeck-demo"
DEMO_CLIENT_SECRET = "tunedeck-demo-secret"

DEMO_USER = "demo"
FREE_USER = "free"
CURATOR_USER = "curator"

DEMO_DESKTOP_ID = "d89c0f19f785650b208b647181167d4db1fd091c"
DEMO_PHONE_ID = "5884f603298e76b3f3351387ff2f7da4a06df065"
#: A restricted device: it is listed, but refuses every Web API command.
DEMO_SPEAKER_ID = "91760315e2ff473137c4bedfc6dc03870940d223"
FREE_LAPTOP_ID = "d37e593249ff0832e6afd5e9bd46ca04ed60d1da"
FREE_PHONE_ID = "eecd265fcbc5f3be902ba135b848429a0e4f2c9f"

DEMO_STREAM_PLAYLIST_ID = "en5Gm1iJFuXGSiFf3HOcpD"
DEMO_CHILL_PLAYLIST_ID = "qGseNKNt7Sfdibxkb7jXjG"
DEMO_HYPE_PLAYLIST_ID = "Zzot5JRjpQweKt77aEg22s"
FREE_FAVOURITES_PLAYLIST_ID = "rGVtuqqkdl14QLN40HBgAA"
#: Owned by the curator user and followed by demo and free: they cannot modify it.
CURATOR_TOP_PLAYLIST_ID = "1eI2IMpsAS7b9kEUnOBgOX"
CURATOR_LOFI_PLAYLIST_ID = "eHxU14gfz5IauzM3qSPKFr"


#: The redirect URIs of the demo app: TuneDeck's OAuth callback and a bare ``/callback``
#: (other clients, as the tests and benchmarks run them), on 127.0.0.1 and [::1], on
#: any port (registered without one, as Spotify allows for loopback addresses).
LOOPBACK_REDIRECT_URIS = tuple(
    f"http://{host}{path}"
    for host in ("127.0.0.1", "[::1]")
    for path in ("/v1/connections/spotify/callback", "/callback")
)


def default_apps() -> list[AppConfig]:
    """The demo app, redirecting to :data:`LOOPBACK_REDIRECT_URIS` only."""
    return [
        AppConfig(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            name="TuneDeck Demo",
            redirect_uris=list(LOOPBACK_REDIRECT_URIS),
        )
    ]


def default_users() -> list[UserConfig]:
    """``demo`` (premium, music playing), ``free`` (free, paused) and ``curator``."""
    demo = UserConfig(
        id=DEMO_USER,
        display_name="Demo Streamer",
        product="premium",
        email="demo@tunedeck.invalid",
        devices=[
            DeviceConfig(
                id=DEMO_DESKTOP_ID, name="Streaming PC", type="Computer", volume_percent=65
            ),
            DeviceConfig(id=DEMO_PHONE_ID, name="Demo Phone", type="Smartphone", volume_percent=80),
            DeviceConfig(
                id=DEMO_SPEAKER_ID,
                name="Living Room Speaker",
                type="Speaker",
                volume_percent=40,
                is_restricted=True,
                supports_volume=False,
            ),
        ],
        playlists=[
            PlaylistConfig(
                id=DEMO_STREAM_PLAYLIST_ID,
                name="Stream Vibes",
                description="Background music for the stream.",
                track_count=30,
            ),
            PlaylistConfig(
                id=DEMO_CHILL_PLAYLIST_ID,
                name="Chill Coding",
                description=None,
                public=False,
                track_count=25,
            ),
            PlaylistConfig(id=DEMO_HYPE_PLAYLIST_ID, name="Hype Mode", track_count=15),
        ],
        follows=[CURATOR_TOP_PLAYLIST_ID, CURATOR_LOFI_PLAYLIST_ID],
        playback=PlaybackConfig(
            device_id=DEMO_DESKTOP_ID,
            playlist_id=DEMO_STREAM_PLAYLIST_ID,
            offset=0,
            progress_ms=42_000,
            is_playing=True,
        ),
    )
    free = UserConfig(
        id=FREE_USER,
        display_name="Free Listener",
        product="free",
        email="free@tunedeck.invalid",
        devices=[
            DeviceConfig(id=FREE_LAPTOP_ID, name="Free Laptop", type="Computer", volume_percent=70),
            DeviceConfig(id=FREE_PHONE_ID, name="Free Phone", type="Smartphone", volume_percent=50),
        ],
        playlists=[
            PlaylistConfig(id=FREE_FAVOURITES_PLAYLIST_ID, name="Favourites", track_count=12)
        ],
        follows=[CURATOR_TOP_PLAYLIST_ID],
        playback=PlaybackConfig(
            device_id=FREE_LAPTOP_ID,
            playlist_id=FREE_FAVOURITES_PLAYLIST_ID,
            progress_ms=10_000,
            is_playing=False,
        ),
    )
    curator = UserConfig(
        id=CURATOR_USER,
        display_name="TuneDeck Curators",
        product="premium",
        playlists=[
            PlaylistConfig(
                id=CURATOR_TOP_PLAYLIST_ID,
                name="Top Picks",
                description="Hand-picked tracks, refreshed never.",
                track_count=50,
                followers=1234,
            ),
            PlaylistConfig(
                id=CURATOR_LOFI_PLAYLIST_ID,
                name="Lo-fi Focus",
                description="Beats to stream to.",
                track_count=40,
                followers=987,
            ),
        ],
    )
    return [demo, free, curator]
