"""Canned responses: ready-made replies with a short code, and the variables filled in when one is used."""

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat.agents.models import Agent
from agentchat.canned.models import CannedResponse
from agentchat.canned.schemas import VARIABLE
from agentchat.chats.models import Chat
from agentchat.company import service as company
from agentchat.contract import Conflict, NotFound
from agentchat.customers.models import Customer
from agentchat.departments.models import Department

_UNSET = object()


async def get_canned_response(db: AsyncSession, canned_response_id: int) -> CannedResponse:
    found = await db.get(CannedResponse, canned_response_id)
    if found is None:
        raise NotFound(f"No canned response has ID {canned_response_id}.", code="canned_response_not_found",
                       field="CannedResponseID")
    return found


async def _check_short_code_free(db: AsyncSession, short_code: str | None, *, except_id: int | None = None) -> None:
    if short_code is None:
        return
    query = select(CannedResponse.id).where(CannedResponse.short_code == short_code)
    if except_id is not None:
        query = query.where(CannedResponse.id != except_id)
    if (await db.execute(query)).first():
        raise Conflict(f"Another canned response already has the short code {short_code}.",
                       code="short_code_taken", field="ShortCode")


async def _flush(db: AsyncSession) -> None:
    try:
        await db.flush()
    except IntegrityError as exc:
        raise Conflict("Another canned response already has this short code.", code="short_code_taken",
                       field="ShortCode") from exc


async def create_canned_response(db: AsyncSession, *, name: str, text: str,
                                 short_code: str | None = None) -> CannedResponse:
    await _check_short_code_free(db, short_code)
    response = CannedResponse(name=name, text=text, short_code=short_code)
    db.add(response)
    await _flush(db)
    return response


async def update_canned_response(db: AsyncSession, *, canned_response_id: int, name: str | None = None,
                                 text: str | None = None, short_code=_UNSET) -> CannedResponse:
    """Change the fields given; short_code=None removes the code, leaving it out keeps it."""
    response = await get_canned_response(db, canned_response_id)
    if short_code is not _UNSET and short_code != response.short_code:
        await _check_short_code_free(db, short_code, except_id=response.id)
        response.short_code = short_code
    if name is not None:
        response.name = name
    if text is not None:
        response.text = text
    await _flush(db)
    return response


async def delete_canned_response(db: AsyncSession, *, canned_response_id: int) -> None:
    response = await get_canned_response(db, canned_response_id)
    await db.execute(delete(CannedResponse).where(CannedResponse.id == response.id))
    db.expunge(response)


def _like_pattern(search: str) -> str:
    escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_canned_responses(db: AsyncSession, *, search: str | None = None) -> list[CannedResponse]:
    """All responses by name; with a search, those whose name, text or short code contain it (any case)."""
    query = select(CannedResponse).order_by(CannedResponse.name, CannedResponse.id)
    if search:
        pattern = _like_pattern(search)
        columns = (CannedResponse.name, CannedResponse.text, CannedResponse.short_code)
        query = query.where(or_(*(column.ilike(pattern, escape="\\") for column in columns)))
    return list((await db.execute(query)).scalars())


async def render_canned_response(db: AsyncSession, *, text: str, chat: Chat, agent: Agent | None) -> str:
    """The text with its variables filled in for this chat and agent; unknown variables stay as written."""
    customer = await db.get(Customer, chat.customer_id)
    department = await db.get(Department, chat.department_id) if chat.department_id else None
    values = {
        "CustomerName": (customer.name if customer else None) or "",
        "AgentName": agent.name if agent else "",  # None: removed since the session was checked
        "DepartmentName": department.name if department else "",
        "CompanyName": await company.get_setting(db, "CompanyName"),
    }

    def fill(match) -> str:
        value = values.get(match.group(1))
        return match.group(0) if value is None else value

    return VARIABLE.sub(fill, text)


async def render_for_chat(db: AsyncSession, *, canned_response_id: int, chat: Chat, agent_id: int) -> str:
    response = await get_canned_response(db, canned_response_id)
    agent = await db.get(Agent, agent_id)
    return await render_canned_response(db, text=response.text, chat=chat, agent=agent)
