"""Internal notes and @mentions: agents' notes in the conversation that the customer never sees (WhatsApp, web
chat), mentions heard live and listed, notes in the transcript and the export."""

import csv
import io

from chat_helpers import add_department, queued_chat
from conftest import PASSWORD, add_agent, assert_error
from realtime_helpers import AgentSocket
from test_webchat import new_visitor

from agentchat.agents.models import ROLE_MANAGER


def note(api, token, chat_id, text):
    return api.post("AddNote", token, {"ChatID": chat_id, "Text": text})


def team(server, api):
    """Sales with Alice (who grabs a WhatsApp chat) and Bongani Dlamini; Support with Carol; tokens by first name."""
    sales, support = add_department(server, "Sales", menu_option=1), add_department(server, "Support")
    ids = {"alice": add_agent(server, name="Alice Smith", email="alice@example.com", department_ids=(sales,)),
           "bongani": add_agent(server, name="Bongani Dlamini", email="bongani@example.com", department_ids=(sales,)),
           "carol": add_agent(server, name="Carol", email="carol@example.com", department_ids=(support,))}
    tokens = {name: api.logon(f"{name}@example.com") for name in ids}
    chat = queued_chat(server, sales)
    api.ok(api.post("GrabChat", tokens["alice"], {"ChatID": chat.chat_id}))
    return ids, tokens, chat


class TestAddNote:
    def test_a_note_is_in_the_conversation_but_never_reaches_whatsapp(self, server, api, graph_api):
        ids, tokens, chat = team(server, api)
        graph_api.reset()
        body = api.ok(note(api, tokens["alice"], chat.chat_id, "Customer sounds upset; offer a refund"))
        assert (body["SenderType"], body["AgentID"], body["DeliveryStatus"]) == ("Note", ids["alice"], None)
        api.ok(api.post("SendMessage", tokens["alice"], {"ChatID": chat.chat_id, "Message": "How can I help?"}))
        graph_api.wait_sent("27821234567", count=1)
        texts = [m["text"]["body"] for m in graph_api.sent("27821234567") if m.get("type") == "text"]
        assert texts == ["How can I help?"]
        messages = api.ok(api.get("GetChat", tokens["bongani"], {"ChatID": chat.chat_id}))["Messages"]
        assert [(m["SenderType"], m["Text"]) for m in messages[-2:]] == [
            ("Note", "Customer sounds upset; offer a refund"), ("Agent", "How can I help?")]
        # The list's last message is still the conversation's, not the note.
        item = api.ok(api.get("GetChats", tokens["alice"], {"CustomerID": chat.customer_id}))["Items"][0]
        assert item["LastMessage"]["Text"] == "How can I help?"

    def test_the_web_chat_visitor_never_sees_a_note(self, server, api, manager):
        add_department(server, "Sales", menu_option=1)
        visitor = new_visitor(server, Name="Vera Visitor")
        visitor.say("Hello")
        chat_id = api.ok(api.get("GetChats", manager, {"CustomerID": visitor.customer_id}))["Items"][0]["ChatID"]
        api.ok(note(api, manager, chat_id, "VIP: handle with care"))
        api.ok(note(api, manager, chat_id, "second note"))
        seen = [m.get("Text") for m in visitor.messages()]
        assert seen and "VIP: handle with care" not in seen and "second note" not in seen
        assert all(m["SenderType"] != "Note" for m in visitor.messages(after=0))

    def test_notes_are_in_the_export_with_their_author(self, server, api):
        ids, tokens, chat = team(server, api)
        api.ok(note(api, tokens["alice"], chat.chat_id, "Checked the invoice"))
        response = api.get("ExportChat", tokens["alice"], params={"ChatID": chat.chat_id})
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [(r["SenderType"], r["SenderName"], r["Text"]) for r in rows if r["SenderType"] == "Note"] == [
            ("Note", "Alice Smith", "Checked the invoice")]

    def test_only_agents_who_may_see_the_chat_write_notes_on_any_status(self, server, api):
        ids, tokens, chat = team(server, api)
        assert_error(note(api, tokens["carol"], chat.chat_id, "hi"), 404, "chat_not_found")
        api.ok(api.post("CloseChat", tokens["alice"], {"ChatID": chat.chat_id}))
        api.ok(note(api, tokens["bongani"], chat.chat_id, "Follow up next week"))
        assert_error(note(api, tokens["alice"], chat.chat_id, "   "), 422)
        assert_error(note(api, tokens["alice"], chat.chat_id, "x" * 4097), 422)
        assert_error(api.post("AddNote", None, {"ChatID": chat.chat_id, "Text": "x"}), 401)


class TestMentions:
    def test_a_mentioned_colleague_hears_it_live_and_finds_it_in_mentions(self, server, api):
        ids, tokens, chat = team(server, api)
        with AgentSocket(server, tokens["bongani"]) as bongani, AgentSocket(server, tokens["carol"]) as carol:
            body = api.ok(note(api, tokens["alice"], chat.chat_id, "@bongani can you check the stock?"))
            assert body["MentionedAgentIDs"] == [ids["bongani"]]
            assert bongani.wait_for("NoteAdded", MessageID=body["MessageID"])["Data"]["SenderType"] == "Note"
            heard = bongani.wait_for("MentionReceived")["Data"]
            assert (heard["ChatID"], heard["MessageID"], heard["ByAgentID"]) == (chat.chat_id, body["MessageID"],
                                                                                 ids["alice"])
            assert [e["Type"] for e in carol.drain()].count("MentionReceived") == 0
        mentions = api.ok(api.get("GetMentions", tokens["bongani"]))
        [mention] = mentions["Items"]
        assert (mention["ByAgentName"], mention["Text"], mention["SeenAt"]) == (
            "Alice Smith", "@bongani can you check the stock?", None)
        assert api.ok(api.get("GetMentions", tokens["alice"]))["Items"] == []
        # Seen: out of the unseen list; someone else's mention cannot be marked.
        assert api.ok(api.post("MarkMentionsSeen", tokens["alice"], {"MentionIDs": [mention["MentionID"]]}))[
            "Marked"] == 0
        assert api.ok(api.post("MarkMentionsSeen", tokens["bongani"], {"MentionIDs": [mention["MentionID"]]}))[
            "Marked"] == 1
        assert api.ok(api.get("GetMentions", tokens["bongani"], {"Unseen": "true"}))["Items"] == []
        assert api.ok(api.get("GetMentions", tokens["bongani"]))["Items"][0]["SeenAt"]

    def test_names_match_by_full_name_address_or_unique_first_name(self, server, api):
        ids, tokens, chat = team(server, api)
        add_agent(server, name="Mia Manager", email="mia@example.com", role_id=ROLE_MANAGER)
        mia = api.logon("mia@example.com", PASSWORD)
        body = api.ok(note(api, tokens["bongani"], chat.chat_id,
                           "@AliceSmith and @mia, not @carol (Support cannot see this chat), nor me@bongani"))
        assert sorted(body["MentionedAgentIDs"]) == sorted([ids["alice"], _agent_id(api, mia, "Mia Manager")])
        assert api.ok(api.get("GetMentions", mia))["Items"][0]["ByAgentName"] == "Bongani Dlamini"
        assert api.ok(api.get("GetMentions", tokens["carol"]))["Items"] == []
        # Mentioning oneself notifies no one.
        assert api.ok(note(api, tokens["alice"], chat.chat_id, "@alice reminder"))["MentionedAgentIDs"] == []


def _agent_id(api, token, name):
    return next(a["AgentID"] for a in api.ok(api.get("GetAgents", token))["Items"] if a["Name"] == name)
