"""A small synchronous client for the agent WebSocket, for tests."""

import json
import time
from collections.abc import Callable

from websockets.sync.client import connect


class AgentSocket:
    def __init__(self, server, token: str, last_event_id: int | None = None):
        # `server` is anything with a base_url: the in-process test server or another instance.
        url = server.base_url.replace("http://", "ws://") + f"/ws?SessionToken={token}"
        if last_event_id is not None:
            url += f"&LastEventID={last_event_id}"
        self.ws = connect(url, open_timeout=10, compression=None).__enter__()
        self.connected = self.next()
        assert self.connected["Type"] == "Connected", self.connected

    def next(self, timeout: float = 5) -> dict:
        return json.loads(self.ws.recv(timeout=timeout))

    def wait_for(self, event_type: str, timeout: float = 5, **data) -> dict:
        """The next event of this type (whose Data has the given values), skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event_type} event within {timeout}s")
            event = self.next(timeout=remaining)
            if event["Type"] == event_type and all(event["Data"].get(k) == v for k, v in data.items()):
                return event

    def drain(self, quiet: float = 0.3) -> list[dict]:
        """Every event that arrives until the socket has been quiet for `quiet` seconds."""
        events = []
        while True:
            try:
                events.append(self.next(timeout=quiet))
            except TimeoutError:
                return events

    def close(self) -> None:
        self.ws.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def visitor_acknowledges(ws, agent_socket: AgentSocket, *, message_id: int, chat_id: int) -> None:
    """The web chat page says Received, then Read; the agent's socket hears Delivered, then Read."""
    ws.send(json.dumps({"Type": "Received", "MessageID": message_id}))
    delivered = agent_socket.wait_for("MessageStatusChanged", MessageID=message_id)
    assert delivered["Data"] == {"MessageID": message_id, "ChatID": chat_id, "DeliveryStatus": "Delivered",
                                 "FailureReason": None}
    ws.send(json.dumps({"Type": "Read", "UpTo": message_id}))
    assert agent_socket.wait_for("MessageStatusChanged", MessageID=message_id)["Data"]["DeliveryStatus"] == "Read"


def next_frame(ws, predicate: Callable[[dict], bool] = lambda _: True, timeout: float = 10) -> dict:
    """A web chat socket's next frame that satisfies `predicate` (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "no matching frame arrived"
        frame = json.loads(ws.recv(timeout=remaining))
        if predicate(frame):
            return frame
