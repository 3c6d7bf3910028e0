"""TuneDeck: a self-hosted Spotify integration for live streamers."""

__version__ = "0.1.0"
