from typing import Annotated

from fastapi import APIRouter, Query, Request

from agentchat.agents.schemas import AgentOut
from agentchat.auth import service as auth
from agentchat.auth.schemas import ExpiresOut, LogonIn, LogonOut, SetPasswordIn
from agentchat.contract import Schema, Unauthorized, normalise_email
from agentchat.db import DbSession, commit_and_publish
from agentchat.security import CurrentAgent

router = APIRouter()


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
    result = await auth.logon(db, state.settings, state.password_hasher, email=body.email_address,
                              password=body.password, client_ip=client_ip(request))
    await commit_and_publish(db)
    if result is None:
        raise Unauthorized("The e-mail address or password is wrong.", code="invalid_credentials")
    return LogonOut(session_token=result.token, expires_at=result.session.expires_at,
                    agent=AgentOut.model_validate(result.agent))


@router.post("/api/SetPassword", tags=["Authentication"])
async def set_password(body: SetPasswordIn, request: Request, db: DbSession) -> Updated:
    if not await auth.set_password(db, request.app.state.password_hasher, code=body.reset_code,
                                   password=body.password):
        raise Unauthorized("The reset code is unknown, used or expired; ask for a new one.",
                           code="reset_code_invalid", field="ResetCode")
    await commit_and_publish(db)
    return Updated()


@router.get("/api/RequestPasswordReset", tags=["Authentication"])
async def request_password_reset(
    email_address: Annotated[str, Query(alias="EmailAddress", max_length=254)], request: Request, db: DbSession
) -> Requested:
    try:
        email = normalise_email(email_address)
    except ValueError:
        return Requested()
    await auth.request_password_reset(db, request.app.state.settings, email=email)
    await commit_and_publish(db)
    return Requested()


@router.get("/api/AgentLogoff", tags=["Authentication"])
async def agent_logoff(caller: CurrentAgent, db: DbSession) -> LoggedOff:
    await auth.logoff(db, session_id=caller.session_id, agent_id=caller.agent_id)
    await commit_and_publish(db)
    return LoggedOff()


@router.get("/api/KeepAlive", tags=["Authentication"])
async def keep_alive(caller: CurrentAgent) -> ExpiresOut:
    return ExpiresOut(expires_at=caller.expires_at)
