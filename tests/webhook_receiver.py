"""A local HTTP server that receives AgentChat's webhook deliveries, for tests: it records each request and
answers with the status it is told to (`answer`); `down()` stops it listening altogether."""

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signature_valid(self, secret: str) -> bool:
        """What a receiver checks: the HMAC of "<t>.<body>" with the secret, and that t is the timestamp sent."""
        fields = dict(part.split("=", 1) for part in self.headers["x-agentchat-signature"].split(","))
        expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + self.body, hashlib.sha256).hexdigest()
        return (hmac.compare_digest(expected, fields["v1"])
                and fields["t"] == self.headers["x-agentchat-timestamp"])


class Receiver:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/agentchat"
        self.answer = 200
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def up(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = receiver.answer
                with receiver._lock:
                    receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body, answer))
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if 200 <= r.answered < 300]

    def wait_for(self, count: int, *, accepted_only: bool = True, timeout: float = 20) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                got = [r for r in self.received if not accepted_only or 200 <= r.answered < 300]
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.05)
