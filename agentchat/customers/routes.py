"""The agents' customer calls: details, comments, search, and POPIA erasure."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat.audit import service as audit
from agentchat.compat import IDsInQueryOrBody
from agentchat.contract import Invalid, Page, Paging, paging
from agentchat.customers import fastpath
from agentchat.customers import service as customers
from agentchat.customers.models import Customer
from agentchat.customers.schemas import AddCommentIn, CustomerOut, EraseCustomerIn, Erased, UpdateCustomerIn
from agentchat.db import DbSession, commit_and_publish
from agentchat.security import CurrentAgent, ManagerOnly, Presented

router = APIRouter(tags=["Customers"], route_class=IDsInQueryOrBody)


async def customer_out(db: AsyncSession, customer: Customer) -> CustomerOut:
    view = await customers.view_customer(db, customer)
    return CustomerOut.of(view.customer, view.comments, view.tag_ids)


@router.post("/api/UpdateCustomer")
async def update_customer(body: UpdateCustomerIn, caller: CurrentAgent, db: DbSession) -> CustomerOut:
    customer = await customers.update_customer(db, caller=caller, customer_id=body.customer_id, name=body.name,
                                               email_address=body.email_address, comment=body.comments,
                                               tag_id=body.tag_id)
    await commit_and_publish(db)
    return await customer_out(db, customer)


@router.post("/api/AddComment")
async def add_comment(body: AddCommentIn, caller: CurrentAgent, db: DbSession) -> CustomerOut:
    customer = await customers.add_comment(db, caller=caller, customer_id=body.customer_id, text=body.comment)
    await commit_and_publish(db)
    return await customer_out(db, customer)


# SearchCustomer is a hot call: no ORM session (fastpath.py; the session checked in its statement), and a lean
# route in front of it (leanroute.py, LEAN_ENDPOINTS). service.search_customers is the same search through the ORM.
@router.get("/api/SearchCustomer", response_model=Page[CustomerOut])
async def search_customer(
    request: Request,
    session: Presented,
    search: Annotated[str, Query(alias="Search", min_length=1, max_length=100)],
    page: Annotated[Paging, Depends(paging)],
) -> Response:
    search = search.strip()
    if not search or "\x00" in search:
        raise Invalid("Search must hold 1 to 100 characters.", code="invalid_field", field="Search")
    # here=False: on SQLite its scans run in aiosqlite's thread, beside the loop's other work, and take no turn of it.
    async with request.app.state.raw.connect(heavy_read=True, here=False) as raw:
        return Response(await fastpath.search_customers_json(raw, session=session, search=search, paging=page),
                        media_type="application/json")


@router.post("/api/EraseCustomer")
async def erase_customer(body: EraseCustomerIn, caller: ManagerOnly, request: Request, db: DbSession) -> Erased:
    await customers.erase_customer(db, caller=caller, customer_id=body.customer_id,
                                   storage=request.app.state.file_storage)
    audit.manager_action(db, caller, "CustomerErased", "Customer", body.customer_id)
    await commit_and_publish(db)
    return Erased(customer_id=body.customer_id)


# Served by lean routes in front of FastAPI's (leanroute.py), as the hot chat calls are.
LEAN_ENDPOINTS = (search_customer,)
