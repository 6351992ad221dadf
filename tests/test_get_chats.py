"""GetChats reviewed against an expectation worked out here, from the rows themselves and the visibility rule
(service.visible_to: managers see every chat; agents their departments' chats and the chats assigned to them),
on SQLite and PostgreSQL. The fast path builds an agent's page from index ranges and counts it in two capped
parts (chats/fastpath.py); these tests look for what a user would notice if that went wrong."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from chat_helpers import add_department, bot_chat, queued_chat
from conftest import add_agent, assert_error
from sqlalchemy import select, update

from agentchat import clock, contract
from agentchat.agents.models import AgentDepartment
from agentchat.chats.models import ASSIGNED, CLOSED, UNASSIGNED, WHATSAPP, Chat, ChatTag, Message
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
             created_from=None, created_to=None, tag_id=None) -> list[int]:
    """The chats `viewer` (None: a Manager) may see that match, newest first: worked out in Python from every
    row, not by the SQL under review."""
    async def work(db):
        chats = list((await db.execute(select(Chat))).scalars())
        departments = set((await db.execute(select(AgentDepartment.department_id)
                                            .where(AgentDepartment.agent_id == viewer))).scalars())
        tagged = set((await db.execute(select(ChatTag.chat_id).where(ChatTag.tag_id == tag_id))).scalars())
        return chats, departments, tagged
    chats, departments, tagged = server.with_db(work)
    found = [c for c in chats
             if (viewer is None or c.department_id in departments or c.agent_id == viewer)
             and (not statuses or c.status in statuses)
             and (department_id is None or c.department_id == department_id)
             and (agent_id is None or c.agent_id == agent_id)
             and (customer_id is None or c.customer_id == customer_id)
             and (tag_id is None or c.id in tagged)
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


def stored(statuses: list[str]) -> list[str]:
    """The Status filter's values as stored: Open is Assigned."""
    return [ASSIGNED if status == "Open" else status for status in statuses]


def customer_of(server, chat_id: int) -> int:
    async def work(db):
        return (await db.get(Chat, chat_id)).customer_id
    return server.with_db(work)


def wire(moment: datetime) -> str:
    return moment.isoformat() + "Z"


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

    def test_a_chat_of_their_department_assigned_to_them_is_listed_and_counted_once(self, server, api, office):
        alice, bob = office.tokens["alice"], office.tokens["bob"]
        chats = [queued_chat(server, office.sales, phone=f"2782300000{n}").chat_id for n in range(5)]
        clock.travel(timedelta(seconds=1))
        elsewhere = queued_chat(server, office.support, phone="27823000009").chat_id
        waiting_elsewhere = queued_chat(server, office.support, phone="27823000008").chat_id
        bot = bot_chat(server, phone="27823000007").chat_id
        api.ok(api.post("GrabChat", alice, {"ChatID": chats[0]}))
        api.ok(api.post("GrabChat", alice, {"ChatID": chats[1]}))
        api.ok(api.post("CloseChat", alice, {"ChatID": chats[1]}))
        api.ok(api.post("GrabChat", bob, {"ChatID": chats[2]}))
        assign(server, elsewhere, office.ids["alice"])
        # The expectation itself: Alice's department's five, and Support's chat assigned to her; not the other
        # Support chat, nor the chat still with the bot (no department), which only a Manager sees.
        assert sorted(expected(server, office.ids["alice"])) == sorted([*chats, elsewhere])
        assert {waiting_elsewhere, bot} <= set(expected(server, None))

        for statuses in ([], ["Open", "Closed"], ["Open", "Assigned"], ["Closed"], ["Bot"], ["Unassigned", "Bot"],
                         ["Bot", "Unassigned", "Assigned", "Closed"]):
            to_alice = expected(server, office.ids["alice"], statuses=stored(statuses))
            to_manager = expected(server, None, statuses=stored(statuses))
            for page_size in (1, 2, 50):
                assert listed(api, alice, page_size, Status=statuses) == (to_alice, len(to_alice)), statuses
                assert listed(api, office.manager, page_size, Status=statuses) == (to_manager, len(to_manager))
        assert listed(api, alice, Status=["Open", "Assigned"])[0] == [elsewhere, chats[2], chats[0]]

    def test_filters_for_an_agent_and_what_get_chat_allows(self, server, api, office):
        alice = office.ids["alice"]
        minute = timedelta(minutes=1)
        rows = dict(zip(
            ["sales_waiting", "sales_alice", "sales_bob", "support_alice", "support_alice_closed", "support_carol",
             "support_bob", "billing_alice", "sales_closed", "bot"],
            add_chats(server,
                      {"status": UNASSIGNED, "department_id": office.sales, "created_at": T0},
                      {"status": ASSIGNED, "department_id": office.sales, "agent_id": alice,
                       "created_at": T0 + minute},
                      {"status": ASSIGNED, "department_id": office.sales, "agent_id": office.ids["bob"],
                       "created_at": T0 + 2 * minute},
                      {"status": ASSIGNED, "department_id": office.support, "agent_id": alice,
                       "created_at": T0 + 3 * minute},
                      # Within the second that To=08:04:00Z names.
                      {"status": CLOSED, "department_id": office.support, "agent_id": alice,
                       "created_at": T0 + 4 * minute + timedelta(milliseconds=500)},
                      {"status": ASSIGNED, "department_id": office.support, "agent_id": office.ids["carol"],
                       "created_at": T0 + 5 * minute},
                      {"status": ASSIGNED, "department_id": office.support, "agent_id": office.ids["bob"],
                       "created_at": T0 + 6 * minute},
                      {"status": ASSIGNED, "department_id": office.billing, "agent_id": alice,
                       "created_at": T0 + 7 * minute},
                      {"status": CLOSED, "department_id": office.sales, "created_at": T0 + 8 * minute},
                      {"status": "Bot", "created_at": T0 + 9 * minute}), strict=True))
        token = office.tokens["alice"]

        def check(expect: list[str], **params):
            names = {chat_id: name for name, chat_id in rows.items()}
            ids, total = listed(api, token, 2, **params)
            assert [names[i] for i in ids] == expect and total == len(expect), params

        # A department she is not in: only her own chats there (GetChat shows them too, and nothing else there).
        check(["support_alice_closed", "support_alice"], DepartmentID=office.support)
        check(["support_alice"], DepartmentID=office.support, Status="Open")
        check(["billing_alice"], DepartmentID=office.billing)
        check(["billing_alice", "support_alice_closed", "support_alice", "sales_alice"], AgentID=alice)
        check(["sales_alice"], AgentID=alice, DepartmentID=office.sales, Status="Open")
        check(["sales_bob"], AgentID=office.ids["bob"])  # not Bob's Support chat
        check([], AgentID=office.ids["carol"])
        check(["support_alice"], CustomerID=customer_of(server, rows["support_alice"]))
        check([], CustomerID=customer_of(server, rows["support_carol"]))
        check(["support_alice_closed", "support_alice", "sales_bob", "sales_alice"],
              From=wire(T0 + minute), To=wire(T0 + 4 * minute))
        check(["support_alice", "sales_bob"], From="2024-05-01T10:02:00+02:00", To="2024-05-01T08:03:59Z")
        check(["sales_closed", "billing_alice", "support_alice_closed"], From=wire(T0 + 4 * minute), To="2024-05-01")
        check([], To="2024-04-30")
        check(["support_alice_closed"], From=wire(T0 + 2 * minute), Status="Closed", AgentID=alice)
        for params in ({"DepartmentID": office.support}, {"AgentID": alice}, {"Status": ["Open", "Closed"]},
                       {"From": wire(T0 + 3 * minute), "To": wire(T0 + 8 * minute)}):
            statuses = params.pop("Status", [])
            where = {"statuses": stored(statuses), "department_id": params.get("DepartmentID"),
                     "agent_id": params.get("AgentID")}
            if "From" in params:
                where |= {"created_from": T0 + 3 * minute,
                          "created_to": T0 + 8 * minute + timedelta(microseconds=999_999)}
            want = expected(server, alice, **where)
            assert listed(api, token, 3, Status=statuses, **params) == (want, len(want))

        # The list shows exactly the chats that GetChat lets her open.
        seen = set(listed(api, token)[0])
        for name, chat_id in rows.items():
            response = api.get("GetChat", token, {"ChatID": chat_id})
            assert response.status_code == (200 if chat_id in seen else 404), name

    def test_an_agent_in_no_department_sees_only_the_chats_assigned_to_them(self, server, api, office):
        nora = office.ids["nora"]
        mine = add_chats(server, {"status": ASSIGNED, "department_id": office.sales, "agent_id": nora},
                         {"status": CLOSED, "department_id": office.support, "agent_id": nora})
        others = add_chats(server, {"status": UNASSIGNED, "department_id": office.sales},
                           {"status": ASSIGNED, "department_id": office.sales, "agent_id": office.ids["alice"]})
        assert listed(api, office.tokens["nora"], 1) == (mine[::-1], 2) == (expected(server, nora), 2)
        assert listed(api, office.tokens["nora"], Status="Unassigned") == ([], 0)
        assert listed(api, office.tokens["nora"], DepartmentID=office.sales) == ([mine[0]], 1)
        assert_error(api.get("GetChat", office.tokens["nora"], {"ChatID": others[0]}), 404, "chat_not_found")

    def test_an_agent_whose_departments_have_no_chats(self, server, api, office):
        frank = office.tokens["frank"]  # Billing only
        add_chats(server, *({"status": status, "department_id": office.sales} for status in (UNASSIGNED, CLOSED)))
        assert listed(api, frank) == ([], 0)
        assert api.ok(api.get("GetChats", frank, {"Page": 3})) == {"Items": [], "Page": 3, "PageSize": 50, "Total": 0}
        [assigned] = add_chats(server, {"status": ASSIGNED, "department_id": office.sales,
                                        "agent_id": office.ids["frank"]})
        assert listed(api, frank) == ([assigned], 1)


    def test_the_role_is_read_on_every_call(self, server, api, office):
        add_chats(server, {"status": UNASSIGNED, "department_id": office.sales},
                  {"status": UNASSIGNED, "department_id": office.support}, {"status": "Bot"})
        alice = office.tokens["alice"]
        everything, sales = expected(server, None), expected(server, None, department_id=office.sales)
        api.ok(api.post("UpdateAgent", office.manager, {"AgentID": office.ids["alice"], "RoleID": 2}))
        assert listed(api, alice, 1) == (everything, 3)
        api.ok(api.post("UpdateAgent", office.manager, {"AgentID": office.ids["alice"], "RoleID": 1}))
        assert listed(api, alice, 1) == (sales, 1)


def capped(count: int, page: int, page_size: int, cap: int = 200) -> int:
    """The contract's Total (contract.COUNT_CAP): exact below the cap, else counted up to the cap or one past the
    page asked for."""
    return min(count, max(cap, (page - 1) * page_size + page_size + 1))


class TestPaging:
    def tied(self, server, office) -> list[int]:
        """Chats of every kind an agent sees, several created in the same instant (ChatID breaks the tie)."""
        alice, bob = office.ids["alice"], office.ids["bob"]
        second = timedelta(seconds=1)
        return add_chats(
            server,
            {"status": UNASSIGNED, "department_id": office.sales, "created_at": T0},
            {"status": ASSIGNED, "department_id": office.support, "agent_id": alice, "created_at": T0},
            {"status": ASSIGNED, "department_id": office.sales, "agent_id": alice, "created_at": T0},
            {"status": CLOSED, "department_id": office.sales, "agent_id": bob, "created_at": T0 + second},
            {"status": UNASSIGNED, "department_id": office.support, "created_at": T0 + second},
            {"status": "Bot", "created_at": T0 + second},
            {"status": CLOSED, "department_id": office.support, "agent_id": alice, "created_at": T0 + second},
            {"status": ASSIGNED, "department_id": office.sales, "agent_id": bob, "created_at": T0 + 2 * second},
            {"status": UNASSIGNED, "department_id": office.sales, "created_at": T0 - second},
            {"status": CLOSED, "department_id": office.sales, "agent_id": alice, "created_at": T0 + second},
            {"status": ASSIGNED, "department_id": office.billing, "agent_id": office.ids["erin"],
             "created_at": T0},
            {"status": UNASSIGNED, "department_id": office.sales, "created_at": T0 + 2 * second})

    def test_page_size_1_gives_every_chat_once_newest_first_with_ties_by_chat_id(self, server, api, office):
        chats = self.tied(server, office)
        viewers = {"alice": office.ids["alice"], "erin": office.ids["erin"], "carol": office.ids["carol"],
                   "manager": None}
        for name, viewer in viewers.items():
            want = expected(server, viewer)
            token = office.manager if viewer is None else office.tokens[name]
            for page_size in (1, 2, 5):
                assert listed(api, token, page_size) == (want, len(want)), (name, page_size)
        # What "newest first, ties by ChatID" means here, without the expectation's help.
        assert listed(api, office.tokens["alice"])[0] == [
            chats[11], chats[7], chats[9], chats[6], chats[3], chats[2], chats[1], chats[0], chats[8]]

    def test_a_page_past_the_end_is_empty_with_the_total(self, server, api, office):
        self.tied(server, office)
        for token, viewer in ((office.tokens["alice"], office.ids["alice"]), (office.manager, None)):
            count = len(expected(server, viewer))
            for page, page_size in ((count + 1, 1), (2, count), (-(-count // 5) + 1, 5), (1_000_000, 200)):
                assert api.ok(api.get("GetChats", token, {"Page": page, "PageSize": page_size})) == {
                    "Items": [], "Page": page, "PageSize": page_size, "Total": count}

    def test_pages_of_200_over_more_than_200_chats(self, server, api, office):
        alice = office.ids["alice"]

        def at(n: int) -> datetime:
            return T0 + timedelta(seconds=n // 7)  # seven chats to each second: ties everywhere

        kinds = ([{"status": UNASSIGNED, "department_id": office.sales}] * 150
                 + [{"status": ASSIGNED, "department_id": office.sales, "agent_id": alice}] * 80
                 + [{"status": ASSIGNED, "department_id": office.support, "agent_id": alice}] * 30
                 + [{"status": UNASSIGNED, "department_id": office.support}] * 40
                 + [{"status": CLOSED, "department_id": office.sales, "agent_id": office.ids["bob"]}] * 20)
        add_chats(server, *({**kind, "created_at": at(n * 37 % len(kinds))} for n, kind in enumerate(kinds)))
        for token, viewer in ((office.tokens["alice"], alice), (office.manager, None)):
            want = expected(server, viewer)
            assert len(want) == (280 if viewer else 320)
            ids, totals = every_page(api, token, 200)
            assert ids == want
            assert totals == [capped(len(want), page, 200) for page in (1, 2, 3)] == [201, len(want), len(want)]
            open_chats = expected(server, viewer, statuses=[ASSIGNED])
            assert listed(api, token, 200, Status="Open") == (open_chats, 110)

    def test_a_manager_and_an_agent_of_the_department_list_it_alike(self, server, api, office):
        self.tied(server, office)
        boss = add_agent(server, name="Max", role_id=2, department_ids=(office.support,))  # a Manager in Support
        boss_token = api.logon("max@example.com")
        sales = expected(server, None, department_id=office.sales)
        for page_size in (1, 3, 50):
            for token in (office.manager, boss_token, office.tokens["alice"], office.tokens["bob"],
                          office.tokens["erin"]):
                assert listed(api, token, page_size, DepartmentID=office.sales) == (sales, len(sales))
        assert listed(api, boss_token) == (expected(server, None), len(expected(server, None)))
        assert expected(server, boss) != expected(server, None)  # were Max an agent, he would see less


class TestTotal:
    def test_an_agents_two_overlapping_parts_are_counted_once_up_to_the_cap(self, server, api, office, monkeypatch):
        alice = office.ids["alice"]
        kinds = ([{"status": ASSIGNED, "department_id": office.sales, "agent_id": alice}] * 4  # in both parts
                 + [{"status": UNASSIGNED, "department_id": office.sales}] * 2  # her department's only
                 + [{"status": ASSIGNED, "department_id": office.support, "agent_id": alice}] * 2  # hers only
                 + [{"status": CLOSED, "department_id": office.support, "agent_id": alice}]
                 + [{"status": UNASSIGNED, "department_id": office.support},  # neither
                    {"status": ASSIGNED, "department_id": office.support, "agent_id": office.ids["carol"]}])
        add_chats(server, *({**kind, "created_at": T0 + timedelta(seconds=n * 7 % 5)} for n, kind in enumerate(kinds)))
        filters = [({}, {}), ({"Status": "Open"}, {"statuses": [ASSIGNED]}),
                   ({"Status": ["Closed", "Unassigned"]}, {"statuses": [CLOSED, UNASSIGNED]}),
                   ({"DepartmentID": office.sales}, {"department_id": office.sales}),
                   ({"DepartmentID": office.sales, "Status": "Open"},
                    {"department_id": office.sales, "statuses": [ASSIGNED]}),
                   ({"AgentID": alice}, {"agent_id": alice})]
        assert [len(expected(server, alice, **where)) for _, where in filters] == [9, 6, 3, 6, 4, 7]
        for cap in range(1, 11):
            monkeypatch.setattr(contract, "COUNT_CAP", cap)
            for params, where in filters:
                want = expected(server, alice, **where)
                for page_size in (1, 2, 4):
                    ids, totals = every_page(api, office.tokens["alice"], page_size, **params)
                    assert ids == want
                    assert totals == [capped(len(want), page, page_size, cap)
                                      for page in range(1, len(totals) + 1)], (cap, params, page_size)


class TestParameters:
    BAD = [({"PageSize": 0}, "PageSize"), ({"PageSize": 201}, "PageSize"), ({"PageSize": "ten"}, "PageSize"),
           ({"Page": "abc"}, "Page"), ({"Page": 0}, "Page"), ({"Page": 1_000_001}, "Page"),
           ({"DepartmentID": -1}, "DepartmentID"), ({"AgentID": 2_147_483_648}, "AgentID"),
           ({"CustomerID": "x"}, "CustomerID"), ({"Status": "Nope"}, "Status"),
           ({"Status": ["Open", "Nope"]}, "Status"), ({"Status": ["Open"] * 11}, "Status"),
           ({"From": "2024-13-01"}, "From"), ({"To": "yesterday"}, "To"),
           ({"From": "2024-05-02", "To": "2024-05-01"}, "From"), ({"From": "2024-05-01T10:00:00" + "0" * 30}, "From")]

    def test_a_bad_parameter_is_422_naming_it_but_a_wrong_session_is_told_first(self, server, api, office):
        token = office.tokens["alice"]
        api.ok(api.get("AgentLogoff", office.tokens["bob"]))
        for params, field in self.BAD:
            assert_error(api.get("GetChats", token, params), 422, "invalid_field", field)
            assert_error(api.http.get("/api/GetChats", params=params, headers={"Authorization": f"Bearer {token}"}),
                         422, "invalid_field", field)
            assert_error(api.get("GetChats", None, params), 401, "session_required")
            assert_error(api.get("GetChats", "f" * 32, params), 401, "session_invalid")
            assert_error(api.get("GetChats", office.tokens["bob"], params), 401, "session_invalid")
            assert_error(api.get("GetChats", None, {**params, "Version": "2"}), 400, "unsupported_version")

    def test_what_is_accepted(self, server, api, office):
        [chat] = add_chats(server, {"status": CLOSED, "department_id": office.sales, "created_at": T0})
        for params in ({"Status": " closed "}, {"Status": ["CLOSED", "closed"]}, {"Version": "1.2"},
                       {"From": "2024-05-01", "To": "2024-05-01"}, {"To": "2024-05-01T08:00:00.5+00:00"}):
            assert listed(api, office.tokens["alice"], 200, **params) == ([chat], 1), params

    def test_the_lean_route_answers_as_fastapis_own_route(self, server, api, office):
        from fastapi.testclient import TestClient

        from agentchat.app import create_app

        add_chats(server, *({"status": status, "department_id": office.sales, "agent_id": office.ids["alice"]}
                            for status in (ASSIGNED, CLOSED)))
        app = create_app(server.settings)
        app.router.routes[:] = [r for r in app.router.routes if not getattr(r, "name", "").startswith("lean:")]
        token = office.tokens["alice"]
        with TestClient(app) as fastapi:
            for params in [*(p for p, _ in self.BAD), {}, {"Status": "open", "PageSize": 1, "Page": 2},
                           {"DepartmentID": office.sales, "Version": "1"}]:
                for session in ({"SessionToken": token}, {}, {"SessionToken": "f" * 32}):
                    lean = api.http.get("/api/GetChats", params={**params, **session})
                    own = fastapi.get("/api/GetChats", params={**params, **session})
                    assert (lean.status_code, lean.json()) == (own.status_code, own.json()), (params, session)


def add_messages(server, chat_id: int, *specs: dict) -> None:
    """Messages written straight into the table, in order: dicts of Message's columns."""
    async def work(db):
        for n, spec in enumerate(specs):
            db.add(Message(chat_id=chat_id, **{"created_at": T0 + timedelta(seconds=n), **spec}))
    server.with_db(work)


def reference_items(server) -> dict[int, dict]:
    """GetChats' item for every chat, built here through the ORM and the response schemas (not by the SQL under
    review): the Chat, its customer's name and number, its newest customer or agent message."""
    from agentchat.chats.fastpath import SNIPPET_CHARS
    from agentchat.chats.schemas import ChatListItem, ChatOut, LastMessageOut

    async def work(db):
        items = {}
        for chat in (await db.execute(select(Chat))).scalars():
            customer = await db.get(Customer, chat.customer_id)
            tags = list((await db.execute(select(ChatTag.tag_id).where(ChatTag.chat_id == chat.id)
                                          .order_by(ChatTag.tag_id))).scalars())
            said = [m for m in (await db.execute(select(Message).where(Message.chat_id == chat.id))).scalars()
                    if m.sender_type in ("Customer", "Agent")]
            last = max(said, key=lambda m: m.id, default=None)
            last_out = last and LastMessageOut(
                sender=last.sender_type, agent_id=last.agent_id, created_at=last.created_at,
                text=None if last.text is None else last.text[:SNIPPET_CHARS],
                file_type=(last.file_type or "application/octet-stream") if last.file_key else None)
            item = ChatListItem(**ChatOut.of(chat, tags).model_dump(), customer_name=customer.name,
                                customer_phone_number=customer.phone_number, last_message=last_out)
            items[chat.id] = item.model_dump(by_alias=True, mode="json")
        return items
    return server.with_db(work)


class TestListItems:
    def test_items_carry_the_customer_and_the_last_message_as_the_orm_reference_does(self, server, api, office):
        alice = office.ids["alice"]
        minute = timedelta(minutes=1)
        chats = add_chats(server,
                          {"status": UNASSIGNED, "department_id": office.sales, "created_at": T0},
                          {"status": ASSIGNED, "department_id": office.sales, "agent_id": alice,
                           "created_at": T0 + minute},
                          {"status": ASSIGNED, "department_id": office.support, "agent_id": alice,
                           "created_at": T0 + 2 * minute},
                          {"status": CLOSED, "department_id": office.sales, "agent_id": alice,
                           "created_at": T0 + 3 * minute},
                          {"status": "Bot", "created_at": T0 + 4 * minute},
                          {"status": UNASSIGNED, "department_id": office.sales, "created_at": T0 + 5 * minute})
        long_text = "Ünïcode " + "ж" * 300

        async def customers(db):
            for chat_id, name, phone in zip(chats, ["Thandi Nkosi", None, "Sipho", "Lerato", "Bot Person", ""],
                                            ["27820000001", "27820000002", None, None, "27820000005", None],
                                            strict=True):
                customer = await db.get(Customer, (await db.get(Chat, chat_id)).customer_id)
                customer.name, customer.phone_number = name, phone
        server.with_db(customers)
        add_messages(server, chats[0], {"sender_type": "Customer", "text": "Hello"},
                     {"sender_type": "Bot", "text": "You are number 1 in the queue."})
        add_messages(server, chats[1], {"sender_type": "Customer", "text": "Hi"},
                     {"sender_type": "Agent", "agent_id": alice, "text": long_text, "delivery_status": "Sent"})
        add_messages(server, chats[2], {"sender_type": "Agent", "agent_id": alice, "text": "Here it is"},
                     {"sender_type": "Customer", "text": None, "file_name": "photo.jpg", "file_type": "image/jpeg",
                      "file_size": 10, "file_key": "k1"},
                     {"sender_type": "System", "text": "Transferred"})
        add_messages(server, chats[3], {"sender_type": "Customer", "text": "Thanks\nbye", "file_name": "x.bin",
                                        "file_size": 1, "file_key": "k2"},
                     {"sender_type": "System", "text": "Chat closed"})
        add_messages(server, chats[4], {"sender_type": "Bot", "text": "Choose a department"})
        # chats[5] has no message at all.
        reference = reference_items(server)
        assert reference[chats[0]]["LastMessage"]["Text"] == "Hello"  # the bot's notice after it is skipped
        assert reference[chats[1]]["LastMessage"]["Text"] == ("Ünïcode " + "ж" * 300)[:200]
        assert reference[chats[2]]["LastMessage"]["FileType"] == "image/jpeg"
        assert reference[chats[3]]["LastMessage"]["FileType"] == "application/octet-stream"
        assert reference[chats[4]]["LastMessage"] is None and reference[chats[5]]["LastMessage"] is None
        assert reference[chats[0]]["CustomerName"] == "Thandi Nkosi"

        for token, viewer in ((office.manager, None), (office.tokens["alice"], alice)):
            want = expected(server, viewer)
            for page_size in (1, 4, 50):
                items = []
                for number in range(1, 20):
                    page = api.ok(api.get("GetChats", token, {"PageSize": page_size, "Page": number}))["Items"]
                    if not page:
                        break
                    items.extend(page)
                assert [i["ChatID"] for i in items] == want
                assert items == [reference[chat_id] for chat_id in want]
        mine = api.ok(api.get("GetChats", office.tokens["alice"], {"Status": "Open", "AgentID": alice}))["Items"]
        assert [(i["CustomerName"], i["LastMessage"]["Sender"]) for i in mine] == [("Sipho", "Customer"),
                                                                                   (None, "Agent")]


class TestTagFilter:
    def test_only_the_chats_carrying_the_tag_that_the_caller_sees(self, server, api, office):
        from chat_helpers import add_tag

        refund, vip = add_tag(server, "Refund"), add_tag(server, "VIP")
        alice = office.ids["alice"]
        chats = add_chats(server, *({"status": status, "department_id": department, "agent_id": agent,
                                     "created_at": T0 + timedelta(minutes=n)}
                                    for n, (status, department, agent) in enumerate([
                                        (CLOSED, office.sales, alice), (CLOSED, office.sales, None),
                                        (ASSIGNED, office.support, alice), (CLOSED, office.support, None),
                                        (UNASSIGNED, office.sales, None)])))

        async def tag(db):
            for chat_id, tag_id in ((chats[0], refund), (chats[0], vip), (chats[1], vip), (chats[2], refund),
                                    (chats[3], refund)):
                db.add(ChatTag(chat_id=chat_id, tag_id=tag_id))
        server.with_db(tag)
        for token, viewer in ((office.tokens["alice"], alice), (office.manager, None)):
            for tag_id in (refund, vip):
                for status in ([], ["Closed"]):
                    want = expected(server, viewer, tag_id=tag_id, statuses=status)
                    assert listed(api, token, 1, TagID=tag_id, Status=status) == (want, len(want))
        # Alice: her department's and her own chats with Refund, not Support's closed one.
        assert listed(api, office.tokens["alice"], TagID=refund)[0] == [chats[2], chats[0]]
        assert_error(api.get("GetChats", office.manager, {"TagID": 0}), 422, "invalid_field", "TagID")
