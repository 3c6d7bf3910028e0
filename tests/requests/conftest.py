"""The Spotify simulator on loopback and clients of it (the Spotify client tests'
fixtures), for matching song requests against Spotify over real HTTP."""

from __future__ import annotations

from tests.spotify.conftest import (
    http,
    make_client,
    oauth,
    quirks,
    sim,
    simulator_url,
)

__all__ = ["http", "make_client", "oauth", "quirks", "sim", "simulator_url"]
