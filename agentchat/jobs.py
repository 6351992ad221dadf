"""Work the service does on its own, on a timer: each job is safe to run on several instances at once."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from agentchat.auth import service as auth
from agentchat.db import commit_and_publish

log = logging.getLogger(__name__)

PRESENCE_SWEEP_SECONDS = 30
REPORTS_SECONDS = 60


async def sweep_presence(app: FastAPI) -> None:
    """Agents whose every session has expired go Offline (and everyone hears of it)."""
    async with app.state.sessionmaker() as db:
        await auth.expire_idle_agents(db)
        await commit_and_publish(db)


async def send_due_reports(app: FastAPI) -> None:
    """Scheduled reports that are due, each claimed in the database so that one instance sends it."""
    from agentchat.reports import scheduler

    await scheduler.run_due_reports(app.state.sessionmaker, app.state.settings)


def start_jobs(app: FastAPI) -> list[asyncio.Task]:
    return [asyncio.create_task(_every(PRESENCE_SWEEP_SECONDS, sweep_presence, app), name="presence"),
            # First pass at start-up: the latest run missed while the service was down goes out once.
            asyncio.create_task(_every(REPORTS_SECONDS, send_due_reports, app, first=0), name="reports")]


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
