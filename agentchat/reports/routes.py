from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from agentchat.audit import service as audit
from agentchat.compat import IDsInQueryOrBody, delete_route
from agentchat.contract import MAX_ID, ApiError, Deleted, Invalid
from agentchat.db import DbSession, commit_and_publish, start_background
from agentchat.reports import catalogue, renderers, scheduler, schedules
from agentchat.reports import service as reports
from agentchat.reports.schemas import (
    CreateRecipientIn,
    CreateScheduledReportIn,
    FileFormat,
    RecipientList,
    RecipientOut,
    ReportList,
    ReportOut,
    ScheduleOut,
    SendNowIn,
)
from agentchat.security import CurrentAgent, ManagerOnly
from agentchat.webheaders import DOWNLOAD_HEADERS

router = APIRouter(tags=["Reports"], route_class=IDsInQueryOrBody)

MAX_DAYS = 366


def _check_range(first: date, last: date) -> None:
    if last < first:
        raise Invalid("To must not be before From.", code="invalid_range", field="To")
    if (last - first).days >= MAX_DAYS:
        raise Invalid(f"A range covers at most {MAX_DAYS} days.", code="range_too_long", field="To")


@router.get("/api/GetLiveMetrics")
async def get_live_metrics(caller: CurrentAgent, db: DbSession, request: Request) -> dict:
    state = request.app.state
    cache = getattr(state, "live_metrics_cache", None)
    if cache is None:
        cache = state.live_metrics_cache = reports.LiveMetricsCache()
    return await cache.get(caller, last_event_id=await state.broker.last_event_id(),
                           compute=lambda: reports.live_metrics(db, caller=caller))


@router.get("/api/GetDashboard")
async def get_dashboard(
    _caller: ManagerOnly, db: DbSession,
    first: Annotated[date, Query(alias="From")], last: Annotated[date, Query(alias="To")],
    department_id: Annotated[int | None, Query(alias="DepartmentID", ge=1, le=MAX_ID)] = None,
    agent_id: Annotated[int | None, Query(alias="AgentID", ge=1, le=MAX_ID)] = None,
) -> dict:
    _check_range(first, last)
    return await reports.dashboard(db, first=first, last=last, department_id=department_id, agent_id=agent_id)


@router.get("/api/GetReports")
async def get_reports(_caller: ManagerOnly) -> ReportList:
    return ReportList(items=[ReportOut(report_id=r.report_id, report_number=r.number, name=r.name,
                                       description=r.description, file_formats=list(renderers.EXTENSIONS))
                             for r in catalogue.REPORTS.values()])


@router.get("/api/GetReport")
async def get_report(
    caller: ManagerOnly, db: DbSession, request: Request,
    report_id: Annotated[str, Query(alias="ReportID", max_length=40)],
    first: Annotated[date, Query(alias="From")], last: Annotated[date, Query(alias="To")],
    file_format: Annotated[FileFormat, Query(alias="FileFormat")] = "CSV",
    readable: Annotated[bool, Query(alias="Readable")] = False,
) -> Response:
    """Not in the contract: one report for a range of days (company time zone), as a file."""
    _check_range(first, last)
    report = catalogue.get_report(report_id)
    start_background(audit.record_alone(
        request.app.state.sessionmaker, "ReportExported", actor_agent_id=caller.agent_id,
        details={"ReportID": report_id, "From": first.isoformat(), "To": last.isoformat(), "FileFormat": file_format}))
    document = await renderers.open_document(db, report, first, last)
    headers = {"Content-Disposition": f'attachment; filename="{document.filename(file_format)}"', **DOWNLOAD_HEADERS}
    if file_format == "CSV":
        rows = report.rows(db, document.start, document.end, None)
        chunks = (renderers.readable_csv_chunks(report.columns, rows, document.zone) if readable
                  else renderers.csv_chunks(report.columns, rows))
        return StreamingResponse(chunks, media_type="text/csv", headers=headers)
    content = await renderers.render(db, document, file_format)
    return Response(content, media_type=renderers.MIME_TYPES[file_format], headers=headers)


@router.post("/api/CreateRecipient")
async def create_recipient(body: CreateRecipientIn, caller: ManagerOnly, db: DbSession) -> RecipientOut:
    recipient = await schedules.create_recipient(db, name=body.name, email_address=body.email_address)
    audit.manager_action(db, caller, "RecipientCreated", "Recipient", recipient.id, body=body)
    await commit_and_publish(db)
    return RecipientOut(recipient_id=recipient.id, name=recipient.name, email_address=recipient.email_address,
                        schedules=[])


@router.get("/api/GetRecipients")
async def get_recipients(_caller: ManagerOnly, db: DbSession) -> RecipientList:
    return RecipientList(items=[RecipientOut.model_validate(r) for r in await schedules.list_recipients(db)])


@delete_route(router, "/api/DeleteRecipient")
async def delete_recipient(recipient_id: Annotated[int, Query(alias="RecipientID", ge=1, le=MAX_ID)],
                           caller: ManagerOnly, db: DbSession) -> Deleted:
    await schedules.delete_recipient(db, recipient_id=recipient_id)
    audit.manager_action(db, caller, "RecipientDeleted", "Recipient", recipient_id)
    await commit_and_publish(db)
    return Deleted(Deleted=True, RecipientID=recipient_id)


@router.post("/api/CreateScheduledReport")
async def create_scheduled_report(body: CreateScheduledReportIn, caller: ManagerOnly, db: DbSession) -> ScheduleOut:
    schedule = await schedules.create_schedule(db, **body.model_dump())
    audit.manager_action(db, caller, "ScheduledReportCreated", "Schedule", schedule.id, body=body)
    await commit_and_publish(db)
    return ScheduleOut.model_validate(schedule)


@delete_route(router, "/api/DeleteScheduledReport")
async def delete_scheduled_report(schedule_id: Annotated[int, Query(alias="ScheduleID", ge=1, le=MAX_ID)],
                                  caller: ManagerOnly, db: DbSession) -> Deleted:
    await schedules.delete_schedule(db, schedule_id=schedule_id)
    audit.manager_action(db, caller, "ScheduledReportDeleted", "Schedule", schedule_id)
    await commit_and_publish(db)
    return Deleted(Deleted=True, ScheduleID=schedule_id)


@router.post("/api/SendScheduledReportNow")
async def send_scheduled_report_now(body: SendNowIn, request: Request, caller: ManagerOnly,
                                    db: DbSession) -> dict:
    """Not in the contract: mail a scheduled report now, for the period ending today."""
    try:
        await scheduler.send_now(db, request.app.state.settings, schedule_id=body.schedule_id)
    except ApiError:
        raise
    except Exception as exc:
        raise ApiError("The report could not be mailed; try again later.", code="mail_failed", status=502) from exc
    audit.manager_action(db, caller, "ScheduledReportSent", "Schedule", body.schedule_id)
    await commit_and_publish(db)
    return {"Sent": True, "ScheduleID": body.schedule_id}
