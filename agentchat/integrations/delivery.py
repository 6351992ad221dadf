"""Sending the outbox: claim a due delivery, POST it signed, record the answer, retry with backoff, pause.

A delivery is claimed with one conditional UPDATE (as a due report run is): only the instance whose UPDATE
changed the row sends it, so with several instances each delivery goes out once. The claim is a lease: if the
instance dies before recording the answer, another sends it again once the lease has run out — the receiver
tells a repeat by its DeliveryID (docs/integrations.md).
"""

import functools
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import __version__, clock
from agentchat.agents.models import ROLE_MANAGER, Agent
from agentchat.config import Settings
from agentchat.db import after_commit, commit_and_publish, rowcount, start_background
from agentchat.events import Event, emit
from agentchat.integrations.models import (
    ACTIVE,
    DELIVERED,
    FAILED,
    PAUSED,
    PENDING,
    TEST_EVENT,
    WebhookDelivery,
    WebhookEndpoint,
)
from agentchat.mailer import Mail, send_mail

log = logging.getLogger(__name__)

BATCH = 20
MAX_BACKOFF = timedelta(hours=1)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-AgentChat-Signature header: HMAC-SHA256 over "<timestamp>.<body>" with the endpoint's secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def body_of(delivery_id: int, payload: str) -> bytes:
    """{"DeliveryID": n, "Type", "At", "Data"}: the stored event with the delivery's ID in front."""
    return (f'{{"DeliveryID":{delivery_id},' + payload[1:]).encode()


def backoff(settings: Settings, attempts: int) -> timedelta:
    seconds = settings.webhook_retry_base_seconds * 2 ** min(attempts - 1, 20)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


@dataclass
class Claimed:
    id: int
    endpoint_id: int
    event_type: str
    payload: str
    attempts: int
    url: str
    secret: str


_COLUMNS = (WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.event_type, WebhookDelivery.payload,
            WebhookDelivery.attempts, WebhookEndpoint.url, WebhookEndpoint.secret)


class Deliverer:
    """One per process. `nudge()` after a commit that wrote deliveries; the periodic job calls `run()` too."""

    def __init__(self, sessionmaker, settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.client = httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False)
        self._running = False
        self._again = False

    async def close(self) -> None:
        await self.client.aclose()

    def nudge(self) -> None:
        if self._running:
            self._again = True
        else:
            start_background(self.run())

    async def run(self) -> int:
        """Send what is due now, batch after batch; returns how many were attempted by this instance."""
        if self._running:
            self._again = True
            return 0
        self._running, attempted = True, 0
        try:
            while True:
                self._again = False
                done = await self._run_batch()
                attempted += done
                if not self._again and done < BATCH:
                    return attempted
        finally:
            self._running = False

    async def _run_batch(self) -> int:
        now = clock.now()
        async with self.sessionmaker() as db:
            ids = (await db.execute(
                select(WebhookDelivery.id).join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now,
                       or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until <= now),
                       WebhookEndpoint.status == ACTIVE)
                .order_by(WebhookDelivery.id).limit(BATCH))).scalars().all()
        attempted = 0
        for delivery_id in ids:
            claimed = await self.claim(delivery_id)
            if claimed is not None:
                await self.attempt(claimed)
                attempted += 1
        return attempted

    async def claim(self, delivery_id: int, *, now_or_never: bool = False) -> Claimed | None:
        """This instance's right to send the delivery now, or None if another has it (or it is not due).
        `now_or_never`: a test delivery, sent at once whatever the endpoint's state."""
        now = clock.now()
        lease = now + timedelta(seconds=self.settings.webhook_timeout_seconds + 60)
        conditions = [WebhookDelivery.id == delivery_id, WebhookDelivery.status == PENDING,
                      or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until <= now)]
        if not now_or_never:
            conditions.append(WebhookDelivery.next_attempt_at <= now)
        async with self.sessionmaker() as db:
            won = await db.execute(update(WebhookDelivery).where(*conditions)
                                   .values(claimed_until=lease, attempts=WebhookDelivery.attempts + 1))
            if won.rowcount != 1:
                await db.rollback()
                return None
            row = (await db.execute(select(*_COLUMNS).join(WebhookEndpoint,
                                                           WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                                    .where(WebhookDelivery.id == delivery_id))).first()
            await db.commit()
        return Claimed(*row) if row is not None else None

    async def attempt(self, claimed: Claimed) -> None:
        body = body_of(claimed.id, claimed.payload)
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": f"AgentChat-Webhooks/{__version__}",
                   "X-AgentChat-Event": claimed.event_type, "X-AgentChat-Delivery": str(claimed.id),
                   "X-AgentChat-Timestamp": str(timestamp),
                   "X-AgentChat-Signature": sign(claimed.secret, timestamp, body)}
        status, error = None, None
        try:
            # The answer's body is never read: a receiver cannot make us hold a large one.
            async with self.client.stream("POST", claimed.url, content=body, headers=headers) as response:
                status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300] if str(exc) else type(exc).__name__
        async with self.sessionmaker() as db:
            if error is None and status is not None:  # no error: an answer came
                await self._succeeded(db, claimed, status)
            else:
                error = error or "no answer"
                log.warning("webhook delivery %d to endpoint %d failed: %s", claimed.id, claimed.endpoint_id, error)
                await self._failed(db, claimed, status, error)
            await commit_and_publish(db)

    async def _succeeded(self, db: AsyncSession, claimed: Claimed, status: int) -> None:
        await db.execute(update(WebhookDelivery).where(WebhookDelivery.id == claimed.id)
                         .values(status=DELIVERED, delivered_at=clock.now(), response_status=status,
                                 claimed_until=None, last_error=None))
        if claimed.event_type != TEST_EVENT:
            await db.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == claimed.endpoint_id,
                                                           WebhookEndpoint.consecutive_failures != 0)
                             .values(consecutive_failures=0))

    async def _failed(self, db: AsyncSession, claimed: Claimed, status: int | None, error: str) -> None:
        attempts = claimed.attempts  # counted by the claim
        final = attempts >= self.settings.webhook_max_attempts or claimed.event_type == TEST_EVENT
        await db.execute(update(WebhookDelivery).where(WebhookDelivery.id == claimed.id)
                         .values(status=FAILED if final else PENDING, response_status=status, last_error=error,
                                 claimed_until=None,
                                 next_attempt_at=clock.now() + backoff(self.settings, attempts)))
        if claimed.event_type == TEST_EVENT:
            return
        failures = (await db.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == claimed.endpoint_id)
                                     .values(consecutive_failures=WebhookEndpoint.consecutive_failures + 1)
                                     .returning(WebhookEndpoint.consecutive_failures))).scalar_one_or_none()
        if failures is not None and failures >= self.settings.webhook_pause_after_failures:
            await self._pause(db, claimed.endpoint_id, error)

    async def _pause(self, db: AsyncSession, endpoint_id: int, error: str) -> None:
        """Once, by whichever instance's UPDATE finds it still active: the managers are told."""
        paused = await db.execute(update(WebhookEndpoint)
                                  .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.status == ACTIVE)
                                  .values(status=PAUSED, paused_at=clock.now()))
        if rowcount(paused) != 1:
            return
        from agentchat.integrations import service as integrations

        endpoint = await db.get_one(WebhookEndpoint, endpoint_id)
        await db.refresh(endpoint)
        data = integrations.endpoint_data(endpoint)
        emit(db, Event("WebhookUpdated", data))
        emit(db, Event("WebhookPaused", {**data, "LastError": error}))
        managers = (await db.execute(select(Agent.email_address).where(Agent.role_id == ROLE_MANAGER,
                                                                       Agent.enabled.is_(True)))).scalars().all()
        text = (f"AgentChat stopped sending events to the webhook {endpoint.url} "
                f"({endpoint.description or 'no description'}) after {endpoint.consecutive_failures} failed "
                f"attempts in a row. The last error: {error}.\n\nEvents keep being queued for it. Once the receiver "
                f"works again, resume the webhook under Settings > Webhooks: the queued events are then sent.\n\n"
                f"{self.settings.public_url.rstrip('/')}/#webhooks\n")
        for address in managers:
            mail = Mail(to=address, subject=f"Webhook paused: {endpoint.url}"[:200], text=text)
            after_commit(db, functools.partial(self._mail, mail))

    async def _mail(self, mail: Mail) -> None:
        try:
            await send_mail(self.settings, mail)
        except Exception as exc:
            log.warning("the mail that a webhook was paused was not sent: %s", exc)

    async def sweep(self) -> None:
        """Old sent and failed deliveries, and any left by a deleted endpoint, are removed."""
        cutoff = clock.now() - timedelta(days=self.settings.webhook_keep_days)
        async with self.sessionmaker() as db:
            await db.execute(delete(WebhookDelivery).where(WebhookDelivery.status.in_((DELIVERED, FAILED)),
                                                           WebhookDelivery.created_at < cutoff))
            await db.execute(delete(WebhookDelivery).where(
                WebhookDelivery.endpoint_id.not_in(select(WebhookEndpoint.id))))
            await db.commit()
