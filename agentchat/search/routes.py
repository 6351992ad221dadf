"""GET /api/Search: messages (and customers) by their words (docs/search.md)."""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from agentchat.chats.routes import parse_statuses, parse_when
from agentchat.compat import IDsInQueryOrBody
from agentchat.contract import MAX_ID, Invalid, Paging, paging
from agentchat.db import DbSession
from agentchat.search import service as search
from agentchat.security import CurrentAgent

router = APIRouter(tags=["Search"], route_class=IDsInQueryOrBody)

WORD = re.compile(r"\w")


@router.get("/api/Search")
async def search_everything(
    request: Request, caller: CurrentAgent, db: DbSession, page: Annotated[Paging, Depends(paging)],
    words: Annotated[str, Query(alias="Search", min_length=1, max_length=200)],
    at_from: Annotated[str | None, Query(alias="From", max_length=40)] = None,
    at_to: Annotated[str | None, Query(alias="To", max_length=40)] = None,
    department_id: Annotated[int | None, Query(alias="DepartmentID", ge=1, le=MAX_ID)] = None,
    agent_id: Annotated[int | None, Query(alias="AgentID", ge=1, le=MAX_ID)] = None,
    tag_id: Annotated[int | None, Query(alias="TagID", ge=1, le=MAX_ID)] = None,
    status: Annotated[tuple[str, ...], Query(alias="Status", max_length=10)] = (),
) -> dict:
    words = words.strip()
    if not words or "\x00" in words:
        raise Invalid("Search must hold 1 to 200 characters.", code="invalid_field", field="Search")
    if not WORD.search(words):
        raise Invalid("Search must hold at least one word.", code="invalid_field", field="Search")
    where = search.SearchFilter(words=words, at_from=parse_when(at_from, "From", upper=False),
                                at_to=parse_when(at_to, "To", upper=True), department_id=department_id,
                                agent_id=agent_id, tag_id=tag_id, statuses=parse_statuses(list(status)))
    if where.at_from and where.at_to and where.at_from > where.at_to:
        raise Invalid("From must not be after To.", code="invalid_field", field="From")
    items, total = await search.search_messages(db, caller=caller, where=where, paging=page,
                                                language=request.app.state.settings.search_language)
    found_customers = await search.search_customers(db, words=words) if page.page == 1 else []
    return {"Items": items, "Page": page.page, "PageSize": page.page_size, "Total": total,
            "Customers": found_customers}
