"""The web chat channel: a public page and visitor API, so customers can write without WhatsApp."""

from fastapi import FastAPI

from agentchat.channels.webchat.hub import LocalVisitorHub
from agentchat.channels.webchat.limits import Limit, SharedSlidingWindowLimit, SlidingWindowLimit
from agentchat.channels.webchat.sender import WebChatSender

# Public endpoints, so counted per client: new visitors per IP address, messages per visitor.
VISITORS_PER_IP = 20
VISITORS_WINDOW_SECONDS = 600
MESSAGES_PER_VISITOR = 60
MESSAGES_WINDOW_SECONDS = 60
# Received/Read acknowledgements per visitor (each is one small UPDATE); over it they are dropped.
RECEIPTS_PER_VISITOR = 300
RECEIPTS_WINDOW_SECONDS = 60


async def start_webchat(app: FastAPI) -> WebChatSender:
    """The hub of visitor sockets and the limits live on app.state; returns the channel's sender.

    The hub follows the broker's visitor channel, so pushes made on any instance reach its sockets. With Redis as
    the broker the limits are counted there, for all instances together (limits.py)."""
    hub = app.state.webchat_hub = LocalVisitorHub()
    settings = app.state.settings
    limits = {"visitors": (VISITORS_PER_IP, VISITORS_WINDOW_SECONDS),
              "messages": (MESSAGES_PER_VISITOR, MESSAGES_WINDOW_SECONDS),
              "receipts": (RECEIPTS_PER_VISITOR, RECEIPTS_WINDOW_SECONDS)}
    client = app.state.channel_redis
    made: dict[str, Limit]
    if client is None:
        made = {name: SlidingWindowLimit(limit, window) for name, (limit, window) in limits.items()}
    else:
        made = {name: SharedSlidingWindowLimit(client, f"webchat_{name}", limit, window, prefix=settings.redis_prefix)
                for name, (limit, window) in limits.items()}
    app.state.webchat_visitor_limit = made["visitors"]
    app.state.webchat_message_limit = made["messages"]
    app.state.webchat_receipt_limit = made["receipts"]
    await app.state.broker.follow_visitors(hub.deliver)
    return WebChatSender(app.state.broker, app.state.raw)


async def stop_webchat(app: FastAPI) -> None:
    hub = getattr(app.state, "webchat_hub", None)
    if hub is not None:
        await hub.close_all()
