"""Real-time events: recorded on the session by services, published after commit, pushed to agent sockets."""

from agentchat.events.model import Event, Recorder, emit

__all__ = ["Event", "Recorder", "emit"]
