"""Playback events: recorded durably with the action, relayed to the store and the live bus.

Flow: ``recorder.record_event`` adds an outbox row to the request's session (committed
before the caller is answered); ``relay.EventRelay`` moves outbox rows into
``platform_events`` and publishes them on the account's channel (``bus``);
``service.list_events`` reads them back (through ``player.reads.list_events``, which
both doors call).
"""
