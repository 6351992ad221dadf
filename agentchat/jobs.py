"""Work the service does on its own, on a timer: each job is safe to run on several instances at once."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from agentchat.auth import service as auth
from agentchat.db import commit_and_publish

log = logging.getLogger(__name__)

REPORTS_SECONDS = 60
ROUTING_SECONDS = 30
NOTIFY_WAITING_SECONDS = 30
QUEUE_POSITIONS_SECONDS = 15
QUEUE_POSITIONS_MAX_BATCHES = 25  # the rest on the next run
ORPHAN_FILES_SECONDS = 60 * 60
ORPHAN_FILES_FIRST_SECONDS = 10 * 60  # not in the rush of a (rolling) restart
WEBHOOK_SWEEP_SECONDS = 60 * 60
AUDIT_PURGE_SECONDS = 60 * 60


async def sweep_presence(app: FastAPI) -> None:
    """Agents whose every session has expired go Offline (and everyone hears of it); this instance's sockets of
    sessions that have ended are closed (on every instance, by SessionEnded)."""
    async with app.state.sessionmaker() as db:
        await auth.expire_idle_agents(db)
        await auth.end_gone_sessions(db, sessions=app.state.agent_hub.sessions())
        await commit_and_publish(db)


async def send_due_reports(app: FastAPI) -> None:
    """Scheduled reports that are due, each claimed in the database so that one instance sends it."""
    from agentchat.reports import scheduler

    await scheduler.run_due_reports(app.state.sessionmaker, app.state.settings)


async def route_queued_chats(app: FastAPI) -> None:
    """Routing departments' queues, in case a pass after a commit was lost (e.g. an instance stopped)."""
    from agentchat.routing import service as routing

    await routing.route_all(app.state.sessionmaker)


async def notify_waiting_chats(app: FastAPI) -> None:
    """UnassignedChatsWaiting: each chat waiting too long claimed once, its departments' agents told."""
    from agentchat.notifications import service as notifications

    async with app.state.sessionmaker() as db:
        await notifications.notify_waiting_chats(db, app.state.settings)
        await commit_and_publish(db)


async def tell_queue_positions(app: FastAPI) -> None:
    """Queued customers whose place went down hear it (at most once a minute per chat)."""
    from agentchat.notifications import queue_positions

    for _ in range(QUEUE_POSITIONS_MAX_BATCHES):
        async with app.state.sessionmaker() as db:
            told = await queue_positions.tell_queue_positions(db)
            await commit_and_publish(db)
        if told < queue_positions.BATCH:
            return
        await asyncio.sleep(0)  # requests go between batches


async def sweep_orphan_files(app: FastAPI) -> None:
    """Stored files that no message names (a commit failed after the file was stored), once past a grace period."""
    from agentchat.files import sweep

    await sweep.sweep_orphan_files(app.state.sessionmaker, app.state.file_storage)


async def deliver_webhooks(app: FastAPI) -> None:
    """Webhook deliveries that are due (retries, and any whose nudge after commit was lost), each claimed once."""
    await app.state.webhooks.deliverer.run()


async def sweep_webhook_deliveries(app: FastAPI) -> None:
    await app.state.webhooks.deliverer.sweep()


async def purge_audit_log(app: FastAPI) -> None:
    """Audit entries older than the company's AuditLogRetentionDays."""
    from agentchat.audit import service as audit
    from agentchat.company import service as company

    async with app.state.sessionmaker() as db:
        days = await company.get_setting(db, "AuditLogRetentionDays")
        await audit.purge_expired(db, retention_days=days)
        await commit_and_publish(db)


def start_jobs(app: FastAPI) -> list[asyncio.Task]:
    if not app.state.settings.run_jobs:
        return []
    presence = app.state.settings.presence_sweep_seconds
    return [asyncio.create_task(_every(presence, sweep_presence, app), name="presence"),
            # First pass at start-up: the latest run missed while the service was down goes out once.
            asyncio.create_task(_every(REPORTS_SECONDS, send_due_reports, app, first=0), name="reports"),
            asyncio.create_task(_every(ROUTING_SECONDS, route_queued_chats, app), name="routing"),
            asyncio.create_task(_every(NOTIFY_WAITING_SECONDS, notify_waiting_chats, app), name="waiting"),
            asyncio.create_task(_every(QUEUE_POSITIONS_SECONDS, tell_queue_positions, app), name="positions"),
            asyncio.create_task(_every(ORPHAN_FILES_SECONDS, sweep_orphan_files, app,
                                       first=ORPHAN_FILES_FIRST_SECONDS), name="orphan-files"),
            # First pass at start-up: what was due while the service was down goes out.
            asyncio.create_task(_every(app.state.settings.webhook_poll_seconds, deliver_webhooks, app, first=0),
                                name="webhooks"),
            asyncio.create_task(_every(WEBHOOK_SWEEP_SECONDS, sweep_webhook_deliveries, app,
                                       first=ORPHAN_FILES_FIRST_SECONDS), name="webhook-sweep"),
            asyncio.create_task(_every(AUDIT_PURGE_SECONDS, purge_audit_log, app,
                                       first=ORPHAN_FILES_FIRST_SECONDS), name="audit-purge")]


async def _every(seconds: float, job: Callable[[FastAPI], Awaitable[None]], app: FastAPI,
                 first: float | None = None) -> None:
    delay = seconds if first is None else first
    while True:
        await asyncio.sleep(delay)
        delay = seconds
        try:
            await job(app)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s failed", job.__name__)


async def stop_jobs(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
