"""The operator's side of a TuneDeck process: ``/metrics``, ``/healthz``, ``/readyz``.

Wired only by what assembles a process (``tunedeck.app``, the worker's command): it
reads the process's runtime (``tunedeck.runtime``: the app's or the worker's) and the
domains' repositories; no domain imports it.
"""
