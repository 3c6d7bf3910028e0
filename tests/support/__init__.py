"""Shared test helpers: real servers on loopback, real PostgreSQL and Redis."""
