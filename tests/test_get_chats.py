"""GetChats reviewed against an expectation worked out here, from the rows themselves and the visibility rule
(service.visible_to: managers see every chat; agents their departments' chats and the chats assigned to them),
on SQLite and PostgreSQL. The fast path builds an agent's page from index ranges and counts it in two capped
parts (chats/fastpath.py); these tests look for what a user would notice if that went wrong."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from chat_helpers import add_department
from conftest import add_agent
from sqlalchemy import select, update

from agentchat import clock
from agentchat.agents.models import AgentDepartment
from agentchat.chats.models import ASSIGNED, CLOSED, UNASSIGNED, WHATSAPP, Chat
from agentchat.customers.models import Customer
from agentchat.departments.models import Department


@dataclass
class Office:
    sales: int
    support: int
    billing: int  # nobody writes to Billing: its agents' page holds only what is assigned to them
    manager: str
    tokens: dict[str, str]
    ids: dict[str, int]


@pytest.fixture
def office(server, api, manager) -> Office:
    sales = add_department(server, "Sales", menu_option=1)
    support = add_department(server, "Support", menu_option=2)
    billing = add_department(server, "Billing", menu_option=3)
    ids = {"alice": add_agent(server, name="Alice", department_ids=(sales,)),
           "bob": add_agent(server, name="Bob", department_ids=(sales,)),
           "carol": add_agent(server, name="Carol", department_ids=(support,)),
           "erin": add_agent(server, name="Erin", department_ids=(sales, billing)),
           "frank": add_agent(server, name="Frank", department_ids=(billing,)),
           "nora": add_agent(server, name="Nora")}  # in no department
    tokens = {name: api.logon(f"{name}@example.com") for name in ids}
    return Office(sales=sales, support=support, billing=billing, manager=manager, tokens=tokens, ids=ids)


T0 = datetime(2024, 5, 1, 8, 0, 0)


def add_chats(server, *specs: dict) -> list[int]:
    """Chats written straight into the table (each with its own customer), so that times, ties and states are
    exactly as given: dicts of Chat's columns (status, department_id, agent_id, created_at)."""
    async def work(db):
        chats = []
        for spec in specs:
            customer = Customer(name="Customer")
            db.add(customer)
            await db.flush()
            chat = Chat(customer_id=customer.id, channel=WHATSAPP, **{"created_at": clock.now(), **spec})
            db.add(chat)
            await db.flush()
            chats.append(chat.id)
        return chats
    return server.with_db(work)


def assign(server, chat_id: int, agent_id: int) -> None:
    async def work(db):
        await db.execute(update(Chat).where(Chat.id == chat_id).values(status=ASSIGNED, agent_id=agent_id,
                                                                       assigned_at=clock.now()))
    server.with_db(work)


def expected(server, viewer: int | None, *, statuses=(), department_id=None, agent_id=None, customer_id=None,
             created_from=None, created_to=None) -> list[int]:
    """The chats `viewer` (None: a Manager) may see that match, newest first: worked out in Python from every
    row, not by the SQL under review."""
    async def work(db):
        chats = list((await db.execute(select(Chat))).scalars())
        departments = set((await db.execute(select(AgentDepartment.department_id)
                                            .where(AgentDepartment.agent_id == viewer))).scalars())
        return chats, departments
    chats, departments = server.with_db(work)
    found = [c for c in chats
             if (viewer is None or c.department_id in departments or c.agent_id == viewer)
             and (not statuses or c.status in statuses)
             and (department_id is None or c.department_id == department_id)
             and (agent_id is None or c.agent_id == agent_id)
             and (customer_id is None or c.customer_id == customer_id)
             and (created_from is None or c.created_at >= created_from)
             and (created_to is None or c.created_at <= created_to)]
    return [c.id for c in sorted(found, key=lambda c: (c.created_at, c.id), reverse=True)]


def every_page(api, token, page_size=50, **params) -> tuple[list[int], list[int]]:
    """The ChatIDs of every page in order, and each page's Total, up to the first empty page."""
    ids, totals = [], []
    for number in range(1, 10_000):
        page = api.ok(api.get("GetChats", token, {"PageSize": page_size, "Page": number, **params}))
        assert (page["Page"], page["PageSize"]) == (number, page_size)
        totals.append(page["Total"])
        if not page["Items"]:
            return ids, totals
        assert len(page["Items"]) <= page_size
        ids.extend(c["ChatID"] for c in page["Items"])
    raise AssertionError("no end")


def listed(api, token, page_size=50, **params) -> tuple[list[int], int]:
    """Every page's ChatIDs, and the Total, which must be the same on every page (all tests here stay below the
    cap unless they say otherwise)."""
    ids, totals = every_page(api, token, page_size, **params)
    assert len(set(totals)) == 1, totals
    return ids, totals[0]


class TestAgentsOwnAndDepartmentsChats:
    @pytest.mark.parametrize("count", [124, 125, 500])
    def test_an_agent_of_very_many_departments(self, server, api, office, count):
        # SQLite joins at most 500 SELECTs in one UNION; an agent's page is one per (department, status) plus one
        # per (their own chats, status): 124 departments make 500 with every status, 125 one too many.
        async def departments(db):
            made = [Department(name=f"Team {n}", include_in_welcome_menu=False, enabled=True, tags=[])
                    for n in range(count)]
            db.add_all(made)
            await db.flush()
            return [d.id for d in made]
        many = server.with_db(departments)
        zed = add_agent(server, name="Zed", department_ids=tuple(many))
        token = api.logon("zed@example.com")
        add_chats(server, *({"status": UNASSIGNED, "department_id": d, "created_at": T0 + timedelta(minutes=n)}
                            for n, d in enumerate(many[::11])))
        add_chats(server, {"status": ASSIGNED, "department_id": many[0], "agent_id": zed},
                  {"status": CLOSED, "department_id": office.support, "agent_id": zed},
                  {"status": UNASSIGNED, "department_id": office.support})
        assert listed(api, token, page_size=3) == (expected(server, zed), len(expected(server, zed)))
        for status in ("Unassigned", "Closed"):
            chats = expected(server, zed, statuses=(status,))
            assert listed(api, token, page_size=3, Status=status) == (chats, len(chats))
