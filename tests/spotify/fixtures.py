"""Access to the captured Spotify responses in tests/fixtures/spotify (see its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "spotify"


def fixtures_dir() -> Path:
    """The fixtures directory; fails loudly when it is missing from the checkout."""
    if not FIXTURES_DIR.is_dir():
        raise AssertionError(f"Spotify fixtures not found at {FIXTURES_DIR}")
    return FIXTURES_DIR


def load(name: str) -> Any:
    """One fixture, decoded."""
    return json.loads((fixtures_dir() / name).read_text(encoding="utf-8"))
