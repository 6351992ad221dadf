from typing import Annotated

from fastapi import APIRouter, Query

from agentchat import clock
from agentchat.audit import service as audit
from agentchat.compat import IDsInQueryOrBody, delete_route
from agentchat.contract import MAX_ID, Deleted
from agentchat.db import DbSession, commit_and_publish
from agentchat.hours import service as hours
from agentchat.hours.schemas import Day, Holiday, WorkingHoursIn, WorkingHoursNow, WorkingHoursOut
from agentchat.security import CurrentAgent, ManagerOnly

router = APIRouter(tags=["Working hours"], route_class=IDsInQueryOrBody)

DepartmentIDQuery = Annotated[int | None, Query(alias="DepartmentID", ge=1, le=MAX_ID)]


def _fields(schedule: hours.Schedule) -> dict:
    row = schedule.row
    return dict(time_zone=schedule.zone.key, department_id=row.department_id if row else None,
                days=[Day.model_validate(d) for d in row.days] if row else [],
                holidays=[Holiday.model_validate(h) for h in row.holidays] if row else [])


@router.post("/api/UpdateWorkingHours")
async def update_working_hours(body: WorkingHoursIn, caller: ManagerOnly, db: DbSession) -> WorkingHoursOut:
    schedule = await hours.update_working_hours(db, body)
    audit.manager_action(db, caller, "WorkingHoursUpdated", "Department", body.department_id, body=body)
    await commit_and_publish(db)
    return WorkingHoursOut(**_fields(schedule))


@router.get("/api/GetWorkingHours")
async def get_working_hours(_caller: CurrentAgent, db: DbSession,
                            department_id: DepartmentIDQuery = None) -> WorkingHoursNow:
    """The hours that apply to the department (its own, else the company's; DepartmentID says whose)."""
    schedule = await hours.get_working_hours(db, department_id=department_id)
    now = clock.now()
    open_now = schedule.open_at(now)
    return WorkingHoursNow(**_fields(schedule), open_now=open_now,
                           next_opening=None if open_now else schedule.next_opening(now))


@delete_route(router, "/api/DeleteWorkingHours")
async def delete_working_hours(caller: ManagerOnly, db: DbSession, department_id: DepartmentIDQuery = None) -> Deleted:
    """Not in the original: drop a department's own hours (back to the company's) or the company's (always open)."""
    await hours.delete_working_hours(db, department_id=department_id)
    audit.manager_action(db, caller, "WorkingHoursDeleted", "Department", department_id)
    await commit_and_publish(db)
    return Deleted(Deleted=True, DepartmentID=department_id)
