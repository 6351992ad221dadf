"""create_app(settings): the routers, the error handlers, and what starts and stops with the service."""

import asyncio
import gc
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import text

from agentchat import __version__, logredact, webheaders
from agentchat.agents.routes import router as agents_router
from agentchat.apidocs import fastapi_docs_off, install_api_docs
from agentchat.audit.routes import router as audit_router
from agentchat.auth.routes import router as auth_router
from agentchat.bodylimit import BodyLimits
from agentchat.canned.routes import router as canned_router
from agentchat.channels.outbound import Outbound
from agentchat.channels.setup import start_channels, stop_channels
from agentchat.channels.webchat.routes import chat_page_headers
from agentchat.channels.webchat.routes import router as webchat_router
from agentchat.channels.whatsapp.routes import MAX_WEBHOOK_BYTES
from agentchat.channels.whatsapp.routes import router as whatsapp_router
from agentchat.chats.routes import LEAN_ENDPOINTS as CHAT_LEAN_ENDPOINTS
from agentchat.chats.routes import file_body_limit
from agentchat.chats.routes import router as chats_router
from agentchat.company.routes import router as company_router
from agentchat.config import Settings
from agentchat.console.routes import router as console_router
from agentchat.contract import check_version, install_error_handlers
from agentchat.customers.routes import LEAN_ENDPOINTS as CUSTOMER_LEAN_ENDPOINTS
from agentchat.customers.routes import router as customers_router
from agentchat.db import create_engine, create_sessionmaker, drain_background
from agentchat.departments.routes import router as departments_router
from agentchat.events.broker import create_broker
from agentchat.events.hub import AgentHub
from agentchat.events.routes import router as events_router
from agentchat.files.routes import router as files_router
from agentchat.files.storage import create_file_storage
from agentchat.hours.routes import router as hours_router
from agentchat.integrations.delivery import Deliverer
from agentchat.integrations.outbox import Webhooks
from agentchat.integrations.routes import router as integrations_router
from agentchat.jobs import start_jobs, stop_jobs
from agentchat.leanroute import LeanRoutesFirst, lean_route
from agentchat.metrics import MetricsRegistry, RequestMetrics, metrics_endpoint
from agentchat.notes.routes import router as notes_router
from agentchat.rawdb import RawConnections
from agentchat.reports.routes import router as reports_router
from agentchat.search.routes import router as search_router
from agentchat.security import hash_slots, password_hasher
from agentchat.tags.routes import router as tags_router
from agentchat.templates.routes import router as templates_router
from agentchat.walcheckpoint import start_wal_checkpoints

STATIC_DIR = Path(__file__).parent / "static"

# What every /api call runs first.
API_DEPENDENCIES = [check_version]

# The chats router first: routes are matched in order, and it holds the hot calls (SendMessage, GetChats, GrabChat).
API_ROUTERS = [chats_router, auth_router, agents_router, departments_router, company_router, tags_router,
               canned_router, hours_router, customers_router, files_router, reports_router, templates_router,
               integrations_router, audit_router, notes_router, search_router]

# The hottest calls, served by lean routes in front of FastAPI's routing (leanroute.py).
LEAN_ENDPOINTS = (*CHAT_LEAN_ENDPOINTS, *CUSTOMER_LEAN_ENDPOINTS)


def tune_garbage_collector() -> None:
    """For the serving process (`serve`), once the app is built: what is alive then (modules, the app) is
    frozen out of the cyclic garbage collector's sweeps, and young objects are swept 70× less often. Measured
    under load (bench/, SendMessage at 64 connections): with Python's defaults a full collection ran every
    second, each holding the event loop 90–140 ms, and the collector took a fifth of the CPU; with these, p99
    halved and the CPU per request fell by 40 %. Cyclic garbage waits a little longer to be freed."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


# Calls that carry long texts: settings' messages, departments' greetings, canned responses, a year of holidays
# (each text up to 4096 characters, which JSON may spell with 12 bytes apiece).
LONG_TEXT_PATHS = ("/api/UpdateSettings", "/api/CreateDepartment", "/api/UpdateDepartment",
                   "/api/CreateCannedResponse", "/api/UpdateCannedResponse", "/api/UpdateWorkingHours")
LONG_TEXT_BODY_LIMIT = 1024 * 1024


def body_limits(settings: Settings) -> dict[str, int]:
    """Each path's body limit where the default (bodylimit.DEFAULT_LIMIT, 64 KiB) is too small."""
    with_file = file_body_limit(settings)
    return {**dict.fromkeys(LONG_TEXT_PATHS, LONG_TEXT_BODY_LIMIT), "/api/SendMessage": with_file,
            "/webchat/messages": with_file, "/webhooks/whatsapp": MAX_WEBHOOK_BYTES}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = create_engine(settings, background_checkpoints=True)
        app.state.engine = engine
        raw_connections = RawConnections(engine, settings.postgres_server_settings,
                                         settings.postgres_statement_cache_size)
        await raw_connections.start()
        app.state.wal_checkpoints = checkpoints = start_wal_checkpoints(raw_connections)
        app.state.raw = raw_connections
        broker = create_broker(settings.broker_url, settings.redis_prefix)
        hub = AgentHub(max_per_session=settings.max_sockets_per_session)
        app.state.broker, app.state.agent_hub = broker, hub
        hub.start()
        app.state.webhooks = webhooks = Webhooks()

        async def listen(envelope: dict) -> None:
            webhooks.subscriptions.heard(envelope)
            await hub.receive(envelope)

        await broker.start(listen)
        outbound = Outbound(create_sessionmaker(engine, broker=broker, webhooks=webhooks), raw_connections,
                            senders={})
        app.state.outbound = outbound
        app.state.sessionmaker = create_sessionmaker(engine, outbound=outbound, broker=broker, webhooks=webhooks)
        webhooks.sessionmaker = app.state.sessionmaker
        webhooks.deliverer = Deliverer(app.state.sessionmaker, settings)
        raw_connections.info.update(outbound=outbound, broker=broker, webhooks=webhooks)
        await app.state.file_storage.start()
        # Channel senders register here: {"WhatsApp": ..., "WebChat": ...}
        outbound.senders.update(await start_channels(app))
        resume = asyncio.create_task(outbound.resume_pending())
        jobs = start_jobs(app)
        try:
            yield
        finally:
            resume.cancel()
            await stop_jobs(jobs)
            await drain_background()
            await webhooks.deliverer.close()
            await stop_channels(app)
            await broker.stop()
            await hub.stop()
            if checkpoints is not None:
                await checkpoints.stop()
            await raw_connections.stop()
            await engine.dispose()
            await app.state.file_storage.close()

    app = LeanRoutesFirst(
        title="AgentChat API",
        version=__version__,
        description="A self-hosted implementation of the ChannelMobile AgentChat API (V1).",
        lifespan=lifespan,
        **fastapi_docs_off(),
    )
    app.state.settings = settings
    app.state.password_hasher = password_hasher(settings)
    app.state.hash_slots = hash_slots(settings)
    app.state.file_storage = create_file_storage(settings)
    install_error_handlers(app)
    app.body_limits = BodyLimits(body_limits(settings))
    app.state.chat_page_headers = chat_page_headers(settings)
    app.state.request_metrics = MetricsRegistry()
    for router in API_ROUTERS:
        app.include_router(router, dependencies=[Depends(call) for call in API_DEPENDENCIES])
    # The hottest calls before FastAPI's middleware and routing; their FastAPI routes still describe them
    # (leanroute.py).
    for router in API_ROUTERS:
        for api_route in router.routes:
            if isinstance(api_route, APIRoute) and api_route.endpoint in LEAN_ENDPOINTS:
                app.add_lean_route(lean_route(api_route, API_DEPENDENCIES), app.state.request_metrics)
    app.include_router(events_router)
    # Meta's webhook: public, signed, outside /api (no session, no Version).
    app.include_router(whatsapp_router)
    # Public visitor endpoints: their own token (VisitorToken), not an agent session.
    app.include_router(webchat_router)
    # The agents' and managers' web console: "/" and /console/<asset>.
    app.include_router(console_router)
    install_api_docs(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        async with app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return JSONResponse({"Status": "ok", "Version": __version__})

    app.add_middleware(RequestMetrics, registry=app.state.request_metrics)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)

    reset_page_headers = webheaders.reset_page_headers(STATIC_DIR / "reset-password.html")

    @app.get("/reset-password", include_in_schema=False)
    async def reset_password_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "reset-password.html", media_type="text/html", headers=reset_page_headers)

    logging.getLogger("agentchat").setLevel(settings.log_level.upper())
    logredact.install()
    return app
