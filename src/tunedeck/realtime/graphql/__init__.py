"""Realtime's part of ``/graphql``: the subscriptions (``subscriptions``) and the handler
of the WebSockets that carry them and every other operation (``sockets``)."""

from tunedeck.realtime.graphql.sockets import GraphQLSocket
from tunedeck.realtime.graphql.subscriptions import Subscription

__all__ = ["GraphQLSocket", "Subscription"]
