"""The private internals of aiosqlite, SQLAlchemy's pool, FastAPI and Starlette that the hot path relies on
(docs/architecture.md, "Private internals we rely on"). After an upgrade, a failure here names the internal that
changed and what of ours uses it, before a hot call fails at run time on one database only."""

import asyncio
import importlib
import logging
import sqlite3
import threading
import tomllib
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Annotated

import aiosqlite
import pytest
from fastapi import Header, Query, Request
from fastapi.dependencies.utils import get_dependant, request_params_to_args
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from sqlalchemy import text
from starlette.datastructures import QueryParams
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from agentchat.app import LEAN_ENDPOINTS, create_app
from agentchat.config import Settings
from agentchat.db import create_engine
from agentchat.fairpool import FairAsyncQueuePool, FairQueue

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def internal(name: str, used_by: str):
    """Any failure inside says loudly which internal broke and who depends on it."""
    try:
        yield
    except Exception as exc:
        raise AssertionError(f"PRIVATE INTERNAL CHANGED: {name} (used by {used_by}; see docs/architecture.md, "
                             f"'Private internals we rely on'): {type(exc).__name__}: {exc}") from exc


@pytest.mark.parametrize(("module", "name", "used_by"), [
    ("sqlalchemy.util.queue", "QueueCommon", "fairpool.FairQueue"),
    ("sqlalchemy.util.queue", "Empty", "fairpool.FairQueue"),
    ("sqlalchemy.util.queue", "Full", "fairpool.FairQueue"),
    ("sqlalchemy.util.concurrency", "await_", "fairpool.FairQueue.get"),
    ("sqlalchemy.util", "greenlet_spawn", "rawdb.RawConnections.connect"),
    ("fastapi.dependencies.utils", "get_dependant", "leanroute.lean_route"),
    ("fastapi.dependencies.utils", "request_params_to_args", "leanroute._QueryValidation"),
    ("fastapi.dependencies.models", "Dependant", "leanroute._resolver"),
])
def test_the_imported_internals_exist(module, name, used_by):
    with internal(f"{module}.{name}", used_by):
        assert hasattr(importlib.import_module(module), name), "gone"


def test_aiosqlite_runs_our_work_on_its_sqlite3_connection_in_its_thread(tmp_path):
    async def scenario():
        async with aiosqlite.connect(tmp_path / "internals.db") as connection:
            with internal("aiosqlite.Connection._conn (the sqlite3.Connection)", "rawdb.Raw.in_one_hop"):
                assert isinstance(connection._conn, sqlite3.Connection)
            with internal("aiosqlite.Connection._execute(fn)", "rawdb.Raw.in_one_hop"):
                assert await connection._execute(threading.get_ident) != threading.get_ident()
                found = await connection._execute(lambda: connection._conn.execute("SELECT 41 + 1").fetchone())
                assert found == (42,)

    asyncio.run(scenario())


def test_the_pool_hands_its_queued_connection_record_over_and_takes_it_back(tmp_path):
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/pool.db", data_dir=tmp_path)

    async def scenario():
        engine = create_engine(settings)
        try:
            pool = engine.sync_engine.pool
            with internal("QueuePool._queue_class, building QueuePool._pool", "fairpool.FairAsyncQueuePool"):
                assert isinstance(pool, FairAsyncQueuePool)
                assert isinstance(pool._pool, FairQueue)
            with internal("QueuePool._overflow / _max_overflow / _timeout", "fairpool.FairAsyncQueuePool.take_open"):
                assert (pool._overflow, pool._max_overflow, pool._timeout) == (-1, 0, 60)
            async with engine.connect() as connection:  # the pool opens its one connection
                await connection.execute(text("SELECT 1"))
            with internal("_ConnectionRecord.dbapi_connection / .driver_connection, QueuePool._do_return_conn",
                          "fairpool.FairAsyncQueuePool.take_open / give_back, rawdb.RawConnections.connect"):
                record = await pool.take_open()
                assert record is not None, "take_open found no open connection in the queue"
                assert record.dbapi_connection is not None
                assert isinstance(record.driver_connection, aiosqlite.Connection)
                pool.give_back(record)
                assert pool._pool.qsize() == 1
            async with engine.connect() as connection:  # and a normal checkout still works after it
                assert (await connection.execute(text("SELECT 2"))).scalar() == 2
        finally:
            await engine.dispose()

    asyncio.run(scenario())


def test_the_pools_routine_messages_stay_below_info(tmp_path, caplog):
    """`serve` and `create-manager` dispose of engines at start; their "Pool disposed" / "Pool recreating" lines
    read like errors at INFO."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/quiet.db", data_dir=tmp_path)

    async def scenario():
        engine = create_engine(settings)
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        await engine.dispose()

    with caplog.at_level(logging.INFO):
        asyncio.run(scenario())
    with internal("a pool's logger is named after its class's module and name", "fairpool.py's logger level"):
        assert [r.getMessage() for r in caplog.records if "Pool" in r.getMessage()] == []


def test_fastapi_describes_and_validates_a_functions_parameters_as_lean_routes_expect():
    async def step(request: Request, page: Annotated[int, Query(alias="Page", ge=1)],
                   note: Annotated[str | None, Header()] = None) -> None:
        return None

    with internal("fastapi.dependencies.utils.get_dependant(path=, call=) and Dependant's fields",
                  "leanroute._resolver"):
        dependant = get_dependant(path="/api/X", call=step)
        assert dependant.call is step
        assert dependant.request_param_name == "request"
        assert [(f.name, f.alias) for f in dependant.query_params] == [("page", "Page")]
        assert [f.name for f in dependant.header_params] == ["note"]
        assert not (dependant.body_params or dependant.path_params or dependant.cookie_params
                    or dependant.dependencies)
    with internal("ModelField.field_info (is_required, annotation, metadata)", "leanroute._is_plain_text"):
        note = dependant.header_params[0].field_info
        assert not note.is_required() and note.annotation == str | None and not note.metadata
    with internal("fastapi.dependencies.utils.request_params_to_args(fields, params) -> (values, errors)",
                  "leanroute._QueryValidation"):
        assert request_params_to_args(dependant.query_params, QueryParams("Page=3")) == ({"page": 3}, [])
        values, errors = request_params_to_args(dependant.query_params, QueryParams("Page=0"))
        assert [tuple(error["loc"]) for error in errors] == [("query", "Page")]


def test_the_app_builds_its_lean_routes_from_the_fastapi_routes(tmp_path):
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/app.db", data_dir=tmp_path))
    with internal("APIRoute.dependant, Router.routes (a list matched in order)", "leanroute.LeanRoutesFirst"):
        lean = {route.path for route in app.router.routes[:len(LEAN_ENDPOINTS)]}
        assert lean == {"/api/SendMessage", "/api/GrabChat", "/api/GetChats", "/api/SearchCustomer"}


def test_starlette_routes_take_the_exception_handlers_from_the_scope():
    class Refused(Exception):
        pass

    async def endpoint(request):
        raise Refused()

    async def handler(request, exc):
        return PlainTextResponse("handled", status_code=418)

    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/x", "raw_path": b"/x", "query_string": b"", "headers": [],
             "starlette.exception_handlers": ({Refused: handler}, {})}
    with internal('the scope key "starlette.exception_handlers" = (exception handlers, status handlers)',
                  "leanroute.LeanRoutesFirst.__call__"):
        asyncio.run(Route("/x", endpoint).app(scope, receive, send))
        assert sent[0]["status"] == 418


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_every_dependency_and_test_extra_is_pinned_in_constraints():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    unpinned = [r for r in wanted if canonicalize_name(Requirement(r).name) not in _pins()]
    assert unpinned == [], "pin them: install, run the tests, then scripts/freeze-constraints.sh (CONTRIBUTING.md)"


def test_the_tests_run_on_the_pinned_versions():
    """What passes here is what a fresh install gets; a venv that drifted says so rather than vouch for other pins."""
    drifted = []
    for name, pinned in _pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # another platform's or an optional extra's
        if Version(installed) != Version(pinned):
            drifted.append(f"{name}: {installed} installed, {pinned} pinned")
    assert drifted == [], "run scripts/install.sh test, or re-pin after testing (scripts/freeze-constraints.sh)"
