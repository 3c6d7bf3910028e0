"""The operator's side of a TuneDeck process: ``/metrics``, ``/healthz``, ``/readyz``.

Wired only by what assembles a process (``tunedeck.app``, the worker's command): it
reads the pieces the lifespan put on ``app.state`` (the worker's state alike) and the
domains' repositories; no domain imports it.
"""
