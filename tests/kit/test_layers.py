"""Layers point one way: kit knows nothing above it (no domain, not the migrations: only
itself and the configuration), migrations run no live code, and a door
(REST, GraphQL, command line) is imported only by what assembles the application, or by
another domain's door of the same kind (one GraphQL schema is built from each domain's
part: realtime's subscriptions use the player's GraphQL context and types)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import tunedeck

PACKAGE = Path(tunedeck.__file__).parent
DOORS = frozenset({"rest", "graphql", "cli"})
# What assembles the application: the app factory, the command line, a domain's installer.
COMPOSITION = frozenset({"tunedeck.app", "tunedeck.cli"})
# All that kit may import of TuneDeck: itself, and the configuration below it.
KIT_MAY_IMPORT = ("tunedeck.kit", "tunedeck.config")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> set[str]:
    """Every module (or module attribute) the file imports, absolute."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, packages: tuple[str, ...]) -> bool:
    """Whether ``name`` is one of ``packages`` or inside one."""
    return any(name == package or name.startswith(f"{package}.") for package in packages)


def door_kind(door: str) -> str:
    return door.rsplit(".", 1)[1]


def door_of(name: str) -> str | None:
    """``tunedeck.<domain>.<door>`` when ``name`` is (inside) a door module, else None."""
    parts = name.split(".")
    if len(parts) >= 3 and parts[0] == "tunedeck" and parts[2] in DOORS:
        return ".".join(parts[:3])
    return None


def test_kit_imports_no_domain() -> None:
    """Importing every kit module in a fresh interpreter loads nothing outside kit and the
    configuration; key rotation finds no table until the caller imports the models."""
    script = """
import importlib, json, pkgutil, sys
import tunedeck.kit
for info in pkgutil.iter_modules(tunedeck.kit.__path__):
    importlib.import_module(f"tunedeck.kit.{info.name}")
loaded = sorted(n for n in sys.modules if n.startswith("tunedeck"))
from tunedeck.kit.rotation import encrypted_columns
try:
    encrypted_columns()
    rotation = "found tables"
except RuntimeError as exc:
    rotation = str(exc)
print(json.dumps({"loaded": loaded, "rotation": rotation}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    report = json.loads(done.stdout)
    outside = [
        name for name in report["loaded"] if name != "tunedeck" and not within(name, KIT_MAY_IMPORT)
    ]
    assert outside == []
    assert "tunedeck.kit.rotation" in report["loaded"]
    assert "import the models first" in report["rotation"]


def test_kit_imports_nothing_above_it() -> None:
    """Read from the source, imports inside functions too: no kit module names a domain,
    the migrations or what assembles the application."""
    kit = sorted((PACKAGE / "kit").rglob("*.py"))
    assert len(kit) >= 10
    above = {
        module_name(path): sorted(
            name
            for name in imported_names(path)
            if name.split(".")[0] == "tunedeck"
            and name != "tunedeck"
            and not within(name, KIT_MAY_IMPORT)
        )
        for path in kit
    }
    assert {module: names for module, names in above.items() if names} == {}


def test_migrations_import_no_live_code() -> None:
    revisions = sorted((PACKAGE / "migrations" / "versions").glob("*.py"))
    assert len(revisions) >= 3
    live = {
        path.name: sorted(n for n in imported_names(path) if n.split(".")[0] == "tunedeck")
        for path in revisions
    }
    assert {name: found for name, found in live.items() if found} == {}


def test_doors_are_imported_only_where_the_app_is_assembled() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        parts = module.split(".")
        if module in COMPOSITION or (len(parts) == 3 and parts[2] == "app"):
            continue
        own_door = door_of(module)
        for name in imported_names(path):
            door = door_of(name)
            if door is None or door == own_door:
                continue
            if own_door is not None and door_kind(door) == door_kind(own_door):
                continue
            offenders.append(f"{module} imports {door}")
    assert sorted(set(offenders)) == []


def test_arrows_point_down_into_realtime() -> None:
    """player and events are realtime's inputs: neither imports it, nor the runtime that
    assembles them all (each domain reads the runtime through its own view of it)."""
    upward = ("tunedeck.realtime", "tunedeck.runtime")
    offenders = {
        module_name(path): sorted(n for n in imported_names(path) if within(n, upward))
        for domain in ("player", "events")
        for path in sorted((PACKAGE / domain).rglob("*.py"))
    }
    assert {module: names for module, names in offenders.items() if names} == {}
