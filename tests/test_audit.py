"""The audit log: managers' actions and security events, read and exported by managers, purged after the
retention time, never holding a secret."""

import csv
import io
import json
from datetime import timedelta

from chat_helpers import add_department, agent_with_a_chat, queued_chat
from conftest import PASSWORD, add_agent, assert_error, reset_code
from realtime_helpers import AgentSocket
from sqlalchemy import select

from agentchat import clock, jobs
from agentchat.agents.models import ROLE_MANAGER
from agentchat.audit.models import AuditEntry


def log(api, token, **params):
    return api.ok(api.get("GetAuditLog", token, params=params))


def actions(api, token, **params):
    return [entry["Action"] for entry in log(api, token, **params)["Items"]]


def all_rows(server) -> list[AuditEntry]:
    async def work(db):
        return list((await db.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())
    return server.with_db(work)


class TestSecurityEvents:
    def test_logons_and_failed_logons_are_recorded_with_the_address_tried(self, server, api, manager):
        ann = add_agent(server, name="Ann", email="ann@example.com")
        response = api.post("AgentLogon", json={"EmailAddress": "ann@example.com", "Password": "wrong password!"})
        assert_error(response, 401, "invalid_credentials")
        api.post("AgentLogon", json={"EmailAddress": "nobody@example.com", "Password": "wrong password!"})
        api.logon("ann@example.com")
        items = log(api, manager)["Items"]
        assert [i["Action"] for i in items[:3]] == ["AgentLoggedOn", "AgentLogonFailed", "AgentLogonFailed"]
        logged_on, unknown, wrong = items[:3]
        assert (logged_on["AgentID"], logged_on["AgentName"], logged_on["ClientIP"]) == (ann, "Ann", "127.0.0.1")
        assert (wrong["AgentID"], wrong["Details"]) == (ann, {"EmailAddress": "ann@example.com"})
        assert (unknown["AgentID"], unknown["Details"]) == (None, {"EmailAddress": "nobody@example.com"})
        # The manager's own logon is there too, oldest last.
        assert items[-1]["Action"] == "AgentLoggedOn" and items[-1]["AgentName"] == "Mia Manager"

    def test_a_password_reset_and_logoff_are_recorded(self, server, api, manager, mailbox):
        ann = add_agent(server, name="Ann", email="ann@example.com")
        api.ok(api.get("RequestPasswordReset", params={"EmailAddress": "ann@example.com"}))
        code = reset_code(mailbox.wait_for("ann@example.com")[0])
        api.ok(api.post("SetPassword", json={"ResetCode": code, "Password": "a brand new secret"}))
        token = api.logon("ann@example.com", "a brand new secret")
        api.ok(api.get("AgentLogoff", token))
        assert actions(api, manager, AgentID=ann) == ["AgentLoggedOff", "AgentLoggedOn", "PasswordSet",
                                                      "PasswordResetRequested"]


class TestManagerActions:
    def test_role_and_department_changes_say_what_changed(self, server, api, manager):
        sales, support = add_department(server, "Sales"), add_department(server, "Support")
        ann = add_agent(server, name="Ann", email="ann@example.com", department_ids=(sales,))
        api.ok(api.post("UpdateAgent", manager, {"AgentID": ann, "RoleID": ROLE_MANAGER,
                                                 "DepartmentIDs": [sales, support]}))
        entry = log(api, manager, Action="AgentUpdated")["Items"][0]
        assert (entry["TargetType"], entry["TargetID"]) == ("Agent", ann)
        assert entry["Details"]["Changes"] == {"RoleID": {"From": 1, "To": 2},
                                               "DepartmentIDs": {"From": [sales], "To": sorted([sales, support])}}

    def test_an_agent_changing_their_own_status_is_no_entry(self, server, api, manager):
        ann = add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        api.ok(api.post("UpdateAgent", token, {"AgentID": ann, "StatusID": 3}))
        assert "AgentUpdated" not in actions(api, manager)

    def test_settings_erasure_and_exports_are_recorded(self, server, api, manager):
        sales = add_department(server, "Sales", menu_option=1)
        chat = queued_chat(server, sales)
        api.ok(api.post("UpdateSettings", manager, {"Settings": [{"CompanyName": "Channel"}]}))
        assert api.get("ExportChat", manager, params={"ChatID": chat.chat_id}).status_code == 200
        api.ok(api.post("EraseCustomer", manager, {"CustomerID": chat.customer_id}))
        items = log(api, manager)["Items"]
        assert [i["Action"] for i in items[:3]] == ["CustomerErased", "ChatExported", "SettingsUpdated"]
        assert (items[0]["TargetType"], items[0]["TargetID"]) == ("Customer", chat.customer_id)
        assert (items[1]["TargetType"], items[1]["TargetID"]) == ("Chat", chat.chat_id)
        assert items[2]["Details"] == {"Settings": [{"CompanyName": "Channel"}]}

    def test_a_refused_action_leaves_no_entry(self, server, api, manager):
        assert_error(api.post("UpdateSettings", manager, {"Settings": [{"Nonsense": 1}]}), 422)
        assert "SettingsUpdated" not in actions(api, manager)

    def test_an_agents_export_is_recorded_too(self, server, api, manager):
        token, chat_id = agent_with_a_chat(server, api)
        assert api.get("ExportChat", token, params={"ChatID": chat_id}).status_code == 200
        entry = log(api, manager, Action="ChatExported")["Items"][0]
        assert (entry["AgentName"], entry["TargetID"]) == ("Alice", chat_id)


class TestGetAuditLog:
    def test_filters_by_agent_action_target_and_dates(self, server, api, manager):
        api.ok(api.post("CreateTagGroup", manager, {"Name": "Topics"}))
        group = log(api, manager, Action="TagGroupCreated")["Items"][0]["TargetID"]
        clock.travel(timedelta(days=3))
        manager = api.logon("mia@example.com")
        api.ok(api.post("UpdateTagGroup", manager, {"TagGroupID": group, "Name": "Subjects"}))
        today = clock.now().date().isoformat()
        assert actions(api, manager, TargetType="TagGroup", TargetID=group) == ["TagGroupUpdated", "TagGroupCreated"]
        assert actions(api, manager, TargetType="TagGroup", From=today) == ["TagGroupUpdated"]
        assert actions(api, manager, TargetType="TagGroup", To=(clock.now() - timedelta(days=1)).date().isoformat()
                       ) == ["TagGroupCreated"]
        assert actions(api, manager, Action=["TagGroupCreated", "TagGroupUpdated"]) == ["TagGroupUpdated",
                                                                                       "TagGroupCreated"]
        assert actions(api, manager, AgentID=999) == []
        page = log(api, manager, PageSize=1)
        assert len(page["Items"]) == 1 and page["Total"] >= 3

    def test_bad_filters_are_422(self, server, api, manager):
        assert_error(api.get("GetAuditLog", manager, params={"From": "yesterday"}), 422, field="From")
        assert_error(api.get("GetAuditLog", manager, params={"From": "2026-02-01", "To": "2026-01-01"}), 422)
        assert_error(api.get("GetAuditLog", manager, params={"Action": "x" * 49}), 422)
        for field in ("Action", "TargetType"):  # PostgreSQL holds no NUL: a 422, not a driver error
            assert_error(api.get("GetAuditLog", manager, params={field: "Agent\x00"}), 422, field=field)

    def test_agents_may_not_read_it(self, server, api, manager):
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        assert_error(api.get("GetAuditLog", token), 403, "manager_only")
        assert_error(api.get("ExportAuditLog", token), 403, "manager_only")

    def test_managers_hear_new_entries_live_and_agents_do_not(self, server, api, manager):
        add_agent(server, name="Ann", email="ann@example.com")
        agent_token = api.logon("ann@example.com")
        with AgentSocket(server, manager) as boss, AgentSocket(server, agent_token) as ann:
            api.ok(api.post("CreateTagGroup", manager, {"Name": "Topics"}))
            event = boss.wait_for("AuditEntryAdded", Action="TagGroupCreated")
            assert event["Data"]["Details"] == {"Name": "Topics"} and event["Data"]["AuditEntryID"] > 0
            assert "AuditEntryAdded" not in [e["Type"] for e in ann.drain()]


class TestExportAuditLog:
    def test_csv_of_the_filtered_entries_and_the_export_itself_recorded(self, server, api, manager):
        api.ok(api.post("CreateTagGroup", manager, {"Name": "=HYPERLINK(\"x\")"}))
        response = api.get("ExportAuditLog", manager, params={"Action": "TagGroupCreated"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == ["AuditEntryID", "At", "AgentID", "AgentName", "Action", "TargetType", "TargetID",
                           "ClientIP", "Details"]
        assert [r[4] for r in rows[1:]] == ["TagGroupCreated"]
        assert json.loads(rows[1][8]) == {"Name": "=HYPERLINK(\"x\")"}  # JSON starts with {: no formula
        assert actions(api, manager)[0] == "AuditLogExported"


class TestRetention:
    def test_entries_older_than_the_setting_are_purged(self, server, api, manager):
        api.ok(api.post("UpdateSettings", manager, {"Settings": [{"AuditLogRetentionDays": 30}]}))
        clock.travel(timedelta(days=31))
        manager = api.logon("mia@example.com")
        api.ok(api.post("CreateTagGroup", manager, {"Name": "Topics"}))
        server.run(jobs.purge_audit_log(server.app))
        assert actions(api, manager) == ["TagGroupCreated", "AgentLoggedOn"]

    def test_the_setting_is_bounded(self, server, api, manager):
        for bad in (0, 3651, "30", True):
            assert_error(api.post("UpdateSettings", manager, {"Settings": [{"AuditLogRetentionDays": bad}]}), 422)


class TestNoSecrets:
    def test_no_password_token_or_code_is_ever_kept_or_shown(self, server, api, manager, mailbox):
        sales = add_department(server, "Sales")
        created = api.ok(api.post("CreateAgent", manager, {"Name": "Ann", "EmailAddress": "ann@example.com",
                                                           "RoleID": 1, "DepartmentIDs": [sales]}))
        invite = reset_code(mailbox.wait_for("ann@example.com")[0])
        api.ok(api.post("SetPassword", json={"ResetCode": invite, "Password": "first secret pass"}))
        api.post("AgentLogon", json={"EmailAddress": "ann@example.com", "Password": "guessed wrong pass"})
        token = api.logon("ann@example.com", "first secret pass")
        api.ok(api.get("RequestPasswordReset", params={"EmailAddress": "ann@example.com"}))
        reset = reset_code(mailbox.wait_for("ann@example.com", count=2)[1])
        api.ok(api.post("SetPassword", json={"ResetCode": reset, "Password": "second secret pass"}))
        api.ok(api.post("UpdateAgent", manager, {"AgentID": created["AgentID"], "Name": "Ann B"}))
        secrets = [PASSWORD, "first secret pass", "guessed wrong pass", "second secret pass", invite, reset, token,
                   manager]
        kept = json.dumps([[r.action, r.details, r.client_ip, r.target_type] for r in all_rows(server)])
        shown = json.dumps(log(api, manager, PageSize=200)) + api.get("ExportAuditLog", manager).text
        assert {"AgentCreated", "PasswordSet", "AgentLogonFailed", "AgentLoggedOn", "PasswordResetRequested"} <= set(
            actions(api, manager, PageSize=200))
        for secret in secrets:
            assert secret not in kept and secret not in shown


class TestWebhookActions:
    def test_webhook_changes_are_recorded_without_the_secret_or_the_urls_query(self, server, api, manager):
        created = api.ok(api.post("CreateWebhook", manager, {
            "URL": "https://hooks.example.com:8443/in?key=query-secret", "Events": ["ChatClosed"]}))
        rotated = api.ok(api.post("RotateWebhookSecret", manager, {"WebhookID": created["WebhookID"]}))
        items = log(api, manager, TargetType="Webhook")["Items"]
        assert [i["Action"] for i in items] == ["WebhookSecretRotated", "WebhookCreated"]
        assert items[1]["Details"]["URL"] == "https://hooks.example.com:8443/in"
        shown = json.dumps(log(api, manager, PageSize=200)) + api.get("ExportAuditLog", manager).text
        secrets = [value for body in (created, rotated) for key, value in body.items() if "Secret" in key]
        assert secrets and all(isinstance(s, str) and s not in shown for s in secrets)
        assert "query-secret" not in shown
