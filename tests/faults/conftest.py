"""Fault fixtures: the simulator, a PostgreSQL server of the test's own, the backends."""

from __future__ import annotations

from tests.kit import storage
from tests.support import app as app_fixtures
from tests.support import postgres_server, simulator

database_url = storage.database_url
database = storage.database
fresh_database_url = storage.fresh_database_url
bus_url = app_fixtures.bus_url
sim_server = simulator.sim_server
sim = simulator.sim
own_postgres = postgres_server.own_postgres
