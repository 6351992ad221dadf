"""Departments and the welcome-menu fields the bot reads."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import routing
from agentchat.contract import Conflict, Invalid, NotFound
from agentchat.departments.models import Department, DepartmentTag
from agentchat.departments.schemas import CreateDepartmentIn, UpdateDepartmentIn
from agentchat.tags.models import Tag


async def get_department(db: AsyncSession, department_id: int, *, field: str = "DepartmentID") -> Department:
    department = await db.get(Department, department_id)
    if department is None:
        raise NotFound(f"No department has ID {department_id}.", code="department_not_found", field=field)
    return department


async def check_department_ids(db: AsyncSession, department_ids: list[int]) -> list[int]:
    """The given IDs, de-duplicated and sorted; 404 naming the first unknown one."""
    wanted = sorted(set(department_ids))
    found = set((await db.execute(select(Department.id).where(Department.id.in_(wanted)))).scalars())
    for department_id in wanted:
        if department_id not in found:
            raise NotFound(f"No department has ID {department_id}.", code="department_not_found",
                           field="DepartmentIDs")
    return wanted


async def _check_tag_ids(db: AsyncSession, tag_ids: list[int]) -> list[int]:
    wanted = sorted(set(tag_ids))
    found = set((await db.execute(select(Tag.id).where(Tag.id.in_(wanted)))).scalars())
    for tag_id in wanted:
        if tag_id not in found:
            raise NotFound(f"No tag has ID {tag_id}.", code="tag_not_found", field="TagIDs")
    return wanted


async def create_department(db: AsyncSession, data: CreateDepartmentIn) -> Department:
    # The name arrives through _apply with the other fields, so that it is checked for clashes too.
    department = Department(include_in_welcome_menu=False, enabled=True, routing_enabled=False, csat_enabled=False,
                            routing_strategy="LeastBusy", tags=[])
    return await _apply(db, department, data.model_dump(exclude_unset=True))


async def update_department(db: AsyncSession, data: UpdateDepartmentIn) -> Department:
    department = await get_department(db, data.department_id)
    changes = data.model_dump(exclude_unset=True)
    changes.pop("department_id")
    return await _apply(db, department, changes)


async def _apply(db: AsyncSession, department: Department, changes: dict) -> Department:
    for key in ("name", "include_in_welcome_menu", "enabled", "routing_enabled", "csat_enabled",
                "routing_strategy"):
        if key in changes and changes[key] is None:
            changes.pop(key)
    if "name" in changes and changes["name"] != department.name:
        await _check_name_free(db, changes["name"])
    tag_ids = changes.pop("tag_ids", None)
    if tag_ids is not None:
        wanted = await _check_tag_ids(db, tag_ids)
        kept = [link for link in department.tags if link.tag_id in wanted]
        have = {link.tag_id for link in kept}
        department.tags = kept + [DepartmentTag(tag_id=t) for t in wanted if t not in have]
    for key, value in changes.items():
        setattr(department, key, value)
    if department.include_in_welcome_menu and department.menu_option is None:
        raise Invalid("A department in the welcome menu needs a MenuOption.", code="menu_option_required",
                      field="MenuOption")
    await _check_menu_option_free(db, department)
    db.add(department)
    try:
        await db.flush()
    except IntegrityError as exc:
        # A concurrent request took the name or the menu option between our check and our write.
        raise Conflict("Another department already uses this name or menu option.", code="department_conflict",
                       ) from exc
    if department.routing_enabled and department.enabled:
        routing.route_after_commit(db, department_ids=(department.id,))
    return department


async def _check_name_free(db: AsyncSession, name: str) -> None:
    if (await db.execute(select(Department.id).where(Department.name == name))).first():
        raise Conflict("Another department already has this name.", code="department_name_taken", field="Name")


async def _check_menu_option_free(db: AsyncSession, department: Department) -> None:
    if not (department.enabled and department.include_in_welcome_menu):
        return
    query = select(Department.name).where(
        Department.menu_option == department.menu_option,
        Department.enabled.is_(True),
        Department.include_in_welcome_menu.is_(True),
    )
    if department.id is not None:
        query = query.where(Department.id != department.id)
    holder = (await db.execute(query)).scalar_one_or_none()
    if holder is not None:
        raise Conflict(f"Menu option {department.menu_option} is already used by {holder}.",
                       code="menu_option_taken", field="MenuOption")


async def list_departments(db: AsyncSession) -> list[Department]:
    return list((await db.execute(select(Department).order_by(Department.id))).scalars())


async def welcome_menu(db: AsyncSession) -> list[Department]:
    """The departments the bot offers, in menu order."""
    query = (select(Department)
             .where(Department.enabled.is_(True), Department.include_in_welcome_menu.is_(True))
             .order_by(Department.menu_option))
    return list((await db.execute(query)).scalars())
