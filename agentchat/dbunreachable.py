"""When the database cannot be reached: the API answers 503 with Retry-After (a client may simply retry), and the
command line says so in one line instead of a traceback.

"Cannot be reached" is a failure of the connection, not of a statement: refused or reset connections, a server
starting up or shutting down, a pool waited on too long, SQLite's file locked past its busy timeout. A statement
that fails on a live connection stays a bug (500).
"""

import logging
import socket
import sqlite3
from collections.abc import Iterator

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import JSONResponse

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5

_DRIVER_ERRORS = (
    asyncpg.PostgresConnectionError,  # class 08: connection exceptions
    asyncpg.CannotConnectNowError,  # the server is starting up or shutting down
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,  # the connection was closed in the middle of an operation
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)
_NETWORK_ERRORS = (ConnectionError, socket.gaierror, TimeoutError)
_SQLITE_UNREACHABLE = ("database is locked", "unable to open database file", "disk i/o error")
# Code whose network errors are the database's (not a mail server's or Meta's).
_DATABASE_MODULES = ("asyncpg", "sqlalchemy", "aiosqlite", "agentchat.rawdb", "agentchat.db", "agentchat.fairpool")


# Where such errors come from (each handled as Exception is, 503 when unreachable).
ERROR_CLASSES = (OSError, sa_exc.DBAPIError, sa_exc.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
                 sqlite3.Error)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [current.__cause__, current.__context__, getattr(current, "orig", None)]


def _raised_in_database_code(error: BaseException) -> bool:
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_globals.get("__name__", "").startswith(_DATABASE_MODULES):
            return True
        trace = trace.tb_next
    return False


def database_unreachable(error: BaseException) -> bool:
    for current in _chain(error):
        if isinstance(current, (*_DRIVER_ERRORS, sa_exc.TimeoutError)):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sqlite3.OperationalError) and str(current).lower() in _SQLITE_UNREACHABLE:
            return True
        if isinstance(current, _NETWORK_ERRORS) and _raised_in_database_code(current):
            return True
    return False


def unavailable_response() -> JSONResponse:
    return JSONResponse({"Error": {"Code": "database_unavailable",
                                   "Message": "The service cannot reach its database; try again shortly."}},
                        status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def handle_error(_request: Request, error: Exception) -> JSONResponse | None:
    """503 when `error` means the database cannot be reached (one warning line, no traceback); else None."""
    if not database_unreachable(error):
        return None
    log.warning("the database cannot be reached (%s: %s); answering 503", type(error).__name__,
                str(error).splitlines()[0][:200] if str(error) else "")
    return unavailable_response()


def describe(error: BaseException, database_url: str) -> str | None:
    """One line for the command line when `error` is about reaching the database at `database_url`; else None."""
    url = make_url(database_url)
    shown = url.render_as_string(hide_password=True)
    for current in _chain(error):
        if isinstance(current, asyncpg.InvalidCatalogNameError):
            return (f"error: the database {url.database!r} does not exist at {shown}: create it "
                    f"(createdb {url.database}), or set AGENTCHAT_DATABASE_URL to one that exists")
        if isinstance(current, asyncpg.InvalidAuthorizationSpecificationError | asyncpg.InvalidPasswordError):
            return (f"error: the database at {shown} refused the user or password: fix them in "
                    "AGENTCHAT_DATABASE_URL")
    if url.get_backend_name() == "sqlite" and any(isinstance(current, OSError | sqlite3.Error)
                                                  for current in _chain(error)):
        return (f"error: cannot open the SQLite database at {shown} ({_first_line(error)}): make its folder "
                "writable, or set AGENTCHAT_DATABASE_URL")
    if database_unreachable(error) or any(isinstance(current, OSError) for current in _chain(error)):
        return (f"error: cannot reach the database at {shown} ({_first_line(error)}): start it, or set "
                "AGENTCHAT_DATABASE_URL to one that is up")
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:160]}" if text else type(error).__name__
