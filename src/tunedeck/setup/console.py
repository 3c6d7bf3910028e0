"""What ``tunedeck serve`` prints for the streamer: the key file to back up (once, when
made), and once the server listens, the dashboard URL and, on a fresh database, the
one-time setup link.

These lines go to standard output directly, never through logging: the setup link's
code must not end up in a log file or a log collector.
"""

from __future__ import annotations

import os
from pathlib import Path

from tunedeck.setup.service import SETUP_PATH, FirstRun, setup_url

RULE = "=" * 72


def key_file_notice(path: Path) -> str:
    """The one line about the new encryption key file."""
    where = path.resolve()
    private = (
        "readable by your user only"
        if os.name == "posix"
        else "kept private by your user folder's permissions: keep the data folder there"
    )
    return (
        f"Created the encryption key file ({private}). Back up this file: {where} "
        "(without it, the Spotify connection and app secret stored by TuneDeck cannot be read)"
    )


def banner(first_run: FirstRun, public_url: str) -> str:
    """The lines printed once the server listens."""
    dashboard = public_url.rstrip("/") + "/"
    lines = [RULE, f"  TuneDeck is running. Dashboard: {dashboard}"]
    if first_run.stage == "open" and first_run.code is not None:
        expires = (
            first_run.expires_at.astimezone().strftime("%H:%M") if first_run.expires_at else ""
        )
        lines += [
            "",
            "  First time? Open this setup link in your browser (it works once,",
            f"  until {expires}; restart TuneDeck for a new one):",
            "",
            f"    {setup_url(public_url, first_run.code)}",
        ]
    elif first_run.stage == "started":
        lines += [
            "",
            f"  Setup is not finished: continue at {public_url.rstrip('/')}{SETUP_PATH}",
            "  (sign in with the admin key the setup page showed you).",
        ]
    lines.append(RULE)
    return "\n".join(lines)
