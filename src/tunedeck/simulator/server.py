"""Run the simulator on its own (``tunedeck simulator --port N``)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from tunedeck.simulator.app import create_simulator_app
from tunedeck.simulator.config import SimulatorConfig


def serve(host: str, port: int, config_path: Path | None) -> None:
    """Serve the simulator with uvicorn until interrupted."""
    config = SimulatorConfig.from_file(config_path) if config_path else SimulatorConfig()
    app = create_simulator_app(config)
    base = f"http://{host}:{port}"
    print(
        f"Spotify simulator listening on {base} (Web API: {base}/v1, accounts: {base})", flush=True
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
