"""Routing: the queued chats of departments with RoutingEnabled go to their Online agents, least busy first.

Services ask for a routing pass with `route_after_commit(db, ...)` when something changes who is free or
what waits; the pass runs after the commit, in its own short transactions (see service.py).
"""

from agentchat.routing.triggers import route_after_commit

__all__ = ["route_after_commit"]
