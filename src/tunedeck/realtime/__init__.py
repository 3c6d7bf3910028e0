"""Real time: who is watching, polling Spotify for them, and pushing what changed.

- ``messages``: the shapes of everything sent on an account's live channel;
- ``watch``: the watched registry (live clients in any process, manual-connect windows,
  requests on their way, open streams);
- ``poller``: polls each watched account (one process per account, through leases);
- ``hub``: this process's one bus subscription fanned out to its live connections;
- ``live``: what every live client goes through (its stream: the opening, then its
  channel's messages), whatever door carries it;
- ``feed``: ``GET /v1/spotify/live`` (WebSocket and Server-Sent Events);
- ``lean_ws``: the WebSocket protocol that holds a feed connection once it is open;
- ``graphql``: the GraphQL subscriptions, from the same hub.

Arrows point into realtime, never out of it: player, events and accounts do not import it.
"""
