"""Webhook endpoints: register, change, delete, the delivery log, a test, a redelivery (docs/integrations.md)."""

import secrets

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.contract import Conflict, NotFound
from agentchat.events import Event, emit
from agentchat.integrations.models import (
    ACTIVE,
    PENDING,
    TEST_EVENT,
    WebhookDelivery,
    WebhookEndpoint,
)
from agentchat.integrations.outbox import payload_json

MAX_ENDPOINTS = 50


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def endpoint_data(endpoint: WebhookEndpoint) -> dict:
    """The Webhook object of events (without its secret)."""
    from agentchat.contract import format_time

    return {"WebhookID": endpoint.id, "URL": endpoint.url, "Description": endpoint.description,
            "Events": list(endpoint.events), "Status": endpoint.status,
            "ConsecutiveFailures": endpoint.consecutive_failures,
            "PausedAt": format_time(endpoint.paused_at) if endpoint.paused_at else None,
            "CreatedAt": format_time(endpoint.created_at)}


def _changed(db: AsyncSession, endpoint: WebhookEndpoint) -> None:
    """Every instance reloads its subscriptions when it hears this (outbox.Subscriptions.heard)."""
    emit(db, Event("WebhookUpdated", endpoint_data(endpoint)))


async def get_endpoint(db: AsyncSession, webhook_id: int) -> WebhookEndpoint:
    endpoint = await db.get(WebhookEndpoint, webhook_id)
    if endpoint is None:
        raise NotFound(f"No webhook has ID {webhook_id}.", code="webhook_not_found", field="WebhookID")
    return endpoint


async def list_endpoints(db: AsyncSession) -> list[WebhookEndpoint]:
    return list((await db.execute(select(WebhookEndpoint).order_by(WebhookEndpoint.id))).scalars())


async def create_endpoint(db: AsyncSession, *, url: str, events: list[str], description: str) -> WebhookEndpoint:
    count = (await db.execute(select(func.count()).select_from(WebhookEndpoint))).scalar_one()
    if count >= MAX_ENDPOINTS:
        raise Conflict(f"At most {MAX_ENDPOINTS} webhooks may be registered.", code="too_many_webhooks")
    endpoint = WebhookEndpoint(url=url, events=sorted(set(events)), description=description, secret=new_secret(),
                               status=ACTIVE, consecutive_failures=0, created_at=clock.now())
    db.add(endpoint)
    await db.flush()
    _changed(db, endpoint)
    return endpoint


async def update_endpoint(db: AsyncSession, *, webhook_id: int, changes: dict) -> WebhookEndpoint:
    endpoint = await get_endpoint(db, webhook_id)
    for key in ("url", "description"):
        if changes.get(key) is not None:
            setattr(endpoint, key, changes[key])
    if changes.get("events") is not None:
        endpoint.events = sorted(set(changes["events"]))
    status = changes.get("status")
    if status == ACTIVE and endpoint.status != ACTIVE:
        await _resume(db, endpoint)
    elif status is not None:
        endpoint.status = status
    await db.flush()
    _changed(db, endpoint)
    return endpoint


async def _resume(db: AsyncSession, endpoint: WebhookEndpoint) -> None:
    """What waited while it was paused goes out now, each delivery from its first retry again."""
    endpoint.status, endpoint.consecutive_failures, endpoint.paused_at = ACTIVE, 0, None
    await db.execute(update(WebhookDelivery)
                     .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == PENDING)
                     .values(next_attempt_at=clock.now()))


async def rotate_secret(db: AsyncSession, *, webhook_id: int) -> WebhookEndpoint:
    endpoint = await get_endpoint(db, webhook_id)
    endpoint.secret = new_secret()
    await db.flush()
    return endpoint


async def delete_endpoint(db: AsyncSession, *, webhook_id: int) -> None:
    endpoint = await get_endpoint(db, webhook_id)
    data = endpoint_data(endpoint)
    await db.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == webhook_id))
    await db.delete(endpoint)
    await db.flush()
    emit(db, Event("WebhookDeleted", {"WebhookID": data["WebhookID"]}))


async def list_deliveries(db: AsyncSession, *, webhook_id: int, status: str | None, offset: int,
                          limit: int) -> tuple[list[WebhookDelivery], int]:
    await get_endpoint(db, webhook_id)
    where = [WebhookDelivery.endpoint_id == webhook_id]
    if status is not None:
        where.append(WebhookDelivery.status == status)
    total = (await db.execute(select(func.count()).select_from(WebhookDelivery).where(*where))).scalar_one()
    rows = (await db.execute(select(WebhookDelivery).where(*where).order_by(WebhookDelivery.id.desc())
                             .offset(offset).limit(limit))).scalars().all()
    return list(rows), total


async def add_test_delivery(db: AsyncSession, *, webhook_id: int) -> WebhookDelivery:
    """A WebhookTest event for the endpoint alone; the caller sends it at once, whatever the endpoint's state."""
    endpoint = await get_endpoint(db, webhook_id)
    event = Event(TEST_EVENT, {"WebhookID": endpoint.id, "Message": "A test of your AgentChat webhook."})
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event_type=TEST_EVENT, payload=payload_json(event),
                               status=PENDING, attempts=0, next_attempt_at=clock.now(), created_at=clock.now())
    db.add(delivery)
    await db.flush()
    return delivery


async def redeliver(db: AsyncSession, *, delivery_id: int) -> WebhookDelivery:
    """A delivery sent or given up on goes out again (the same DeliveryID: receivers may dedupe on it)."""
    delivery = await db.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"No delivery has ID {delivery_id}.", code="delivery_not_found", field="DeliveryID")
    if delivery.status == PENDING:
        raise Conflict("The delivery is waiting to be sent already.", code="delivery_pending", field="DeliveryID")
    delivery.status, delivery.next_attempt_at, delivery.claimed_until = PENDING, clock.now(), None
    delivery.attempts = 0
    await db.flush()
    return delivery


async def get_delivery(db: AsyncSession, delivery_id: int) -> WebhookDelivery:
    delivery = await db.get_one(WebhookDelivery, delivery_id)
    await db.refresh(delivery)
    return delivery
