"""A real TuneDeck server process with the test action door: ``python -m tests.events.server PORT``.

Settings come from the environment (``TUNEDECK_DATABASE_URL``, ``TUNEDECK_REDIS_URL``...),
as for ``tunedeck serve``. The kill -9 test answers an action here, kills this process,
and starts it again.
"""

from __future__ import annotations

import sys

import uvicorn

from tests.events.actions import with_actions
from tunedeck.app import create_app


def main() -> None:
    port = int(sys.argv[1])
    app = with_actions(create_app())
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
