"""The WhatsApp Cloud API channel: Meta's webhook in, the Graph API out."""

import httpx
from fastapi import FastAPI

from agentchat.channels.outbound import ChannelSender
from agentchat.channels.whatsapp.media import MediaFetcher
from agentchat.channels.whatsapp.outbound import GraphApi, WhatsAppSender
from agentchat.channels.whatsapp.receipts import Receipts, SharedNotes
from agentchat.channels.whatsapp.statuses import EarlyStatuses


async def start_whatsapp(app: FastAPI) -> dict[str, ChannelSender]:
    """Open the Graph API client when the channel is configured; returns {"WhatsApp": sender} or {}. Customers'
    files that an earlier run had not finished fetching are fetched again."""
    settings = app.state.settings
    app.state.whatsapp_graph = None
    app.state.whatsapp_receipts = None
    client = app.state.channel_redis
    app.state.whatsapp_early = EarlyStatuses(client, settings.redis_prefix)
    graph = None
    if settings.whatsapp_access_token and settings.whatsapp_phone_number_id:
        http = httpx.AsyncClient(timeout=httpx.Timeout(settings.whatsapp_timeout_seconds),
                                 limits=httpx.Limits(max_connections=20))
        graph = GraphApi(http, api_url=settings.whatsapp_api_url, access_token=settings.whatsapp_access_token,
                         phone_number_id=settings.whatsapp_phone_number_id,
                         attempts=settings.whatsapp_retry_attempts, base_delay=settings.whatsapp_retry_base_seconds)
    app.state.whatsapp_media = media = MediaFetcher(graph, app.state.sessionmaker, app.state.file_storage,
                                                    max_bytes=settings.max_file_bytes,
                                                    base_delay=settings.whatsapp_retry_base_seconds)
    await media.resume()
    if graph is None:
        return {}
    app.state.whatsapp_graph = graph
    shared = SharedNotes(client, settings.redis_prefix) if client is not None else None
    app.state.whatsapp_receipts = Receipts(graph, app.state.sessionmaker, shared)
    return {"WhatsApp": WhatsAppSender(graph, app.state.file_storage.read, sessionmaker=app.state.sessionmaker,
                                       early=app.state.whatsapp_early)}


async def stop_whatsapp(app: FastAPI) -> None:
    media: MediaFetcher | None = getattr(app.state, "whatsapp_media", None)
    if media is not None:
        await media.stop()
    graph: GraphApi | None = getattr(app.state, "whatsapp_graph", None)
    if graph is not None:
        app.state.whatsapp_receipts = None
        await graph.http.aclose()
        app.state.whatsapp_graph = None
