"""A well-formed request with a wrong credential is refused with 401 on every authenticated route, hot ones included.

test_contract.py sends bodies that are not valid calls, which a hot route refuses through its error handlers
(which check the session first). Here each route gets a request it serves: the same request with the right
credential is answered 2xx, so a route that forgot to check its session would answer the wrong one too. The hot
calls (GrabChat, SendMessage, GetChats, SearchCustomer) check the session inside their own statement; this is what
proves they do. The routes are read from the app: a new one needs an example here, or a
place in PUBLIC with the reason it needs no credential.
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from chat_helpers import queued_chat
from conftest import WHATSAPP_APP_SECRET, add_agent, assert_error
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from agentchat.agents.models import ROLE_AGENT

WRONG = "0" * 32  # a token of the right form that matches no session or visitor

# What answers without an agent session, and why.
PUBLIC = {
    ("POST", "/api/AgentLogon"): "logs on",
    ("POST", "/api/SetPassword"): "the ResetCode is the credential (refused with 401 when wrong: test_auth.py)",
    ("GET", "/api/RequestPasswordReset"): "mails a code to the address, and answers the same for any address",
    ("POST", "/webchat/visitors"): "starts a web chat, which hands out the VisitorToken",
    ("GET", "/webhooks/whatsapp"): "Meta's verification handshake (a wrong verify token is 403, as Meta specifies)",
    ("GET", "/healthz"): "the load balancer's probe",
    ("GET", "/metrics"): "Prometheus' scrape, kept internal by the reverse proxy (docs/deployment.md)",
    ("GET", "/"): "the console's page (it logs on through the API)",
    ("GET", "/console/{name}"): "the console's scripts and styles",
    ("GET", "/chat"): "the web chat page",
    ("GET", "/webchat/config"): "what the web chat page shows before a chat starts (company name, colour, greeting)",
    ("GET", "/webchat/widget.js"): "the launcher script a company's own site embeds",
    ("GET", "/reset-password"): "the page that calls SetPassword",
    ("GET", "/docs"): "the API's documentation",
    ("GET", "/docs/oauth2-redirect"): "Swagger UI's part of the documentation",
    ("GET", "/redoc"): "the API's documentation",
    ("GET", "/openapi.json"): "the API's description",
    ("GET", "/docs-assets"): "the documentation's scripts and styles",
}
SOCKETS = {"/ws": "SessionToken", "/webchat/ws": "VisitorToken"}


@dataclass
class Call:
    method: str
    path: str
    params: dict = field(default_factory=dict)
    json: object = None
    who: str = "agent"  # agent (SessionToken), visitor (VisitorToken) or meta (the webhook's signature)


@dataclass
class World:
    manager: str
    visitor: str
    department_id: int
    other_department_id: int
    agent_id: int
    tag_group_id: int
    tag_id: int
    spare_tag_id: int
    canned_id: int
    recipient_id: int
    schedule_id: int
    grab_chat_id: int
    chat_id: int
    customer_id: int
    file_message_id: int
    whatsapp_chat_id: int
    spares: dict  # a second of each thing deleted, for the POST form of the delete calls (compat.delete_route); the
    # outgoing webhook and one of its deliveries


def make_world(server, api, manager) -> World:
    ok = api.ok
    department_id = ok(api.post("CreateDepartment", manager, {"Name": "Sales", "IncludeInWelcomeMenu": True,
                                                              "WelcomeMenuName": "Buy", "MenuOption": 1}))
    department_id = department_id["DepartmentID"]
    other_id = ok(api.post("CreateDepartment", manager, {"Name": "Support"}))["DepartmentID"]
    agent_id = add_agent(server, name="Ann", email="ann@example.com", role_id=ROLE_AGENT)
    ok(api.post("UpdateAgent", manager, {"AgentID": agent_id, "DepartmentIDs": [department_id, other_id],
                                         "StatusID": 4}))  # Online, to take transfers
    group_id = ok(api.post("CreateTagGroup", manager, {"Name": "Topics"}))["TagGroupID"]
    tag_id = ok(api.post("CreateTag", manager, {"TagGroupID": group_id, "Name": "Billing"}))["TagID"]
    spare_tag_id = ok(api.post("CreateTag", manager, {"TagGroupID": group_id, "Name": "Spare"}))["TagID"]
    canned_id = ok(api.post("CreateCannedResponse", manager, {"Name": "Hi", "Text": "Hello!"}))["CannedResponseID"]
    recipient = ok(api.post("CreateRecipient", manager, {"Name": "Boss", "EmailAddress": "boss@example.com"}))
    schedule = ok(api.post("CreateScheduledReport", manager, {
        "RecipientID": recipient["RecipientID"], "ReportID": "ChatSummary", "FileFormat": "CSV", "Period": "Day",
        "DeliveryMethod": "Email", "ScheduledDays": [1], "ScheduledTime": "08:00"}))

    def visitor_chat(name: str) -> tuple[str, int]:
        made = ok(api.http.post("/webchat/visitors", json={"Name": name}))
        for body in ({"Text": "Hi"}, {"Text": "1"}):  # 1: Sales, in the welcome menu
            headers = {"Authorization": f"Bearer {made['VisitorToken']}"}
            ok(api.http.post("/webchat/messages", json=body, headers=headers))
        return made["VisitorToken"], made["CustomerID"]

    visitor, customer_id = visitor_chat("Cora")
    sent = ok(api.http.post("/webchat/messages", headers={"Authorization": f"Bearer {visitor}"}, json={
        "FileName": "note.txt", "FileType": "text/plain", "FileContent": base64.b64encode(b"a note").decode()}))
    _, waiting_customer = visitor_chat("Dan")  # waits in the queue for GrabChat
    chats = {c["CustomerID"]: c["ChatID"] for c in ok(api.get("GetChats", manager, {"Status": "Unassigned"}))["Items"]}
    ok(api.post("GrabChat", manager, {"ChatID": chats[customer_id]}))  # the Manager's own chat, to write to
    ok(api.post("SyncTemplates", manager))  # Meta's templates (the Graph API stand-in's), for SendTemplate
    whatsapp_chat_id = queued_chat(server, department_id, phone="27820000001").chat_id
    ok(api.post("GrabChat", manager, {"ChatID": whatsapp_chat_id}))
    spare_group = ok(api.post("CreateTagGroup", manager, {"Name": "Spare group"}))["TagGroupID"]
    spare_recipient = ok(api.post("CreateRecipient", manager, {"Name": "Deputy", "EmailAddress": "dep@example.com"}))
    spares = {
        "CannedResponseID": ok(api.post("CreateCannedResponse", manager, {"Name": "Bye", "Text": "Bye!"}))[
            "CannedResponseID"],
        "RecipientID": spare_recipient["RecipientID"],
        "ScheduleID": ok(api.post("CreateScheduledReport", manager, {
            "RecipientID": spare_recipient["RecipientID"], "ReportID": "ChatSummary", "FileFormat": "XLSX",
            "Period": "Month", "DeliveryMethod": "Email", "ScheduledDays": [2], "ScheduledTime": "09:00"}))[
            "ScheduleID"],
        "TagID": ok(api.post("CreateTag", manager, {"TagGroupID": spare_group, "Name": "Spare 2"}))["TagID"],
        "TagGroupID": spare_group,
        "DepartmentID": other_id,
    }
    # An outgoing webhook for an event nothing here sends, pointed at this server (it refuses the POST: a delivery
    # that failed, which RedeliverWebhook may send again).
    webhook = ok(api.post("CreateWebhook", manager, {"URL": f"{server.base_url}/healthz", "Events": ["SlaBreached"]}))
    spares["WebhookID"] = webhook["WebhookID"]
    spares["DeliveryID"] = ok(api.post("TestWebhook", manager, {"WebhookID": webhook["WebhookID"]}))["DeliveryID"]
    spares["SpareWebhookID"] = ok(api.post("CreateWebhook", manager, {  # for DeleteWebhook's POST form
        "URL": f"{server.base_url}/healthz", "Events": ["SlaBreached"]}))["WebhookID"]
    ok(api.post("UpdateWorkingHours", manager, {"DepartmentID": other_id, "Days": [
        {"Day": 2, "Intervals": [{"Start": "09:00", "End": "12:00"}]}]}))
    return World(manager=manager, visitor=visitor, department_id=department_id, other_department_id=other_id,
                 agent_id=agent_id, tag_group_id=group_id, tag_id=tag_id, spare_tag_id=spare_tag_id,
                 canned_id=canned_id, recipient_id=recipient["RecipientID"], schedule_id=schedule["ScheduleID"],
                 grab_chat_id=chats[waiting_customer], chat_id=chats[customer_id], customer_id=customer_id,
                 file_message_id=sent["MessageID"], whatsapp_chat_id=whatsapp_chat_id, spares=spares)


def examples(w: World) -> list[Call]:
    """One well-formed request per route, in an order in which each works with the right credential (the deletions,
    the erasure and the logoff last)."""
    today = date.today()
    period = {"From": (today - timedelta(days=7)).isoformat(), "To": today.isoformat()}
    hours = {"Days": [{"Day": 1, "Intervals": [{"Start": "08:00", "End": "17:00"}]}]}
    return [
        Call("POST", "/api/GrabChat", json={}),
        Call("POST", "/api/SendMessage", json={"ChatID": w.chat_id, "Message": "Hello Cora"}),
        Call("GET", "/api/GetChats", {"Status": "Assigned", "PageSize": 10}),
        Call("GET", "/api/SearchCustomer", {"Search": "Cora"}),
        Call("GET", "/api/Search", {"Search": "Hello", "Status": "Assigned"}),
        Call("GET", "/api/GetChat", {"ChatID": w.chat_id}),
        Call("POST", "/api/SyncTemplates"),
        Call("GET", "/api/GetTemplates"),
        Call("POST", "/api/SendTemplate", json={"ChatID": w.whatsapp_chat_id, "TemplateName": "hello_world",
                                                "Language": "en_US"}),
        Call("GET", "/api/ExportChat", {"ChatID": w.chat_id}),
        Call("POST", "/api/ExportChat", {"ChatID": w.chat_id}),
        Call("GET", "/api/GetFile", {"MessageID": w.file_message_id}),
        Call("POST", "/api/AddTag", json={"TagID": w.tag_id, "ChatID": w.chat_id}),
        Call("POST", "/api/RemoveTag", json={"TagID": w.tag_id, "ChatID": w.chat_id}),
        Call("GET", "/api/RenderCannedResponse", {"CannedResponseID": w.canned_id, "ChatID": w.chat_id}),
        Call("POST", "/api/AddComment", json={"CustomerID": w.customer_id, "Comment": "Asked about prices"}),
        Call("POST", "/api/AddNote", json={"ChatID": w.chat_id, "Text": "Offered the spring discount"}),
        Call("GET", "/api/GetMentions", {"Unseen": "true"}),
        Call("POST", "/api/MarkMentionsSeen", json={"MentionIDs": [1]}),
        Call("POST", "/api/UpdateCustomer", json={"CustomerID": w.customer_id, "EmailAddress": "cora@example.com"}),
        Call("POST", "/api/TransferChatToDepartment", json={"ChatID": w.chat_id,
                                                            "DepartmentID": w.other_department_id}),
        Call("POST", "/api/AssignChat", json={"ChatID": w.chat_id, "AgentID": w.agent_id}),
        Call("POST", "/api/TransferChatToAgent", json={"ChatID": w.grab_chat_id, "AgentID": w.agent_id}),
        Call("POST", "/api/CloseChat", json={"ChatID": w.grab_chat_id}),
        Call("GET", "/api/KeepAlive"),
        Call("GET", "/api/GetAgents", {"DepartmentID": w.department_id}),
        Call("POST", "/api/CreateAgent", json={"Name": "Ben", "EmailAddress": "ben@example.com", "RoleID": ROLE_AGENT,
                                               "DepartmentIDs": [w.department_id]}),
        Call("POST", "/api/UpdateAgent", json={"AgentID": w.agent_id, "Name": "Ann Smith"}),
        Call("GET", "/api/GetDepartments"),
        Call("POST", "/api/CreateDepartment", json={"Name": "Returns"}),
        Call("POST", "/api/UpdateDepartment", json={"DepartmentID": w.other_department_id, "Name": "Help"}),
        Call("GET", "/api/GetSettings"),
        Call("POST", "/api/UpdateSettings", json={"Settings": [{"CompanyName": "Channel"}]}),
        Call("GET", "/api/GetTags", {"TagGroupID": w.tag_group_id}),
        Call("POST", "/api/CreateTagGroup", json={"Name": "Moods"}),
        Call("POST", "/api/UpdateTagGroup", json={"TagGroupID": w.tag_group_id, "Name": "Subjects"}),
        Call("POST", "/api/CreateTag", json={"TagGroupID": w.tag_group_id, "Name": "Refunds"}),
        Call("POST", "/api/UpdateTag", json={"TagID": w.tag_id, "Name": "Invoices"}),
        Call("GET", "/api/GetCannedResponses", {"Search": "Hi"}),
        Call("POST", "/api/CreateCannedResponse", json={"Name": "Bye", "Text": "Goodbye!"}),
        Call("POST", "/api/UpdateCannedResponse", json={"CannedResponseID": w.canned_id, "Text": "Hello there!"}),
        Call("GET", "/api/GetWorkingHours", {"DepartmentID": w.department_id}),
        Call("POST", "/api/UpdateWorkingHours", json={"DepartmentID": w.department_id, **hours}),
        Call("GET", "/api/GetLiveMetrics"),
        Call("GET", "/api/GetDashboard", period),
        Call("GET", "/api/GetAuditLog"),
        Call("GET", "/api/ExportAuditLog"),
        Call("GET", "/api/GetReports"),
        Call("GET", "/api/GetReport", {"ReportID": "ChatSummary", **period}),
        Call("GET", "/api/GetRecipients"),
        Call("POST", "/api/CreateRecipient", json={"Name": "Ops", "EmailAddress": "ops@example.com"}),
        Call("POST", "/api/CreateScheduledReport", json={
            "RecipientID": w.recipient_id, "ReportID": "ChatSummary", "FileFormat": "PDF", "Period": "Week",
            "DeliveryMethod": "Email", "ScheduledDays": [5], "ScheduledTime": "17:30"}),
        Call("POST", "/api/SendScheduledReportNow", json={"ScheduleID": w.schedule_id}),
        Call("GET", "/api/GetWebhooks"),
        Call("POST", "/api/CreateWebhook", json={"URL": "https://example.com/agentchat", "Events": ["ChatClosed"]}),
        Call("POST", "/api/UpdateWebhook", json={"WebhookID": w.spares["WebhookID"], "Description": "Ops"}),
        Call("POST", "/api/RotateWebhookSecret", json={"WebhookID": w.spares["WebhookID"]}),
        Call("GET", "/api/GetWebhookDeliveries", {"WebhookID": w.spares["WebhookID"]}),
        Call("POST", "/api/TestWebhook", json={"WebhookID": w.spares["WebhookID"]}),
        Call("POST", "/api/RedeliverWebhook", json={"DeliveryID": w.spares["DeliveryID"]}),
        Call("GET", "/webchat/messages", who="visitor"),
        Call("POST", "/webchat/messages", json={"Text": "Thanks"}, who="visitor"),
        Call("POST", "/webchat/chats", who="visitor"),
        Call("GET", f"/webchat/files/{w.file_message_id}", who="visitor"),
        Call("POST", "/webhooks/whatsapp", json={"object": "whatsapp_business_account", "entry": []}, who="meta"),
        Call("DELETE", "/api/DeleteWebhook", {"WebhookID": w.spares["WebhookID"]}),
        Call("DELETE", "/api/DeleteWorkingHours", {"DepartmentID": w.department_id}),
        Call("DELETE", "/api/DeleteScheduledReport", {"ScheduleID": w.schedule_id}),
        Call("DELETE", "/api/DeleteRecipient", {"RecipientID": w.recipient_id}),
        Call("DELETE", "/api/DeleteCannedResponse", {"CannedResponseID": w.canned_id}),
        Call("DELETE", "/api/DeleteTag", {"TagID": w.spare_tag_id}),
        Call("DELETE", "/api/DeleteTagGroup", {"TagGroupID": w.tag_group_id}),
        *(Call("POST", f"/api/Delete{name}", {key: w.spares[key]}) for name, key in (
            ("WorkingHours", "DepartmentID"), ("ScheduledReport", "ScheduleID"), ("Recipient", "RecipientID"),
            ("CannedResponse", "CannedResponseID"), ("Tag", "TagID"), ("TagGroup", "TagGroupID"))),
        Call("POST", "/api/DeleteWebhook", {"WebhookID": w.spares["SpareWebhookID"]}),
        Call("POST", "/api/EraseCustomer", json={"CustomerID": w.customer_id}),
        Call("GET", "/api/AgentLogoff"),
    ]


def send(api, call: Call, credential: str, *, placement: str = "query"):
    """`call` with `credential`: an agent's SessionToken or a visitor's token (as a query parameter or a bearer
    header), or for Meta the body's signature (a wrong one signs with another secret)."""
    params, headers = dict(call.params), {}
    content = json.dumps(call.json).encode() if call.json is not None else None
    if content is not None:
        headers["Content-Type"] = "application/json"
    if call.who == "meta":
        secret = WHATSAPP_APP_SECRET if credential != WRONG else "not-the-app-secret"
        digest = hmac.new(secret.encode(), content, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
    elif placement == "header":
        headers["Authorization"] = f"Bearer {credential}"
    else:
        params["SessionToken" if call.who == "agent" else "VisitorToken"] = credential
    return api.http.request(call.method, call.path, params=params, content=content, headers=headers)


def routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in iter_route_contexts(app.routes):
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount):
            found.add(("GET", route.path))
        for method in (getattr(route, "methods", None) or set()) - {"HEAD", "OPTIONS"}:
            found.add((method, route.path))
    return found


def routed_as(call: Call) -> tuple[str, str]:
    path = "/webchat/files/{MessageID}" if call.path.startswith("/webchat/files/") else call.path
    return call.method, path


_SPARE_KEYS = ("CannedResponseID", "RecipientID", "ScheduleID", "TagID", "TagGroupID", "DepartmentID", "WebhookID",
               "DeliveryID", "SpareWebhookID")


def test_every_route_is_public_or_has_a_well_formed_example(server):
    dummy = World(*(["x"] * 2), *([1] * 14), spares=dict.fromkeys(_SPARE_KEYS, 1))
    covered = {routed_as(call) for call in examples(dummy)}
    assert set(PUBLIC) & covered == set()
    assert sorted(routes(server.app) - covered - set(PUBLIC)) == [], "add an example to examples() or to PUBLIC"
    assert sorted(covered | set(PUBLIC)) == sorted(routes(server.app)), "an example or PUBLIC entry for no route"


@pytest.mark.parametrize("placement", ["query", "header"])
def test_a_wrong_credential_is_401_on_every_authenticated_route(server, api, manager, placement):
    w = make_world(server, api, manager)
    wrong, answered = [], {}
    for call in examples(w):
        refused = send(api, call, WRONG, placement=placement)
        try:
            assert_error(refused, 401)
        except AssertionError:
            wrong.append(f"{call.method} {call.path}: {refused.status_code} {refused.text[:150]}")
        right = {"agent": w.manager, "visitor": w.visitor, "meta": ""}[call.who]
        answered[f"{call.method} {call.path}"] = send(api, call, right, placement=placement)
    assert wrong == []
    # The same requests, with the right credential, were served: each was a call its route answers.
    assert [f"{name}: {r.status_code} {r.text[:150]}" for name, r in answered.items() if not r.is_success] == []


@pytest.mark.parametrize(("path", "parameter"), SOCKETS.items())
def test_a_wrong_token_never_opens_a_socket(server, path, parameter):
    """Refused at the handshake (the agent socket: 403) or closed with 4401 before anything is sent."""
    url = server.base_url.replace("http://", "ws://") + f"{path}?{parameter}={WRONG}"
    with pytest.raises((ConnectionClosed, InvalidStatus)) as refused, \
            connect(url, proxy=None, open_timeout=10) as socket:
        socket.recv(timeout=5)
    if isinstance(refused.value, ConnectionClosed):
        assert refused.value.rcvd.code == 4401
    else:
        assert refused.value.response.status_code == 403
