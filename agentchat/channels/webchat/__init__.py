"""The web chat channel: a public page and visitor API, so customers can write without WhatsApp."""

from fastapi import FastAPI

from agentchat.channels.webchat.hub import LocalVisitorHub
from agentchat.channels.webchat.limits import Limit, new_limit
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
    client, prefix = app.state.channel_redis, app.state.settings.redis_prefix

    def limit(name: str, count: int, window_seconds: float) -> Limit:
        return new_limit(client, prefix, f"webchat_{name}", count, window_seconds)

    app.state.webchat_visitor_limit = limit("visitors", VISITORS_PER_IP, VISITORS_WINDOW_SECONDS)
    app.state.webchat_message_limit = limit("messages", MESSAGES_PER_VISITOR, MESSAGES_WINDOW_SECONDS)
    app.state.webchat_receipt_limit = limit("receipts", RECEIPTS_PER_VISITOR, RECEIPTS_WINDOW_SECONDS)
    await app.state.broker.follow_visitors(hub.deliver)
    return WebChatSender(app.state.broker, app.state.raw)


async def stop_webchat(app: FastAPI) -> None:
    hub = getattr(app.state, "webchat_hub", None)
    if hub is not None:
        await hub.close_all()
