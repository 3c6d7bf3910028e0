"""Playback events: recorded durably with the action, relayed to the store and the live bus.

The path of an event: an operation records it in its unit of work
(``recorder.record_event(work, ...)``: an outbox row), the unit of work commits it before
the caller is answered and wakes the outbox (``kit.unit_of_work``), the outbox wakes the
relay (``relay.EventRelay``), whose pass (``drain.drain``) stores it in
``platform_events`` and publishes it on the account's channel (``bus``);
``service.list_events`` reads it back (through ``player.reads.list_events``, which both
doors call).

A new kind of event is a member of ``types.EventType`` (its params' shape in
``schemas``), recorded by the operation that causes it with ``record_event``: the path
above is the same for every event. A new kind of live message, not stored, is published
on the bus by whoever produces it (``bus.EventBus.publish``).
"""
