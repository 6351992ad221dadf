from fastapi import APIRouter

from agentchat.audit import service as audit
from agentchat.compat import IDsInQueryOrBody
from agentchat.db import DbSession, commit_and_publish
from agentchat.departments import service as departments
from agentchat.departments.schemas import (
    CreateDepartmentIn,
    DepartmentList,
    DepartmentOut,
    UpdateDepartmentIn,
)
from agentchat.security import CurrentAgent, ManagerOnly

router = APIRouter(tags=["Departments"], route_class=IDsInQueryOrBody)


@router.post("/api/CreateDepartment")
async def create_department(body: CreateDepartmentIn, caller: ManagerOnly, db: DbSession) -> DepartmentOut:
    department = await departments.create_department(db, body)
    audit.manager_action(db, caller, "DepartmentCreated", "Department", department.id, body=body)
    await commit_and_publish(db)
    return DepartmentOut.model_validate(department)


@router.post("/api/UpdateDepartment")
async def update_department(body: UpdateDepartmentIn, caller: ManagerOnly, db: DbSession) -> DepartmentOut:
    department = await departments.update_department(db, body)
    audit.manager_action(db, caller, "DepartmentUpdated", "Department", department.id, body=body)
    await commit_and_publish(db)
    return DepartmentOut.model_validate(department)


@router.get("/api/GetDepartments")
async def get_departments(_caller: CurrentAgent, db: DbSession) -> DepartmentList:
    items = await departments.list_departments(db)
    return DepartmentList(items=[DepartmentOut.model_validate(d) for d in items])
