"""Search everything: messages by their words with the match marked, customers, GetChats' visibility and
filters, kept current as messages arrive and emptied by POPIA erasure."""

from datetime import timedelta

import pytest
from chat_helpers import add_department, add_tag, customer_writes, queued_chat
from conftest import add_agent, assert_error

from agentchat import clock


def search(api, token, words, **params):
    return api.ok(api.get("Search", token, {"Search": words, **params}))


def texts(body):
    return ["".join(part["Text"] for part in hit["Snippet"]) for hit in body["Items"]]


@pytest.fixture
def shop(server, api, manager):
    """Sales (Alice, who grabbed Thandi's chat about a parcel) and Support (Carol, with Sipho's chat about a bill)."""
    sales, support = add_department(server, "Sales", menu_option=1), add_department(server, "Support", menu_option=2)
    alice = add_agent(server, name="Alice", email="alice@example.com", department_ids=(sales,))
    add_agent(server, name="Carol", email="carol@example.com", department_ids=(support,))
    tokens = {"alice": api.logon("alice@example.com"), "carol": api.logon("carol@example.com"), "mia": manager}
    parcel = queued_chat(server, sales, phone="27820000001", name="Thandi Nkosi",
                         first_text="Hello, where is my parcel? The tracking number says delivered")
    api.ok(api.post("GrabChat", tokens["alice"], {"ChatID": parcel.chat_id}))
    api.ok(api.post("SendMessage", tokens["alice"], {"ChatID": parcel.chat_id, "Message": "Let me check the parcel"}))
    bill = queued_chat(server, support, phone="27820000002", name="Sipho Dube", first_text="My bill is wrong")
    return {"tokens": tokens, "parcel": parcel, "bill": bill, "sales": sales, "support": support, "alice": alice}


class TestSearch:
    def test_finds_messages_by_their_words_newest_first_with_the_match_marked(self, api, shop):
        body = search(api, shop["tokens"]["alice"], "parcel")
        assert texts(body) == ["Let me check the parcel",
                               "Hello, where is my parcel? The tracking number says delivered"]
        assert [p for p in body["Items"][0]["Snippet"] if p["Match"]] == [{"Text": "parcel", "Match": True}]
        hit = body["Items"][1]
        assert (hit["SenderType"], hit["ChatID"], hit["Chat"]["CustomerName"], hit["Chat"]["Status"]) == (
            "Customer", shop["parcel"].chat_id, "Thandi Nkosi", "Assigned")
        assert body["Total"] == 2
        # Every word must be there, in any order and case.
        assert texts(search(api, shop["tokens"]["alice"], "TRACKING parcel")) == [texts(body)[1]]

    def test_sees_what_getchats_shows_the_caller(self, api, shop):
        assert search(api, shop["tokens"]["carol"], "parcel")["Items"] == []
        assert texts(search(api, shop["tokens"]["carol"], "bill")) == ["My bill is wrong"]
        assert len(search(api, shop["tokens"]["mia"], "parcel")["Items"]) == 2

    def test_filters_by_department_agent_status_tag_and_dates(self, server, api, shop):
        mia = shop["tokens"]["mia"]
        assert search(api, mia, "parcel", DepartmentID=shop["support"])["Items"] == []
        assert len(search(api, mia, "parcel", AgentID=shop["alice"])["Items"]) == 2
        assert search(api, mia, "parcel", Status="Closed")["Items"] == []
        assert len(search(api, mia, "parcel", Status="Open")["Items"]) == 2
        refund = add_tag(server, "Refund")
        assert search(api, mia, "parcel", TagID=refund)["Items"] == []
        api.ok(api.post("AddTag", mia, {"ChatID": shop["parcel"].chat_id, "TagID": refund}))
        assert len(search(api, mia, "parcel", TagID=refund)["Items"]) == 2
        tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
        assert search(api, mia, "parcel", From=tomorrow)["Items"] == []
        assert len(search(api, mia, "parcel", To=tomorrow)["Items"]) == 2

    def test_a_new_message_is_found_at_once_and_an_erased_customer_never(self, server, api, shop):
        mia = shop["tokens"]["mia"]
        customer_writes(server, shop["parcel"].customer_id, "Actually the courier left a note")
        assert texts(search(api, mia, "courier")) == ["Actually the courier left a note"]
        api.ok(api.post("EraseCustomer", mia, {"CustomerID": shop["parcel"].customer_id}))
        assert search(api, mia, "courier")["Items"] == []
        assert search(api, mia, "parcel")["Items"] == []
        assert search(api, mia, "Thandi")["Customers"] == []

    def test_customers_by_name_and_notes_by_their_words(self, api, shop):
        alice = shop["tokens"]["alice"]
        found = search(api, alice, "Sipho")["Customers"]
        assert [c["Name"] for c in found] == ["Sipho Dube"]
        api.ok(api.post("AddNote", alice, {"ChatID": shop["parcel"].chat_id, "Text": "Courier confirmed redelivery"}))
        [hit] = search(api, alice, "redelivery")["Items"]
        assert hit["SenderType"] == "Note"

    def test_pages_and_counts(self, server, api, shop):
        for n in range(4):
            customer_writes(server, shop["parcel"].customer_id, f"parcel update {n}")
        body = search(api, shop["tokens"]["alice"], "parcel", PageSize=2, Page=2)
        assert texts(body) == ["parcel update 1", "parcel update 0"] and body["Total"] == 6
        assert body["Customers"] == []

    def test_bad_or_hostile_words_are_answered_cleanly(self, api, shop):
        mia = shop["tokens"]["mia"]
        assert_error(api.get("Search", mia, {"Search": "   "}), 422, field="Search")
        assert_error(api.get("Search", mia, {"Search": "!!! ???"}), 422, field="Search")
        assert_error(api.get("Search", mia, {"Search": "x" * 201}), 422)
        assert_error(api.get("Search", mia, {"Search": "parcel", "Status": "Lost"}), 422, field="Status")
        for words in ('"parcel', "parcel*", "NEAR(parcel bill)", "parcel OR bill", "-parcel", "parcel' OR 1=1 --",
                      "message_fts:parcel", "^parcel"):
            assert api.get("Search", mia, {"Search": words}).status_code == 200, words
        assert_error(api.get("Search", None, {"Search": "parcel"}), 401)
