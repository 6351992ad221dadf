"""The agents' customer calls, through the running server, on SQLite and PostgreSQL."""

import base64
from pathlib import Path

import pytest
from chat_helpers import add_department, add_tag, customer_writes, event_types, queued_chat
from conftest import add_agent, assert_error
from sqlalchemy import select

from agentchat import contract
from agentchat.customers.models import Customer


@pytest.fixture
def sales(server):
    return add_department(server, "Sales", menu_option=1)


@pytest.fixture
def support(server):
    return add_department(server, "Support", menu_option=2)


@pytest.fixture
def alice(server, api, sales):
    add_agent(server, name="Alice", department_ids=(sales,))
    return api.logon("alice@example.com")


@pytest.fixture
def carol(server, api, support):
    add_agent(server, name="Carol", department_ids=(support,))
    return api.logon("carol@example.com")


def customer(api, token, chat):
    return api.ok(api.get("GetChat", token, {"ChatID": chat.chat_id}))["Customer"]


class TestUpdateCustomer:
    def test_details_comment_and_tag(self, server, api, alice, sales):
        chat = queued_chat(server, sales)
        billing = add_tag(server, "Billing")
        updated = api.ok(api.post("UpdateCustomer", alice, {
            "CustomerID": chat.customer_id, "Name": "Thandi M. Nkosi", "EmailAddress": "Thandi@Example.com",
            "Comments": "Prefers e-mail", "TagID": billing}))
        assert updated["Name"] == "Thandi M. Nkosi" and updated["EmailAddress"] == "thandi@example.com"
        assert [c["Text"] for c in updated["Comments"]] == ["Prefers e-mail"]
        assert updated["Comments"][0]["AgentID"] and updated["Comments"][0]["CreatedAt"].endswith("Z")
        assert updated["TagIDs"] == [billing]
        assert api.ok(api.get("GetChat", alice, {"ChatID": chat.chat_id}))["TagIDs"] == [billing]
        # Adding the same tag again is harmless; another comment is appended.
        again = api.ok(api.post("UpdateCustomer", alice, {"CustomerID": chat.customer_id, "TagID": billing,
                                                          "Comments": "Called back"}))
        assert again["TagIDs"] == [billing]
        assert [c["Text"] for c in again["Comments"]] == ["Prefers e-mail", "Called back"]

    def test_tags_must_exist_and_be_enabled(self, server, api, alice, sales):
        chat = queued_chat(server, sales)
        retired = add_tag(server, "Retired", enabled=False)
        assert_error(api.post("UpdateCustomer", alice, {"CustomerID": chat.customer_id, "TagID": 999999}),
                     404, "tag_not_found", "TagID")
        assert_error(api.post("UpdateCustomer", alice, {"CustomerID": chat.customer_id, "TagID": retired}),
                     409, "tag_disabled", "TagID")
        assert customer(api, alice, chat)["TagIDs"] == []

    def test_bad_input(self, server, api, alice, sales):
        chat = queued_chat(server, sales)
        for body in ({"EmailAddress": "not-an-address"}, {"Name": "x" * 101}, {"Name": ""},
                     {"Comments": "x" * 2001}, {"Shoe": 9}):
            assert_error(api.post("UpdateCustomer", alice, {"CustomerID": chat.customer_id} | body), 422)
        assert_error(api.post("UpdateCustomer", alice, {"CustomerID": 999999, "Name": "X"}), 404,
                     "customer_not_found")
        assert customer(api, alice, chat)["Name"] == "Thandi Nkosi"


class TestAddComment:
    def test_comments_need_an_active_chat_the_agent_can_see(self, server, api, manager, alice, carol, sales):
        chat = queued_chat(server, sales)
        body = {"CustomerID": chat.customer_id, "Comment": "Asked about the invoice, 12 May"}
        assert_error(api.post("AddComment", carol, body), 409, "no_active_chat")
        result = api.ok(api.post("AddComment", alice, body))
        assert [c["Text"] for c in result["Comments"]] == [body["Comment"]]
        api.ok(api.post("CloseChat", manager, {"ChatID": chat.chat_id}))
        assert_error(api.post("AddComment", alice, body), 409, "no_active_chat", "CustomerID")

    def test_bad_input(self, server, api, alice, sales):
        chat = queued_chat(server, sales)
        assert_error(api.post("AddComment", alice, {"CustomerID": chat.customer_id, "Comment": "x" * 2001}),
                     422, field="Comment")
        assert_error(api.post("AddComment", alice, {"CustomerID": chat.customer_id, "Comment": "  "}), 422)
        assert_error(api.post("AddComment", alice, {"CustomerID": chat.customer_id}), 422, "missing_field")
        assert_error(api.post("AddComment", alice, {"CustomerID": 999999, "Comment": "x"}), 404)
        assert customer(api, alice, chat)["Comments"] == []


class TestSearchCustomer:
    @pytest.fixture
    def people(self, server, sales):
        return {
            "thandi": queued_chat(server, sales, phone="27821234567", name="Thandi Nkosi"),
            "pieter": queued_chat(server, sales, phone="27831112222", name="Pieter van_Wyk"),
            "zoe": queued_chat(server, sales, phone="447700900123", name="Zoë 100% Smith"),
        }

    def search(self, api, token, text, **params):
        return api.ok(api.get("SearchCustomer", token, {"Search": text} | params))

    def ids(self, api, token, text):
        return {c["CustomerID"] for c in self.search(api, token, text)["Items"]}

    def test_partial_and_case_insensitive(self, server, api, alice, people):
        assert self.ids(api, alice, "NKOSI") == {people["thandi"].customer_id}
        assert self.ids(api, alice, "ieter") == {people["pieter"].customer_id}
        assert self.ids(api, alice, "2783111") == {people["pieter"].customer_id}
        assert self.ids(api, alice, "+27 82 123") == {people["thandi"].customer_id}
        assert self.ids(api, alice, "nobody") == set()
        api.ok(api.post("UpdateCustomer", alice, {"CustomerID": people["zoe"].customer_id,
                                                  "EmailAddress": "zoe@smith.example"}))
        assert self.ids(api, alice, "SMITH.EX") == {people["zoe"].customer_id}
        found = self.search(api, alice, "pieter")["Items"][0]
        assert set(found) == {"CustomerID", "Name", "PhoneNumber", "EmailAddress", "Comments", "TagIDs",
                              "CreatedAt", "WhatsAppUsername"}

    def test_wildcards_are_literal(self, server, api, alice, people):
        assert self.ids(api, alice, "%") == {people["zoe"].customer_id}
        assert self.ids(api, alice, "_") == {people["pieter"].customer_id}

    def test_pages(self, server, api, alice, people):
        first = self.search(api, alice, "27", PageSize=2)
        second = self.search(api, alice, "27", PageSize=2, Page=2)
        assert first["Total"] == second["Total"] == 2
        assert len(first["Items"]) == 2 and second["Items"] == []

    def test_a_broad_search_counts_up_to_the_cap_or_the_page_asked_for(self, server, api, alice, people,
                                                                        monkeypatch):
        monkeypatch.setattr(contract, "COUNT_CAP", 2)
        first = self.search(api, alice, "7", PageSize=1)
        assert first["Total"] == 2 and len(first["Items"]) == 1
        third = self.search(api, alice, "7", PageSize=1, Page=3)
        assert third["Total"] == 3 and len(third["Items"]) == 1
        everyone = {c["CustomerID"] for page in (1, 2, 3)
                    for c in self.search(api, alice, "7", PageSize=1, Page=page)["Items"]}
        assert everyone == {person.customer_id for person in people.values()}

    def test_search_is_required_and_bounded(self, api, alice):
        assert_error(api.get("SearchCustomer", alice), 422, "missing_field", "Search")
        assert_error(api.get("SearchCustomer", alice, {"Search": ""}), 422)
        assert_error(api.get("SearchCustomer", alice, {"Search": "   "}), 422)
        assert_error(api.get("SearchCustomer", alice, {"Search": "x" * 101}), 422)


class TestEraseCustomer:
    def test_personal_data_goes_statistics_stay(self, server, api, manager, alice, sales):
        chat = queued_chat(server, sales)
        customer_writes(server, chat.customer_id, "My ID number is 8001015009087")
        api.ok(api.post("GrabChat", alice, {"ChatID": chat.chat_id}))
        before = set(Path(server.settings.files_dir).rglob("*.pdf"))
        sent = api.ok(api.post("SendMessage", alice, {
            "ChatID": chat.chat_id, "Message": "Here is your statement", "FileName": "statement.pdf",
            "FileType": "application/pdf", "FileContent": base64.b64encode(b"%PDF-1.4 statement").decode()}))
        api.ok(api.post("AddComment", alice, {"CustomerID": chat.customer_id, "Comment": "VIP"}))
        stored = set(Path(server.settings.files_dir).rglob("*.pdf")) - before
        assert len(stored) == 1

        assert_error(api.post("EraseCustomer", alice, {"CustomerID": chat.customer_id}), 403, "manager_only")
        assert api.ok(api.post("EraseCustomer", manager, {"CustomerID": chat.customer_id}))["Erased"] is True

        detail = api.ok(api.get("GetChat", manager, {"ChatID": chat.chat_id}))
        person = detail["Customer"]
        assert (person["Name"], person["PhoneNumber"], person["EmailAddress"], person["Comments"]) == (
            None, None, None, [])
        assert {m["Text"] for m in detail["Messages"]} <= {"[erased]", None}
        assert all(m["File"] is None for m in detail["Messages"])
        assert_error(api.get("GetFile", manager, {"MessageID": sent["MessageID"]}), 404)
        # The chat, its times and its history stay for the reports; it is closed, nobody can answer it.
        assert detail["Status"] == "Closed" and detail["CreatedAt"] and detail["AssignedAt"]
        assert event_types(server, chat.chat_id)[:3] == ["Created", "Queued", "Grabbed"]
        assert self.ids_matching(api, manager, "Thandi") == set()
        server.run(_drain())
        assert not any(path.exists() for path in stored)
        # Erasing twice is harmless.
        api.ok(api.post("EraseCustomer", manager, {"CustomerID": chat.customer_id}))

    def test_an_erased_customer_writing_again_is_a_new_customer(self, server, api, manager, alice, sales):
        chat = queued_chat(server, sales)
        api.ok(api.post("EraseCustomer", manager, {"CustomerID": chat.customer_id}))
        again = queued_chat(server, sales)  # same phone number
        assert again.customer_id != chat.customer_id
        assert customer(api, alice, again)["PhoneNumber"] == "27821234567"

        async def erased_rows(db):
            return list((await db.execute(select(Customer.id).where(Customer.erased_at.is_not(None)))).scalars())
        assert server.with_db(erased_rows) == [chat.customer_id]

    def test_unknown_customer(self, api, manager):
        assert_error(api.post("EraseCustomer", manager, {"CustomerID": 999999}), 404, "customer_not_found")

    def ids_matching(self, api, token, text):
        return {c["CustomerID"] for c in api.ok(api.get("SearchCustomer", token, {"Search": text}))["Items"]}


async def _drain():
    from agentchat.db import drain_background
    await drain_background()
