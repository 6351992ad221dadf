"""SearchCustomer's answer (customers/fastpath.py: the session check, search and JSON in one statement or hop)
compared with the ORM's (service.search_customers + view_customers + CustomerOut, as the route answered before),
for the same searches on the same customers, on SQLite and PostgreSQL: the two cannot drift apart unnoticed."""

from datetime import datetime

import pytest
from chat_helpers import add_department, add_tag, customer_writes, queued_chat
from conftest import add_agent, assert_error
from sqlalchemy import update

from agentchat import clock, contract
from agentchat.contract import Page, Paging
from agentchat.customers import service as customers
from agentchat.customers.models import Comment, Customer
from agentchat.customers.schemas import CustomerOut

T0 = datetime(2024, 5, 1, 8, 0, 0, 250_000)


@pytest.fixture
def people(server, api, manager):
    """Customers whose answers exercise every part of the Customer object and of the search."""
    sales = add_department(server, "Sales", menu_option=1)
    thandi = queued_chat(server, sales, phone="27821234567", name="Thandi Nkosi")
    pieter = queued_chat(server, sales, phone="27831112222", name="Pieter van_Wyk")
    zoe = queued_chat(server, sales, phone="447700900123", name="Zoë 100% Smith")
    # A WhatsApp profile name is stored as it comes; CustomerOut strips it (Unicode white space too).
    lindiwe = queued_chat(server, sales, phone="27845556666", name="\u00a0 Lindiwe\tZulu \u2003")
    slash = queued_chat(server, sales, phone="27849990000", name="Back\\Slash Naidoo")
    erased = queued_chat(server, sales, phone="27820001111", name="Erin Erased")
    api.ok(api.post("EraseCustomer", manager, {"CustomerID": erased.customer_id}))
    # Thandi: e-mail, comments, a closed chat with a tag and an active one with two (added out of order).
    old_tag, billing, returns = add_tag(server, "Old"), add_tag(server, "Billing"), add_tag(server, "Returns")
    api.ok(api.post("UpdateCustomer", manager, {"CustomerID": thandi.customer_id, "TagID": old_tag,
                                                "EmailAddress": "Thandi@Example.com", "Comments": "First call"}))
    api.ok(api.post("CloseChat", manager, {"ChatID": thandi.chat_id}))
    customer_writes(server, thandi.customer_id, "Hello again")
    for tag in (returns, billing):
        api.ok(api.post("UpdateCustomer", manager, {"CustomerID": thandi.customer_id, "TagID": tag}))
    api.ok(api.post("AddComment", manager, {"CustomerID": thandi.customer_id, "Comment": "Second call, 12 May"}))
    api.ok(api.post("UpdateCustomer", manager, {"CustomerID": zoe.customer_id, "EmailAddress": "zoe@smith.example"}))

    async def work(db):
        # A comment whose agent was deleted (AgentID null), its text as stored with white space around it.
        db.add(Comment(customer_id=thandi.customer_id, agent_id=None, text=" left by a former agent\u00a0",
                       created_at=clock.now()))
        # Customers made in the same instant: newest first, ties by CustomerID descending.
        for n in range(6):
            db.add(Customer(name=f"Twin {n} Botha", phone_number=f"2786000000{n}", created_at=T0,
                            email_address=f"twin{n}@botha.example" if n % 2 else None))
        # Erasure blanks the details too; kept here, so that only erased_at can hide this one.
        db.add(Customer(name="Erased Botha", phone_number="27869999999", created_at=T0, erased_at=T0))
        await db.execute(update(Customer).where(Customer.id == pieter.customer_id).values(created_at=T0))
    server.with_db(work)
    return {"thandi": thandi, "pieter": pieter, "zoe": zoe, "lindiwe": lindiwe, "slash": slash, "erased": erased}


def orm_answer(server, search: str, page: int, page_size: int) -> dict:
    """What SearchCustomer answered through the ORM (the route's code before the fast path)."""
    paging = Paging(page=page, page_size=page_size)

    async def work(db):
        views, total = await customers.search_customers(db, search=search.strip(), paging=paging)
        return Page[CustomerOut](items=[CustomerOut.of(v.customer, v.comments, v.tag_ids) for v in views],
                                 page=paging.page, page_size=paging.page_size, total=total)
    return server.with_db(work).model_dump(by_alias=True, mode="json")


def fast_answer(api, token: str, search: str, page: int, page_size: int) -> dict:
    return api.ok(api.get("SearchCustomer", token, {"Search": search, "Page": page, "PageSize": page_size}))


SEARCHES = ["thandi", "NKOSI", "Thandi Nkosi", "example.com", "SMITH.EX", "+27 82 123", "27-83-111", "2784",
            "%", "100%", "_", "van_w", "\\", "back\\s", "lindiwe", "LINDIWE\tZULU", "zoë", "erased", "Erin",
            "  botha  ", "twin", "botha.example", "278", "nobody", "a", "ZOË", "THANDI@example.COM"]


class TestSameAsTheOrm:
    def test_every_search_first_page(self, server, api, manager, people):
        for search in SEARCHES:
            assert fast_answer(api, manager, search, 1, 50) == orm_answer(server, search, 1, 50), search

    def test_the_customer_object_in_full(self, server, api, manager, people):
        """The comparison holds something to compare: comments in order, the active chat's tags, stripped texts."""
        thandi = fast_answer(api, manager, "thandi", 1, 50)["Items"]
        assert len(thandi) == 1 and thandi[0]["EmailAddress"] == "thandi@example.com"
        assert [c["Text"] for c in thandi[0]["Comments"]] == ["First call", "Second call, 12 May",
                                                              "left by a former agent"]
        assert [c["AgentID"] is None for c in thandi[0]["Comments"]] == [False, False, True]
        assert len(thandi[0]["TagIDs"]) == 2 and thandi[0]["TagIDs"] == sorted(thandi[0]["TagIDs"])
        assert thandi[0]["CreatedAt"].endswith("Z") and thandi[0]["Comments"][0]["CreatedAt"].endswith("Z")
        assert [c["Name"] for c in fast_answer(api, manager, "lindiwe", 1, 50)["Items"]] == ["Lindiwe\tZulu"]
        twins = fast_answer(api, manager, "botha", 1, 50)["Items"]
        assert [c["Name"] for c in twins] == [f"Twin {n} Botha" for n in reversed(range(6))]
        assert {c["CreatedAt"] for c in twins} == {"2024-05-01T08:00:00Z"}
        assert fast_answer(api, manager, "erased", 1, 50)["Items"] == []

    @pytest.mark.parametrize("page_size", [1, 2, 3, 7])
    def test_pages_and_the_capped_total(self, server, api, manager, people, monkeypatch, page_size):
        monkeypatch.setattr(contract, "COUNT_CAP", 4)
        for search in ("a", "27", "botha", "thandi", "nobody"):
            for page in range(1, 13 // page_size + 3):
                assert (fast_answer(api, manager, search, page, page_size)
                        == orm_answer(server, search, page, page_size)), (search, page)

    def test_an_agent_finds_what_a_manager_finds(self, server, api, manager, people):
        add_agent(server, name="Nora")  # in no department: the search is not limited by departments
        nora = api.logon("nora@example.com")
        assert fast_answer(api, nora, "27", 1, 50) == orm_answer(server, "27", 1, 50)


class TestRefusals:
    def test_a_wrong_session_is_refused_first(self, server, api, manager):
        assert_error(api.get("SearchCustomer", None, {"Search": "x"}), 401, "session_required")
        assert_error(api.get("SearchCustomer", "f" * 32, {"Search": "x"}), 401, "session_invalid")
        assert_error(api.get("SearchCustomer", "f" * 32, {"Search": " "}), 401, "session_invalid")
        assert_error(api.get("SearchCustomer", "f" * 32, {"PageSize": 0}), 401, "session_invalid")
        assert_error(api.get("SearchCustomer", manager, {"Search": "x", "PageSize": 0}), 422, field="PageSize")
        assert_error(api.get("SearchCustomer", manager, {"Search": "a\x00b"}), 422, field="Search")
