"""Reports: metric values from a known history, live metrics, report files, recipients, scheduled e-mails."""

import asyncio
import csv
import io
from datetime import timedelta

from chat_helpers import add_department, queued_chat
from conftest import add_agent, error_code

from agentchat import clock
from agentchat.reports import scheduler


def build_history(server, api, manager):
    """Chat A: waits 60s, grabbed, answered 30s later, closed 100s later. Chat B: abandoned in queue after 20s."""
    sales = add_department(server, "Sales", menu_option=1)
    agent_id = add_agent(server, name="Sipho Agent", department_ids=(sales,))
    token = api.logon("sipho.agent@example.com")
    a = queued_chat(server, sales, phone="27820000001")
    clock.travel(timedelta(seconds=60))
    api.ok(api.post("GrabChat", token, {"ChatID": a.chat_id}))
    clock.travel(timedelta(seconds=30))
    api.ok(api.post("SendMessage", token, {"ChatID": a.chat_id, "Message": "How can I help?"}))
    clock.travel(timedelta(seconds=100))
    api.ok(api.post("CloseChat", manager, {"ChatID": a.chat_id}))
    b = queued_chat(server, sales, phone="27820000002")
    clock.travel(timedelta(seconds=20))
    api.ok(api.post("CloseChat", manager, {"ChatID": b.chat_id}))
    return sales, agent_id, token, a.chat_id, b.chat_id


def today() -> str:
    return clock.now().date().isoformat()


class TestMetrics:
    def test_chat_summary_report_has_hand_computed_values(self, server, api, manager):
        _sales, _agent, _token, a, b = build_history(server, api, manager)
        response = api.get("GetReport", manager, {"ReportID": "ChatSummary", "From": today(), "To": today(),
                                                  "FileFormat": "CSV"})
        assert response.status_code == 200
        rows = {int(row["ChatID"]): row for row in csv.DictReader(io.StringIO(response.text))}
        assert rows[a]["WaitSeconds"] == "60"
        assert rows[a]["ReactionSeconds"] == "30"
        assert rows[a]["FirstResponseSeconds"] == "90"
        assert rows[a]["HandleSeconds"] == "130"
        assert rows[a]["ResolutionSeconds"] == "190"
        assert rows[a]["Missed"] == "No" and rows[a]["Abandoned"] == "No"
        assert rows[a]["Agent"] == "Sipho Agent" and rows[a]["Department"] == "Sales"
        assert rows[b]["WaitSeconds"] == "" and rows[b]["FirstResponseSeconds"] == ""
        assert rows[b]["ResolutionSeconds"] == "20"
        assert rows[b]["Missed"] == "Yes" and rows[b]["Abandoned"] == "Yes"

    def test_live_metrics_and_dashboard_use_the_same_numbers(self, server, api, manager):
        sales, agent_id, token, _a, _b = build_history(server, api, manager)
        waiting = queued_chat(server, sales, phone="27820000003")
        clock.travel(timedelta(seconds=45))
        live = api.ok(api.get("GetLiveMetrics", token))
        assert live["ChatsWaiting"] == 1 and live["ChatsInProgress"] == 0
        assert live["LongestWaitSeconds"] == 45
        assert live["ChatsClosedToday"] == 2
        assert live["AverageWaitSecondsToday"] == 60
        assert live["AverageFirstResponseSecondsToday"] == 90
        assert live["Departments"] == [{"DepartmentID": sales, "ChatsWaiting": 1, "ChatsInProgress": 0,
                                        "LongestWaitSeconds": 45}]
        assert sum(live["AgentsByStatus"].values()) == 2
        assert waiting.chat_id

        board = api.ok(api.get("GetDashboard", manager, {"From": today(), "To": today()}))
        assert board["Totals"]["Chats"] == 3
        assert board["Totals"]["ClosedChats"] == 2
        assert board["Totals"]["MissedChats"] == 1 and board["Totals"]["AbandonedChats"] == 1
        assert board["Metrics"]["AverageWaitSeconds"] == 60
        assert board["Metrics"]["FirstResponseSecondsP90"] == 90
        assert board["Metrics"]["AverageResolutionSeconds"] == 105
        [per_agent] = board["PerAgent"]
        assert per_agent["AgentID"] == agent_id and per_agent["HandleSeconds"] == 130
        assert board["PerDay"][0]["Chats"] == 3

    def test_dashboard_is_for_managers_and_checks_the_range(self, server, api, manager):
        add_agent(server, name="Ann")
        token = api.logon("ann@example.com")
        assert api.get("GetDashboard", token, {"From": today(), "To": today()}).status_code == 403
        response = api.get("GetDashboard", manager, {"From": "2026-02-02", "To": "2026-02-01"})
        assert response.status_code == 422 and error_code(response) == "invalid_range"


class TestReportFiles:
    def test_catalogue_and_every_format(self, server, api, manager):
        build_history(server, api, manager)
        items = api.ok(api.get("GetReports", manager))["Items"]
        assert {item["ReportID"] for item in items} >= {"ChatSummary", "AgentPerformance", "DepartmentPerformance",
                                                          "TagUsage", "MessageLog"}
        for item in items:
            for file_format, magic in (("CSV", None), ("XLSX", b"PK"), ("PDF", b"%PDF")):
                response = api.get("GetReport", manager, {"ReportID": item["ReportID"], "From": today(),
                                                          "To": today(), "FileFormat": file_format})
                assert response.status_code == 200, response.text
                if magic:
                    assert response.content.startswith(magic)
        log = api.get("GetReport", manager, {"ReportID": "MessageLog", "From": today(), "To": today()}).text
        assert "How can I help?" in log

    def test_unknown_report_is_404(self, server, api, manager):
        response = api.get("GetReport", manager, {"ReportID": "Nope", "From": today(), "To": today()})
        assert response.status_code == 404 and error_code(response) == "report_not_found"


def make_schedule(api, manager, **overrides):
    recipient = api.ok(api.post("CreateRecipient", manager, {"Name": "Boss", "EmailAddress": "boss@example.com"}))
    body = {"RecipientID": recipient["RecipientID"], "ReportID": "ChatSummary", "FileFormat": "CSV",
            "Period": "Day", "DeliveryMethod": "Email", "ScheduledDays": [1, 2, 3, 4, 5, 6, 7],
            "ScheduledTime": "00:00", **overrides}
    return recipient, api.post("CreateScheduledReport", manager, body)


class TestRecipients:
    def test_create_list_delete(self, server, api, manager):
        recipient, response = make_schedule(api, manager)
        schedule = api.ok(response)
        assert schedule["ScheduledDays"] == [1, 2, 3, 4, 5, 6, 7] and schedule["ScheduledTime"] == "00:00"
        [listed] = api.ok(api.get("GetRecipients", manager))["Items"]
        assert listed["EmailAddress"] == "boss@example.com"
        assert [s["ScheduleID"] for s in listed["Schedules"]] == [schedule["ScheduleID"]]
        api.ok(api.delete("DeleteRecipient", manager, {"RecipientID": recipient["RecipientID"]}))
        assert api.ok(api.get("GetRecipients", manager))["Items"] == []
        response = api.delete("DeleteScheduledReport", manager, {"ScheduleID": schedule["ScheduleID"]})
        assert response.status_code == 404

    def test_validation(self, server, api, manager):
        recipient, _ = make_schedule(api, manager)
        base = {"RecipientID": recipient["RecipientID"], "ReportID": "ChatSummary", "FileFormat": "CSV",
                "Period": "Day", "DeliveryMethod": "Email", "ScheduledDays": [1], "ScheduledTime": "06:00"}
        for change in ({"ScheduledDays": []}, {"ScheduledDays": [0]}, {"ScheduledDays": [1, 1]},
                       {"ScheduledTime": "24:00"}, {"ScheduledTime": "6:00"}, {"Period": "Year"},
                       {"FileFormat": "DOC"}, {"DeliveryMethod": "Fax"}):
            response = api.post("CreateScheduledReport", manager, {**base, **change})
            assert response.status_code == 422, change
        response = api.post("CreateScheduledReport", manager, {**base, "RecipientID": 999})
        assert response.status_code == 404 and error_code(response) == "recipient_not_found"
        response = api.post("CreateScheduledReport", manager, {**base, "ReportID": "Nope"})
        assert response.status_code == 404 and error_code(response) == "report_not_found"
        response = api.post("CreateRecipient", manager, {"Name": "X", "EmailAddress": "not-an-address"})
        assert response.status_code == 422


class TestScheduler:
    def test_due_schedule_mails_once_even_with_two_runs_at_once(self, server, api, manager, mailbox):
        build_history(server, api, manager)
        _recipient, response = make_schedule(api, manager)
        api.ok(response)
        clock.travel(timedelta(days=1))

        async def twice():
            app = server.app
            return await asyncio.gather(*(scheduler.run_due_reports(app.state.sessionmaker, app.state.settings)
                                          for _ in range(2)))
        server.run(twice())
        server.run(twice())
        [mail] = mailbox.wait_for("boss@example.com")
        [attachment] = list(mail.iter_attachments())
        assert attachment.get_filename().endswith(".csv")
        rows = list(csv.DictReader(io.StringIO(attachment.get_content().decode()
                                               if isinstance(attachment.get_content(), bytes)
                                               else attachment.get_content())))
        assert len(rows) == 2 and {row["ResolutionSeconds"] for row in rows} == {"190", "20"}
        assert len(mailbox.to("boss@example.com")) == 1

    def test_send_now(self, server, api, manager, mailbox):
        _recipient, response = make_schedule(api, manager, FileFormat="XLSX")
        schedule = api.ok(response)
        api.ok(api.post("SendScheduledReportNow", manager, {"ScheduleID": schedule["ScheduleID"]}))
        [mail] = mailbox.wait_for("boss@example.com")
        [attachment] = list(mail.iter_attachments())
        assert attachment.get_content().startswith(b"PK")
