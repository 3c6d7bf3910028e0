"""Alembic migrations (run on PostgreSQL and SQLite), shipped inside the package, and
``apply`` (bringing a database to a revision, as ``tunedeck migrate`` and start-up do).

``MODEL_MODULES`` lists every module defining tables: Alembic's autogenerate and
key rotation import them so ``Base.metadata`` knows every table. Add yours here.
"""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "tunedeck.accounts.models",
    "tunedeck.connections.models",
    "tunedeck.events.models",
    "tunedeck.history.models",
    "tunedeck.kit.leases",
    "tunedeck.player.models",
    "tunedeck.realtime.models",
    "tunedeck.requests.models",
)


def import_models() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
