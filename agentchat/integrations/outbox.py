"""Which events some endpoint wants (cached), and writing their deliveries to the outbox.

Every committed action passes here (db.commit_and_publish, db.publish_committed), so the check must cost
nothing when no endpoint wants the action's events: the subscriptions are kept in memory, reloaded when any
instance changes an endpoint (the WebhookUpdated/WebhookDeleted events every instance hears through the broker)
and at most every RELOAD_SECONDS in case such an event was lost. ORM work writes its deliveries in the same
transaction as the change; the raw hot paths (SendMessage, GrabChat), whose change is one statement already
committed, write them right after it (docs/integrations.md).
"""

import json
import time
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat import clock
from agentchat.integrations.models import ACTIVE, PAUSED, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:  # a type only: app.py makes the deliverer at start-up
    from agentchat.integrations.delivery import Deliverer

RELOAD_SECONDS = 60.0
CHANGE_EVENTS = ("WebhookUpdated", "WebhookDeleted")


class Subscriptions:
    """event type -> the IDs of the endpoints (active or paused) that want it."""

    def __init__(self) -> None:
        self._by_type: dict[str, tuple[int, ...]] | None = None
        self._loaded_at = 0.0
        self._generation = 0

    def invalidate(self) -> None:
        self._by_type = None
        self._generation += 1

    def heard(self, envelope: dict) -> None:
        """The broker's listener, before the hub: another instance (or this one) changed an endpoint."""
        if envelope.get("Type") in CHANGE_EVENTS:
            self.invalidate()

    def _fresh(self) -> dict[str, tuple[int, ...]] | None:
        if self._by_type is not None and time.monotonic() - self._loaded_at < RELOAD_SECONDS:
            return self._by_type
        return None

    async def load(self, db: AsyncSession) -> dict[str, tuple[int, ...]]:
        cached = self._fresh()
        if cached is not None:
            return cached
        generation = self._generation
        rows = (await db.execute(select(WebhookEndpoint.id, WebhookEndpoint.events)
                                 .where(WebhookEndpoint.status.in_((ACTIVE, PAUSED))))).all()
        by_type: dict[str, list[int]] = {}
        for endpoint_id, events in rows:
            for event_type in events or ():
                by_type.setdefault(event_type, []).append(endpoint_id)
        loaded = {event_type: tuple(ids) for event_type, ids in by_type.items()}
        if generation == self._generation:  # not invalidated while loading
            self._by_type, self._loaded_at = loaded, time.monotonic()
        return loaded


def payload_json(event) -> str:
    return json.dumps({"Type": event.type, "At": event.at, "Data": event.data}, separators=(",", ":"))


def delivery_rows(by_type: dict[str, tuple[int, ...]], events: list) -> list[dict]:
    now = clock.now()
    rows = []
    for event in events:
        for endpoint_id in by_type.get(event.type, ()):
            rows.append({"endpoint_id": endpoint_id, "event_type": event.type, "payload": payload_json(event),
                         "status": "Pending", "attempts": 0, "next_attempt_at": now, "created_at": now})
    return rows


class Webhooks:
    """The process's webhook machinery: the subscription cache and a nudge for the deliverer."""

    def __init__(self) -> None:
        self.subscriptions = Subscriptions()
        # Set at start-up: the app's sessionmaker, and the delivery.Deliverer.
        self.sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self.deliverer: Deliverer | None = None

    async def stage(self, db: AsyncSession, events: list) -> bool:
        """Before the commit: the deliveries of `events`, in the same transaction. True if any were written."""
        by_type = self.subscriptions._fresh()
        if by_type is None:
            by_type = await self.subscriptions.load(db)
        if not by_type:
            return False
        rows = delivery_rows(by_type, events)
        if rows:
            await db.execute(insert(WebhookDelivery), rows)
        return bool(rows)

    def wants_any(self, events: list) -> bool | None:
        """From the cache alone: whether some endpoint wants one of `events` (None: the cache must be loaded)."""
        by_type = self.subscriptions._fresh()
        if by_type is None:
            return None
        return any(event.type in by_type for event in events)

    async def stage_committed(self, events: list) -> None:
        """After a raw hot path's commit: the deliveries of `events` in a transaction of their own."""
        if self.sessionmaker is None:
            raise RuntimeError("webhooks staged before start-up")
        async with self.sessionmaker() as db:
            if await self.stage(db, events):
                await db.commit()
                self.nudge()

    def nudge(self) -> None:
        if self.deliverer is not None:
            self.deliverer.nudge()
