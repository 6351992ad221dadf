from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat.agents.schemas import AgentOut
from agentchat.auth import service as auth
from agentchat.auth.schemas import ExpiresOut, LogonIn, LogonOut, SetPasswordIn
from agentchat.compat import IDsInQueryOrBody
from agentchat.config import Settings
from agentchat.contract import Schema, TooManyAttempts, Unauthorized, normalise_email
from agentchat.db import DbSession, commit_and_publish, start_background
from agentchat.security import CurrentAgent, HashersBusy, hash_password

router = APIRouter(route_class=IDsInQueryOrBody)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Requested(Schema):
    requested: bool = True


class Updated(Schema):
    updated: bool = True


class LoggedOff(Schema):
    logged_off: bool = True


@router.post("/api/AgentLogon", tags=["Authentication"])
async def agent_logon(body: LogonIn, request: Request, db: DbSession) -> LogonOut:
    state = request.app.state
    ip = client_ip(request)
    attempt = await auth.reserve_logon_attempt(db, state.settings, email=body.email_address, client_ip=ip)
    await db.commit()  # counted before the password is checked, for every concurrent attempt to see
    try:
        password_ok = await auth.check_password(state.password_hasher, state.hash_slots, attempt, body.password)
    except HashersBusy:
        await auth.cancel_logon_attempt(db, attempt_id=attempt.id)
        await db.commit()
        raise
    if not password_ok:
        auth.logon_failed(db, attempt=attempt, email=body.email_address, client_ip=ip)
        await commit_and_publish(db)
        raise Unauthorized("The e-mail address or password is wrong.", code="invalid_credentials")
    result = await auth.logon(db, state.settings, state.password_hasher, state.hash_slots, attempt=attempt,
                              password=body.password, client_ip=ip)
    await commit_and_publish(db)
    return LogonOut(session_token=result.token, expires_at=result.session.expires_at,
                    agent=AgentOut.model_validate(result.agent))


@router.post("/api/SetPassword", tags=["Authentication"])
async def set_password(body: SetPasswordIn, request: Request, db: DbSession) -> Updated:
    state = request.app.state
    live = await auth.reset_code_is_live(db, code=body.reset_code)
    await db.rollback()  # no transaction stays open during the hash (SQLite has one connection for everything)
    if not live or not await auth.set_password(
            db, code=body.reset_code, client_ip=client_ip(request),
            password_hash=await hash_password(state.password_hasher, body.password, slots=state.hash_slots)):
        raise Unauthorized("The reset code is unknown, used or expired; ask for a new one.",
                           code="reset_code_invalid", field="ResetCode")
    await commit_and_publish(db)
    return Updated()


@router.get("/api/RequestPasswordReset", tags=["Authentication"])
async def request_password_reset(
    email_address: Annotated[str, Query(alias="EmailAddress", max_length=254)], request: Request
) -> Requested:
    state = request.app.state
    retry_after = await state.reset_request_limit.hit(client_ip(request))
    if retry_after is not None:
        raise TooManyAttempts("Too many reset requests from this address; try again later.",
                              headers={"Retry-After": str(retry_after)})
    try:
        email = normalise_email(email_address)
    except ValueError:
        return Requested()
    # Answered before the address is even looked up, so the time taken says nothing about who is registered;
    # the lookup, the code and the mail follow in the background (finished at shutdown too).
    start_background(_request_password_reset(state.sessionmaker, state.settings, email, client_ip(request)))
    return Requested()


async def _request_password_reset(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                                  email: str, ip: str) -> None:
    async with sessionmaker() as db:
        await auth.request_password_reset(db, settings, email=email, client_ip=ip)
        await commit_and_publish(db)


@router.get("/api/AgentLogoff", tags=["Authentication"])
async def agent_logoff(caller: CurrentAgent, db: DbSession) -> LoggedOff:
    await auth.logoff(db, session_id=caller.session_id, agent_id=caller.agent_id)
    await commit_and_publish(db)
    return LoggedOff()


@router.get("/api/KeepAlive", tags=["Authentication"])
async def keep_alive(caller: CurrentAgent) -> ExpiresOut:
    return ExpiresOut(expires_at=caller.expires_at)
