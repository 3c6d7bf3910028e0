"""Song requests in ``/graphql``: types (``types``), queries and mutations (``schema``),
merged into the player's schema; the ``requestsChanged`` subscription lives with the
other subscriptions (``realtime.graphql.subscriptions``)."""
