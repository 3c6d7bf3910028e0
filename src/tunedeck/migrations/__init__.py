"""Alembic migrations (run on PostgreSQL and SQLite), shipped inside the package, and
``apply`` (bringing a database to a revision, as ``tunedeck migrate`` and start-up do).

``MODEL_MODULES`` lists every module defining tables: Alembic's autogenerate and
key rotation import them so ``Base.metadata`` knows every table. Add yours here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

MODEL_MODULES = (
    "tunedeck.accounts.models",
    "tunedeck.connections.models",
    "tunedeck.events.models",
    "tunedeck.history.models",
    "tunedeck.kit.leases",
    "tunedeck.player.models",
    "tunedeck.queue_page.models",
    "tunedeck.realtime.models",
    "tunedeck.requests.models",
    "tunedeck.setup.models",
)


def include_object_on(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Autogenerate's filter on ``dialect``: an index the models mark ``postgresql_only``
    (built with an extension's operator class) is no difference on other databases."""

    def include(item: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
        del name, reflected, other
        if kind == "index" and dialect != "postgresql":
            return not getattr(item, "info", {}).get("postgresql_only", False)
        return True

    return include


def import_models() -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
