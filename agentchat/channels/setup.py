"""Starting and stopping the customer channels with the app."""

from fastapi import FastAPI

from agentchat.channels.outbound import ChannelSender


async def start_channels(app: FastAPI) -> dict[str, ChannelSender]:
    """Open what the channels need (HTTP clients, socket hubs); returns each channel's sender."""
    return {}


async def stop_channels(app: FastAPI) -> None:
    return None
