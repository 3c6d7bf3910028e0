"""Access to the captured Spotify responses in ../shared/spotify-fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared"
FIXTURES_DIR = SHARED_DIR / "spotify-fixtures"


def fixtures_dir() -> Path:
    """The fixtures directory; fails loudly when the shared material is missing."""
    if not FIXTURES_DIR.is_dir():
        raise AssertionError(
            f"Spotify fixtures not found at {FIXTURES_DIR}: the shared/ directory must sit "
            "beside the repository"
        )
    return FIXTURES_DIR


def load(name: str) -> Any:
    """One fixture, decoded."""
    return json.loads((fixtures_dir() / name).read_text(encoding="utf-8"))
