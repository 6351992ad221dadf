"""The managers' audit log calls: GetAuditLog and its CSV export."""

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat.audit import service as audit
from agentchat.auth.routes import client_ip
from agentchat.chats.routes import parse_when
from agentchat.compat import IDsInQueryOrBody
from agentchat.contract import MAX_ID, Invalid, Page, Paging, Schema, paging
from agentchat.db import DbSession, commit_and_publish
from agentchat.security import ManagerOnly
from agentchat.spreadsheet import safe_cell
from agentchat.webheaders import DOWNLOAD_HEADERS

router = APIRouter(tags=["Audit log"], route_class=IDsInQueryOrBody)

CSV_HEADER = ("AuditEntryID", "At", "AgentID", "AgentName", "Action", "TargetType", "TargetID", "ClientIP",
              "Details")
EXPORT_BATCH = 500


class AuditEntryOut(Schema):
    audit_entry_id: int
    at: str
    agent_id: int | None
    agent_name: str | None
    action: str
    target_type: str | None
    target_id: int | None
    client_ip: str | None = Field(alias="ClientIP")
    details: dict[str, Any]


async def audit_filter(
    agent_id: Annotated[int | None, Query(alias="AgentID", ge=1, le=MAX_ID)] = None,
    action: Annotated[tuple[str, ...], Query(alias="Action", max_length=20)] = (),
    target_type: Annotated[str | None, Query(alias="TargetType", min_length=1, max_length=32)] = None,
    target_id: Annotated[int | None, Query(alias="TargetID", ge=1, le=MAX_ID)] = None,
    at_from: Annotated[str | None, Query(alias="From", max_length=40)] = None,
    at_to: Annotated[str | None, Query(alias="To", max_length=40)] = None,
) -> audit.AuditFilter:
    actions = [a.strip() for a in action if a.strip()]
    if any(len(a) > 48 for a in actions):
        raise Invalid("Action must be at most 48 characters.", code="invalid_field", field="Action")
    # PostgreSQL cannot hold NUL in text: a 422 here, not a driver error (500).
    for name, value in (("Action", "".join(actions)), ("TargetType", target_type or ""),
                        ("From", at_from or ""), ("To", at_to or "")):
        if "\x00" in value:
            raise Invalid(f"{name} must not contain NUL characters.", code="invalid_field", field=name)
    where = audit.AuditFilter(agent_id=agent_id, actions=tuple(actions), target_type=target_type,
                              target_id=target_id, at_from=parse_when(at_from, "From", upper=False),
                              at_to=parse_when(at_to, "To", upper=True))
    if where.at_from and where.at_to and where.at_from > where.at_to:
        raise Invalid("From must not be after To.", code="invalid_field", field="From")
    return where


Filter = Annotated[audit.AuditFilter, Depends(audit_filter)]


@router.get("/api/GetAuditLog")
async def get_audit_log(_caller: ManagerOnly, db: DbSession, where: Filter,
                        page: Annotated[Paging, Depends(paging)]) -> Page[AuditEntryOut]:
    items, total = await audit.list_entries(db, where=where, paging=page)
    return Page[AuditEntryOut](items=[AuditEntryOut.model_validate(_snake(i)) for i in items], page=page.page,
                               page_size=page.page_size, total=total)


@router.get("/api/ExportAuditLog", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "The audit log's entries as CSV."}})
async def export_audit_log(request: Request, caller: ManagerOnly, db: DbSession, where: Filter) -> StreamingResponse:
    # The export is itself accounted for, before a byte of it leaves.
    audit.record(db, "AuditLogExported", actor_agent_id=caller.agent_id, client_ip=client_ip(request),
                 details=_filter_details(where))
    await commit_and_publish(db)
    return StreamingResponse(_csv(request.app.state.sessionmaker, where), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="audit-log.csv"',
                                      **DOWNLOAD_HEADERS})


def _snake(item: dict) -> dict:
    return {"audit_entry_id": item["AuditEntryID"], "at": item["At"], "agent_id": item["AgentID"],
            "agent_name": item["AgentName"], "action": item["Action"], "target_type": item["TargetType"],
            "target_id": item["TargetID"], "client_ip": item["ClientIP"], "details": item["Details"]}


def _filter_details(where: audit.AuditFilter) -> dict:
    return {"AgentID": where.agent_id, "Actions": list(where.actions), "TargetType": where.target_type,
            "TargetID": where.target_id, "From": str(where.at_from) if where.at_from else None,
            "To": str(where.at_to) if where.at_to else None}


async def _csv(sessionmaker: async_sessionmaker[AsyncSession], where: audit.AuditFilter) -> AsyncIterator[bytes]:
    """Batch by batch, each read in its own short transaction (a slow download holds no connection)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    before_id = None
    while True:
        async with sessionmaker() as db:
            rows = await audit.entries_after(db, where=where, before_id=before_id, limit=EXPORT_BATCH)
        for row in rows:
            writer.writerow((row["AuditEntryID"], row["At"], row["AgentID"] or "", safe_cell(row["AgentName"] or ""),
                             row["Action"], row["TargetType"] or "", row["TargetID"] or "", row["ClientIP"] or "",
                             safe_cell(json.dumps(row["Details"], ensure_ascii=False, sort_keys=True))))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < EXPORT_BATCH:
            return
        before_id = rows[-1]["AuditEntryID"]
