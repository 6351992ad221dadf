"""Customer satisfaction: after an agent closes a chat the customer is asked to rate it (WhatsApp through the Graph
API stand-in, the web chat's buttons); one answer per chat, late answers within the set time; a comment; the
figures in the dashboard and the Satisfaction report."""

import csv
import io
from datetime import timedelta

import pytest
from conftest import add_agent
from realtime_helpers import AgentSocket
from sqlalchemy import select
from test_webchat import chat_of as webchat_chat
from test_webchat import new_visitor
from test_whatsapp import WA_ID, chat_of, payload, post_webhook, send_text

from agentchat import clock
from agentchat.chats.models import Chat
from agentchat.csat.models import ChatRating
from agentchat.db import drain_background


@pytest.fixture
def support(server, api, manager) -> dict:
    """Support asks for ratings (Sales does not); Alice works in both, logged on."""
    ids = {}
    for option, name, csat in ((1, "Sales", False), (2, "Support", True)):
        ids[name] = api.ok(api.post("CreateDepartment", manager, {
            "Name": name, "IncludeInWelcomeMenu": True, "MenuOption": option, "CsatEnabled": csat}))["DepartmentID"]
    add_agent(server, name="Alice", department_ids=(ids["Sales"], ids["Support"]))
    return {**ids, "alice": api.logon("alice@example.com")}


def ratings(server) -> list[ChatRating]:
    async def work(db):
        return list((await db.execute(select(ChatRating).order_by(ChatRating.chat_id))).scalars())
    return server.with_db(work)


def chats_of_customer(server) -> int:
    async def work(db):
        return len((await db.execute(select(Chat.id))).all())
    return server.with_db(work)


def whatsapp_chat_closed(server, api, graph_api, support, department="Support") -> int:
    """Thandi chose the department on WhatsApp; Alice took the chat, answered and closed it."""
    send_text(server, "Hi")
    post_webhook(server, payload("list_reply.json", choice_id=f"department:{support[department]}", body="x"))
    chat_id = chat_of(server).id
    alice = api.logon("alice@example.com")  # tests move the clock past her idle limit
    api.ok(api.post("GrabChat", alice, {"ChatID": chat_id}))
    api.ok(api.post("SendMessage", alice, {"ChatID": chat_id, "Message": "Your order ships today."}))
    graph_api.reset()
    api.ok(api.post("CloseChat", alice, {"ChatID": chat_id}))
    server.run(drain_background())  # the question's delivery, after the commit
    return chat_id


def later(minutes: int = 31) -> None:
    """Past the time in which a text is taken as the comment on a rating."""
    clock.travel(timedelta(minutes=minutes))


def tap(server, chat_id: int, rating: int) -> None:
    body = payload("list_reply.json", choice_id=f"csat:{chat_id}:{rating}", body=f"{rating} …")
    assert post_webhook(server, body).status_code == 200


def last_text(graph_api) -> str:
    sent = graph_api.sent(WA_ID)[-1]
    return sent["text"]["body"] if sent["type"] == "text" else sent["interactive"]["body"]["text"]


class TestOnWhatsApp:
    def test_the_customer_is_asked_with_a_list_and_their_tap_rates_the_chat(self, server, api, graph_api, support):
        with AgentSocket(server, support["alice"]) as socket:
            chat_id = whatsapp_chat_closed(server, api, graph_api, support)
            question = next(m for m in graph_api.sent(WA_ID) if m["type"] == "interactive")
            assert question["interactive"]["body"]["text"].startswith("How would you rate the help you received?")
            rows = question["interactive"]["action"]["sections"][0]["rows"]
            assert [row["id"] for row in rows] == [f"csat:{chat_id}:{n}" for n in (5, 4, 3, 2, 1)]
            assert rows[0]["title"] == "5 Excellent"
            tap(server, chat_id, 4)
            received = socket.wait_for("CsatReceived", ChatID=chat_id)
        assert received["Data"]["Rating"] == 4 and received["Data"]["AgentID"] is not None
        [rated] = ratings(server)
        assert (rated.chat_id, rated.rating, rated.comment) == (chat_id, 4, None)
        assert chats_of_customer(server) == 1  # the answer opened no new chat
        assert last_text(graph_api).startswith("Thank you for your rating!")
        # The next text is the rating's comment; the one after that is a new conversation.
        send_text(server, "Quick and friendly, thanks")
        assert ratings(server)[0].comment == "Quick and friendly, thanks"
        assert chats_of_customer(server) == 1
        send_text(server, "Hello again")
        assert chats_of_customer(server) == 2

    def test_one_answer_per_chat(self, server, api, graph_api, support):
        chat_id = whatsapp_chat_closed(server, api, graph_api, support)
        tap(server, chat_id, 5)
        tap(server, chat_id, 1)
        assert [r.rating for r in ratings(server)] == [5]
        assert last_text(graph_api) == "You have already rated this chat. Thank you!"

    def test_a_typed_number_counts_while_the_question_waits(self, server, api, graph_api, support):
        whatsapp_chat_closed(server, api, graph_api, support)
        send_text(server, "3")
        assert [r.rating for r in ratings(server)] == [3]
        assert chats_of_customer(server) == 1

    def test_late_answers_count_for_the_set_time_only(self, server, api, graph_api, support, manager):
        api.ok(api.post("UpdateSettings", manager, {"Settings": [{"CsatAnswerHours": 2}]}))
        chat_id = whatsapp_chat_closed(server, api, graph_api, support)
        clock.travel(timedelta(hours=1, minutes=50))
        tap(server, chat_id, 2)
        assert [r.rating for r in ratings(server)] == [2]
        later()
        second = whatsapp_chat_closed(server, api, graph_api, support)
        clock.travel(timedelta(hours=2, minutes=1))
        tap(server, second, 5)
        assert [r.rating for r in ratings(server)] == [2, None]
        assert last_text(graph_api) == "Sorry, this chat can no longer be rated."

    def test_departments_without_csat_do_not_ask(self, server, api, graph_api, support):
        whatsapp_chat_closed(server, api, graph_api, support, department="Sales")
        assert ratings(server) == []
        assert all(m["type"] != "interactive" for m in graph_api.sent(WA_ID))

    def test_no_free_form_question_outside_the_24_hour_window(self, server, api, graph_api, support):
        send_text(server, "Hi")
        post_webhook(server, payload("list_reply.json", choice_id=f"department:{support['Support']}", body="x"))
        chat_id = chat_of(server).id
        api.ok(api.post("GrabChat", support["alice"], {"ChatID": chat_id}))
        clock.travel(timedelta(hours=25))
        graph_api.reset()
        alice = api.logon("alice@example.com")
        api.ok(api.post("CloseChat", alice, {"ChatID": chat_id}))
        server.run(drain_background())
        assert graph_api.sent(WA_ID) == [] and ratings(server) == []


class TestOnTheWebChat:
    def test_the_visitor_rates_with_the_buttons(self, server, api, support):
        visitor = new_visitor(server, Name="Vera")
        visitor.say("Hello")
        visitor.choose(f"department:{support['Support']}")
        chat_id = webchat_chat(server, visitor.customer_id).id
        api.ok(api.post("GrabChat", support["alice"], {"ChatID": chat_id}))
        api.ok(api.post("CloseChat", support["alice"], {"ChatID": chat_id}))
        question = next(m for m in visitor.messages() if m.get("Menu") and m["Menu"][0]["ID"].startswith("csat:"))
        assert [(c["Option"], c["Title"]) for c in question["Menu"]][0] == (5, "5 Excellent")
        assert visitor.choose(question["Menu"][1]["ID"]).status_code == 200
        assert [r.rating for r in ratings(server)] == [4]
        assert visitor.messages()[-1]["Text"].startswith("Thank you for your rating!")


class TestFigures:
    def test_dashboard_and_report_give_csat_per_agent_department_and_tag(self, server, api, graph_api, support,
                                                                        manager):
        first_day = clock.now().date().isoformat()  # the clock moves on below, maybe past midnight
        tag_group = api.ok(api.post("CreateTagGroup", manager, {"Name": "Topics"}))
        tag = api.ok(api.post("CreateTag", manager, {"TagGroupID": tag_group["TagGroupID"], "Name": "Delivery"}))
        first = whatsapp_chat_closed(server, api, graph_api, support)
        api.ok(api.post("AddTag", manager, {"ChatID": first, "TagID": tag["TagID"]}))
        tap(server, first, 5)
        later()
        second = whatsapp_chat_closed(server, api, graph_api, support)
        tap(server, second, 2)
        today = clock.now().date().isoformat()
        manager = api.logon("mia@example.com")
        board = api.ok(api.get("GetDashboard", manager, {"From": first_day, "To": today}))
        assert (board["Metrics"]["CsatRatings"], board["Metrics"]["CsatAverage"],
                board["Metrics"]["CsatSatisfied"]) == (2, 3.5, 0.5)
        alice = next(a for a in board["PerAgent"] if a["Name"] == "Alice")
        assert (alice["CsatRatings"], alice["CsatAverage"]) == (2, 3.5)
        department = next(d for d in board["PerDepartment"] if d["DepartmentID"] == support["Support"])
        assert department["CsatRatings"] == 2
        tagged = next(t for t in board["PerTag"] if t["TagID"] == tag["TagID"])
        assert (tagged["CsatRatings"], tagged["CsatAverage"], tagged["CsatSatisfied"]) == (1, 5.0, 1.0)
        report = api.get("GetReport", manager, {"ReportID": "Satisfaction", "From": first_day, "To": today,
                                                "FileFormat": "CSV"})
        assert report.status_code == 200, report.text
        rows = [(r["Group"], r["Name"], r["CsatRatings"], r["CsatAverage"])
                for r in csv.DictReader(io.StringIO(report.text))]
        assert ("Agent", "Alice", "2", "3.5") in rows and ("Tag", "Delivery", "1", "5.0") in rows
        assert ("Department", "Support", "2", "3.5") in rows
        for file_format in ("XLSX", "PDF"):
            assert api.get("GetReport", manager, {"ReportID": "Satisfaction", "From": first_day, "To": today,
                                                  "FileFormat": file_format}).status_code == 200
