"""Tests of the Spotify simulator (tunedeck.simulator), over real HTTP on loopback."""
