"""AgentChat: a self-hosted implementation of the ChannelMobile AgentChat API."""

__version__ = "0.1.0"
