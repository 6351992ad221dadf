"""Password hashing, session tokens, and the dependencies that say who is calling."""

import asyncio
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Header, Query, Request

from agentchat import clock, rawdb
from agentchat.agents.models import ROLE_MANAGER
from agentchat.config import Settings
from agentchat.contract import ApiError, Forbidden, Unauthorized

T = TypeVar("T")
log = logging.getLogger(__name__)

# Extending a session costs a write, so a session is pushed forward at most once a minute.
EXTEND_GRANULARITY = timedelta(seconds=60)


def password_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


class HashersBusy(ApiError):
    status, code = 503, "busy"


class HashSlots:
    """At most `slots` password hashes at once, and at most `queue` requests waiting for one; beyond that 503
    at once. argon2 is slow and memory-hard on purpose: unbounded, a flood of logons (for unknown addresses
    too, which cost one hash as well) took every core and stalled every other call for seconds."""

    def __init__(self, slots: int, queue: int):
        self.semaphore = asyncio.Semaphore(slots)
        self.queue = queue
        self.waiting = 0

    async def run(self, work: Callable[..., T], *args) -> T:
        if self.semaphore.locked() and self.waiting >= self.queue:
            raise HashersBusy("The service is busy checking passwords; try again in a moment.",
                              headers={"Retry-After": "1"})
        self.waiting += 1
        try:
            await self.semaphore.acquire()
        finally:
            self.waiting -= 1
        try:
            # Off the event loop: the loop keeps serving the other calls meanwhile.
            return await to_thread.run_sync(work, *args)
        finally:
            self.semaphore.release()


def hash_slots(settings: Settings) -> HashSlots:
    # Half the cores by default: argon2 runs several lanes per hash, and the event loop needs a core too.
    slots = settings.password_hash_slots or max(1, (os.cpu_count() or 2) // 2)
    return HashSlots(slots, settings.password_hash_queue)


async def hash_password(hasher: PasswordHasher, password: str, *, slots: HashSlots | None = None) -> str:
    # argon2 is deliberately slow and memory-hard: keep it off the event loop.
    if slots is not None:
        return await slots.run(hasher.hash, password)
    return await to_thread.run_sync(hasher.hash, password)


async def verify_password(hasher: PasswordHasher, password_hash: str | None, password: str, *,
                          slots: HashSlots | None = None) -> bool:
    def verify() -> bool:
        try:
            # A missing hash still costs one verification, so timing does not tell accounts apart.
            return hasher.verify(password_hash or _DUMMY_HASH.get(hasher), password)
        except (VerificationError, InvalidHashError):
            return False

    ok = await (slots.run(verify) if slots is not None else to_thread.run_sync(verify))
    return ok and password_hash is not None


class _DummyHash:
    def __init__(self) -> None:
        self._by_params: dict[tuple, str] = {}

    def get(self, hasher: PasswordHasher) -> str:
        key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
        if key not in self._by_params:
            self._by_params[key] = hasher.hash(secrets.token_hex(16))
        return self._by_params[key]


_DUMMY_HASH = _DummyHash()


def new_token() -> str:
    """A random 128-bit token, as 32 lowercase hex characters (the contract's SessionToken form)."""
    return secrets.token_hex(16)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True)
class Caller:
    """The agent behind the current request."""

    agent_id: int
    role_id: int
    session_id: int
    expires_at: datetime

    @property
    def is_manager(self) -> bool:
        return self.role_id == ROLE_MANAGER


# Unbounded parameters on purpose: a malformed token is a 401 like any wrong one, not a 422, and
# validation errors here would keep the session check from running at all. async: a plain def dependency runs
# in the thread pool, a thread hop on every request. The token's parameters are current_caller's own (no
# sub-dependency for them): it runs on every request, and each dependency level costs FastAPI a resolution.
def presented_token(session_token: str | None, authorization: str | None) -> str | None:
    if session_token:
        token = session_token
    elif authorization and authorization[:7].lower() == "bearer ":
        token = authorization[7:].strip()
    else:
        return None
    # Anything longer than a real token cannot match one; hashing it would only cost time.
    return token[:64]


async def current_caller(
    request: Request,
    session_token: Annotated[str | None, Query(alias="SessionToken")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Caller:
    # On a connection of its own, not the request's ORM session: the hot routes have none.
    return await _presented(request, session_token, authorization).check()


def _presented(request: Request, session_token: str | None, authorization: str | None) -> "PresentedSession":
    """The presented token, not yet checked; 401 at once if there is none."""
    token = presented_token(session_token, authorization)
    if not token:
        raise Unauthorized("A SessionToken is required; log on with AgentLogon.", code="session_required")
    state = request.app.state
    return PresentedSession(token, timedelta(minutes=state.settings.session_idle_minutes), state.raw)


def session_invalid() -> Unauthorized:
    return Unauthorized("The session has expired or was ended; log on again.", code="session_invalid")


class PresentedSession:
    """A token that the route checks itself, in the same statement as its work (SendMessage, GrabChat and
    GetChats on PostgreSQL: the separate session check was a quarter of their CPU); `check` is the
    separate check, for the other paths (SQLite). An error found before the route's statement ran is told
    only after `check` (contract.py's error handlers), so a wrong session is still refused first."""

    __slots__ = ("token", "idle", "raw_connections", "verified")

    def __init__(self, token: str, idle: timedelta, raw_connections: rawdb.RawConnections):
        self.token = token
        self.idle = idle
        self.raw_connections = raw_connections
        self.verified = False

    async def check(self, connection: rawdb.Raw | None = None) -> Caller:
        if connection is None:
            async with self.raw_connections.connect() as connection:
                caller = await authenticate(connection, self.token, idle=self.idle)
        else:
            caller = await authenticate(connection, self.token, idle=self.idle)
        if caller is None:
            raise session_invalid()
        self.verified = True
        return caller

    def check_in_thread(self, connection: rawdb.SqliteInThread) -> Caller:
        """check, inside Raw.in_one_hop (SQLite)."""
        caller = authenticate_in_thread(connection, self.token, idle=self.idle)
        if caller is None:
            raise session_invalid()
        self.verified = True
        return caller

    @staticmethod
    def session_cte(token: str, now: str, extend_to: str, due: str) -> str:
        """SQL: `s` (id, agent_id, expires_at, role_id) — the live session, or no row — and the once-a-minute
        extension (authenticate's), for a statement whose parameters are named by the arguments."""
        return (f"s AS ({_session_lookup(token, now)}), "
                f"x AS (UPDATE agent_session SET expires_at = {extend_to} WHERE id = (SELECT id FROM s) "
                f"AND expires_at <= {due} RETURNING id)")

    def cte(self, args: list, now: datetime) -> str:
        """session_cte for a statement built from parts: this session's values appended to `args`."""
        token, _, extend_to, due = self.session_args(now)
        return self.session_cte(*(rawdb.parameter(args, value) for value in (token, now, extend_to, due)))

    def session_args(self, now: datetime) -> tuple:
        """The values for session_cte's parameters: token, now, extend_to, due."""
        return token_hash(self.token), now, now + self.idle, now + self.idle - EXTEND_GRANULARITY

    def caller(self, row, now: datetime) -> Caller:
        """The Caller from `s`'s four columns (as session_cte's statement left them, extension included)."""
        live = _live_session(row, now, self.idle)
        if live is None:  # the callers refuse a missing row first; this says so to the type checker too
            raise session_invalid()
        self.verified = True
        return live[0]


async def presented_session(
    request: Request,
    session_token: Annotated[str | None, Query(alias="SessionToken")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> PresentedSession:
    """current_caller for the routes that check the session in their own statement: 401 at once if no token
    is presented; the route refuses a wrong one (PresentedSession)."""
    session = _presented(request, session_token, authorization)
    request.state.presented_session = session  # for contract.py's error handlers
    return session


def _session_lookup(token: str, now: str) -> str:
    """SQL: the live session of a token hash (`s`: id, agent_id, expires_at, role_id), or no row."""
    return ("SELECT s.id, s.agent_id, s.expires_at, a.role_id FROM agent_session s JOIN agent a ON a.id = s.agent_id "
            f"WHERE s.token_hash = {token} AND s.revoked_at IS NULL AND s.expires_at > {now} AND a.enabled")


# The session's columns as a statement that checks it returns them: _live_session reads them by these names.
SESSION_COLUMNS = ("s.id AS session_id, s.agent_id AS session_agent_id, s.expires_at AS session_expires_at, "
                   "s.role_id AS session_role_id")
_SESSION_LOOKUP = f"SELECT {SESSION_COLUMNS} FROM ({_session_lookup('$1', '$2')}) AS s"
_SESSION_EXTEND = "UPDATE agent_session SET expires_at = $1 WHERE id = $2"


async def authenticate(connection: rawdb.Raw, token: str, *, idle: timedelta) -> Caller | None:
    """The live session behind a token, pushed forward by `idle` (at most once a minute, since it writes).

    Runs on every request, so on the driver connection (in autocommit): one indexed read, and a write once
    a minute."""
    now = clock.now()
    live = _live_session(await connection.record(_SESSION_LOOKUP, token_hash(token[:64]), now), now, idle)
    if live is None:
        return None
    caller, extend = live
    if extend:
        await connection.execute(_SESSION_EXTEND, caller.expires_at, caller.session_id)
    return caller


def authenticate_in_thread(connection: rawdb.SqliteInThread, token: str, *, idle: timedelta) -> Caller | None:
    """authenticate, inside Raw.in_one_hop (SQLite)."""
    now = clock.now()
    live = _live_session(connection.record(_SESSION_LOOKUP, token_hash(token[:64]), now), now, idle)
    if live is None:
        return None
    caller, extend = live
    if extend:
        connection.execute(_SESSION_EXTEND, caller.expires_at, caller.session_id)
    return caller


def _live_session(row, now: datetime, idle: timedelta) -> tuple[Caller, bool] | None:
    """The Caller of a row with SESSION_COLUMNS, and whether its expiry is due to be pushed forward (then done)."""
    if row is None:
        return None
    session_id, agent_id, role_id = row["session_id"], row["session_agent_id"], row["session_role_id"]
    expires_at = rawdb.to_time(row["session_expires_at"])
    extend = now + idle - expires_at >= EXTEND_GRANULARITY
    if extend:
        expires_at = now + idle
    return Caller(agent_id=agent_id, role_id=role_id, session_id=session_id, expires_at=expires_at), extend


async def manager_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    if not caller.is_manager:
        raise Forbidden("Only a Manager may do this.", code="manager_only")
    return caller


def only_checked_sessions(scope: Mapping[str, Any], send: Callable) -> Callable:
    """`send` for an answer that cannot be a success unless the session presented to it was checked.

    A hot route gets a PresentedSession: a token, checked by the call's own statement (or `check`). A route that
    forgot to check it would serve anyone, so whatever route took one (security.presented_session records it on the
    request) and answers below 400 without having checked it answers 401 session_invalid instead, and the slip is
    logged. The whole app's answers pass here (LeanRoutesFirst), lean routes and FastAPI's alike."""
    replaced = False

    async def guarded(message: dict) -> None:
        nonlocal replaced
        if replaced:
            return  # the forgetful route's body
        if message["type"] == "http.response.start" and message["status"] < 400:
            session = scope.get("state", {}).get("presented_session")
            if session is not None and not session.verified:
                replaced = True
                log.error("%s %s answered %d without checking its session: refused with 401", scope.get("method"),
                          scope.get("path"), message["status"])
                body = json.dumps(session_invalid().body()).encode()
                await send({"type": "http.response.start", "status": 401, "headers": [
                    (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await send(message)
    return guarded


CurrentAgent = Annotated[Caller, Depends(current_caller)]
ManagerOnly = Annotated[Caller, Depends(manager_caller)]
Presented = Annotated[PresentedSession, Depends(presented_session)]
