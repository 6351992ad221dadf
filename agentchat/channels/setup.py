"""Starting and stopping the customer channels with the app."""

from fastapi import FastAPI

from agentchat.channels.outbound import ChannelSender
from agentchat.channels.webchat import start_webchat, stop_webchat
from agentchat.channels.webchat.limits import new_limit
from agentchat.channels.whatsapp import start_whatsapp, stop_whatsapp

# RequestPasswordReset is public and mails: at most this many requests per client IP in the window.
RESET_REQUESTS_PER_IP = 10
RESET_REQUESTS_WINDOW_SECONDS = 900


async def start_channels(app: FastAPI) -> dict[str, ChannelSender]:
    """Open what the channels need (HTTP clients, socket hubs); returns each channel's sender.

    With Redis as the broker, app.state.channel_redis is a client for what the instances keep together: the web
    chat's rate limits, WhatsApp's receipt notes. None with memory:// (one instance keeps them itself)."""
    settings = app.state.settings
    app.state.channel_redis = None
    if not settings.broker_url.startswith("memory://"):
        import redis.asyncio as redis

        app.state.channel_redis = redis.from_url(settings.broker_url)
    senders: dict[str, ChannelSender] = {}
    senders.update(await start_whatsapp(app))
    senders["WebChat"] = await start_webchat(app)
    # Not a channel's, but counted where the channels' limits are (Redis with several instances).
    app.state.reset_request_limit = new_limit(app.state.channel_redis, settings.redis_prefix, "reset_requests",
                                              RESET_REQUESTS_PER_IP, RESET_REQUESTS_WINDOW_SECONDS)
    return senders


async def stop_channels(app: FastAPI) -> None:
    await stop_whatsapp(app)
    await stop_webchat(app)
    client = getattr(app.state, "channel_redis", None)
    if client is not None:
        app.state.channel_redis = None
        await client.aclose()
