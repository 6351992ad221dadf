"""Starting and stopping the customer channels with the app."""

from fastapi import FastAPI

from agentchat.channels.outbound import ChannelSender
from agentchat.channels.webchat import start_webchat, stop_webchat
from agentchat.channels.whatsapp import start_whatsapp, stop_whatsapp


async def start_channels(app: FastAPI) -> dict[str, ChannelSender]:
    """Open what the channels need (HTTP clients, socket hubs); returns each channel's sender."""
    senders: dict[str, ChannelSender] = {}
    senders.update(await start_whatsapp(app))
    senders["WebChat"] = await start_webchat(app)
    return senders


async def stop_channels(app: FastAPI) -> None:
    await stop_whatsapp(app)
    await stop_webchat(app)
