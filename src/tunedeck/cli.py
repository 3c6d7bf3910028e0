"""The ``tunedeck`` command: demo, serve, simulator and operator commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="tunedeck",
    help="TuneDeck: Spotify for live streamers (overlay, dashboard player, REST and GraphQL).",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def simulator(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    config: Annotated[
        Path | None, typer.Option(help="JSON file with extra apps, users and knobs.")
    ] = None,
) -> None:
    """Run the Spotify simulator alone (Web API under /v1, accounts service at /authorize)."""
    from tunedeck.simulator.server import serve

    serve(host=host, port=port, config_path=config)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
) -> None:
    """Start the demo with zero configuration."""
    from tunedeck.simulator.server import serve

    serve(host=host, port=port, config_path=None)


def main() -> None:
    app()
