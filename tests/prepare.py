"""Before the suite (``make test``): make sure the browser the UI tests drive is installed.

Debian's Chromium when present, else Playwright's own (fetched with ``python -m playwright
install chromium``), else ``apt-get install chromium`` when running as root: see
``tests/support/browser.py``. Finding none never fails this step; the browser tests then
skip with a line saying how to install one (and fail under ``CI=true``).
"""

from __future__ import annotations

import sys

if not __package__:  # run as a script (python tests/prepare.py): import from the checkout
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.browser import INSTALL_HINT, install_chromium


def main() -> None:
    chromium = install_chromium()
    if chromium is None:
        print(f"prepare: {INSTALL_HINT}", file=sys.stderr)
    else:
        print(f"prepare: browser tests drive {chromium}")


if __name__ == "__main__":
    main()
