"""Reports: metric values from a known history, live metrics, report files, recipients, scheduled e-mails."""

import asyncio
import csv
import io
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from chat_helpers import add_department, customer_writes, queued_chat
from conftest import add_agent, error_code, free_port
from sqlalchemy import select

from agentchat import clock, jobs
from agentchat.hours import service as hours
from agentchat.hours.models import WorkingHours
from agentchat.reports import history, scheduler
from agentchat.reports.models import ReportRun


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
        assert rows[a]["ResponseSeconds"] == "90" and rows[a]["ResponseGaps"] == "1"
        assert rows[a]["WaitSecondsWithinHours"] == "60"  # no working hours set: always open
        assert rows[a]["Missed"] == "No" and rows[a]["Abandoned"] == "No"
        assert rows[a]["Agent"] == "Sipho Agent" and rows[a]["Department"] == "Sales"
        assert rows[b]["WaitSeconds"] == "" and rows[b]["FirstResponseSeconds"] == ""
        assert rows[b]["ResolutionSeconds"] == "20"

    def test_readable_chat_summary_has_labels_and_durations_beside_their_seconds(self, server, api, manager):
        _sales, _agent, _token, a, b = build_history(server, api, manager)
        response = api.get("GetReport", manager, {"ReportID": "ChatSummary", "From": today(), "To": today(),
                                                  "FileFormat": "CSV", "Readable": "true"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
        reader = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
        header = next(reader)
        assert header[:5] == ["Chat ID", "Channel", "Status", "Department", "Agent"]
        assert "Created (UTC)" in header and "WaitSeconds" not in header
        wait = header.index("Wait (h:mm:ss)")
        assert header[wait + 1] == "Wait (seconds)"
        handle = header.index("Handle time in working hours (h:mm:ss)")
        assert header[handle + 1] == "Handle time in working hours (seconds)"
        rows = {int(row[0]): dict(zip(header, row, strict=True)) for row in reader}
        assert (rows[a]["Wait (h:mm:ss)"], rows[a]["Wait (seconds)"]) == ("0:01:00", "60")
        assert (rows[a]["Resolution (h:mm:ss)"], rows[a]["Resolution (seconds)"]) == ("0:03:10", "190")
        assert (rows[b]["Wait (h:mm:ss)"], rows[b]["Wait (seconds)"]) == ("", "")  # never taken: no wait
        assert rows[a]["Missed"] == "No" and rows[a]["Agent"] == "Sipho Agent"
        # The machine CSV of the same chats is as it always was.
        plain = api.get("GetReport", manager, {"ReportID": "ChatSummary", "From": today(), "To": today()}).text
        assert plain.startswith("ChatID,Channel,Status,Department,Agent,CreatedAt,")
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
        [per_agent] = [row for row in board["PerAgent"] if row["AgentID"] == agent_id]
        assert per_agent["HandleSeconds"] == 130
        assert board["Metrics"]["AverageResponseSeconds"] == 90
        assert board["PerDay"][0]["Chats"] == 3

    def test_live_metrics_follow_each_change_at_once_and_each_agent_sees_own_departments(self, server, api,
                                                                                          manager):
        sales = add_department(server, "Sales", menu_option=1)
        support = add_department(server, "Support", menu_option=2)
        add_agent(server, name="Ann", department_ids=(sales,))
        ann = api.logon("ann@example.com")
        queued_chat(server, support, phone="27820000009")
        assert api.ok(api.get("GetLiveMetrics", ann))["ChatsWaiting"] == 0
        assert api.ok(api.get("GetLiveMetrics", manager))["ChatsWaiting"] == 1
        # The helper writes behind the app's back (no event published): the figures may be a second old.
        waiting = queued_chat(server, sales, phone="27820000010")
        clock.travel(timedelta(seconds=1))
        assert api.ok(api.get("GetLiveMetrics", ann))["ChatsWaiting"] == 1
        assert api.ok(api.get("GetLiveMetrics", manager))["ChatsWaiting"] == 2
        api.ok(api.post("GrabChat", ann, {"ChatID": waiting.chat_id}))  # through the API: seen at once
        live = api.ok(api.get("GetLiveMetrics", ann))
        assert live["ChatsWaiting"] == 0 and live["ChatsInProgress"] == 1
        api.ok(api.post("CloseChat", manager, {"ChatID": waiting.chat_id}))
        live = api.ok(api.get("GetLiveMetrics", manager))
        assert live["ChatsInProgress"] == 0 and live["ChatsClosedToday"] == 1
        assert api.ok(api.get("GetLiveMetrics", ann))["ChatsClosedToday"] == 1

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


def local_now(zone: str) -> datetime:
    return clock.now().replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def travel_to_local(zone: str, wall: datetime) -> None:
    """Move the clock forward to the moment the company's clock shows `wall`."""
    target = wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)
    assert target > clock.now()
    clock.travel(target - clock.now())


class TestResponseTime:
    def test_mean_gap_from_the_first_unanswered_customer_message(self, server, api, manager):
        sales = add_department(server, "Sales", menu_option=1)
        add_agent(server, name="Sipho Agent", department_ids=(sales,))
        token = api.logon("sipho.agent@example.com")
        first_day = today()
        # "Hello" and the menu choice come before the queue entry: they count from the queue entry.
        chat = queued_chat(server, sales, phone="27820000001")
        clock.travel(timedelta(seconds=10))
        api.ok(api.post("GrabChat", token, {"ChatID": chat.chat_id}))
        clock.travel(timedelta(seconds=30))
        api.ok(api.post("SendMessage", token, {"ChatID": chat.chat_id, "Message": "Hi, Sipho here"}))  # gap 40
        clock.travel(timedelta(seconds=60))
        customer_writes(server, chat.customer_id, "My order is late")  # a gap opens
        clock.travel(timedelta(seconds=30))
        customer_writes(server, chat.customer_id, "Order 123")  # same run: the gap keeps its start
        clock.travel(timedelta(seconds=30))
        api.ok(api.post("SendMessage", token, {"ChatID": chat.chat_id, "Message": "Checking"}))  # gap 60
        clock.travel(timedelta(seconds=10))
        api.ok(api.post("SendMessage", token, {"ChatID": chat.chat_id, "Message": "It ships today"}))  # no gap
        clock.travel(timedelta(seconds=30))
        customer_writes(server, chat.customer_id, "Thanks")  # never answered: not counted
        clock.travel(timedelta(seconds=100))
        api.ok(api.post("CloseChat", token, {"ChatID": chat.chat_id}))

        response = api.get("GetReport", manager, {"ReportID": "ChatSummary", "From": first_day, "To": today()})
        [row] = list(csv.DictReader(io.StringIO(response.text)))
        assert row["ResponseGaps"] == "2"
        assert row["ResponseSeconds"] == "50"  # (40 + 60) / 2
        assert row["FirstResponseSeconds"] == "40"
        assert row["CustomerMessages"] == "5" and row["AgentMessages"] == "3"
        board = api.ok(api.get("GetDashboard", manager, {"From": first_day, "To": today()}))
        assert board["Metrics"]["AverageResponseSeconds"] == 50
        assert board["Metrics"]["AverageResponseSecondsWithinHours"] == 50


class TestOccupancy:
    def test_assigned_time_over_online_time(self, server, api, manager):
        sales = add_department(server, "Sales", menu_option=1)
        agent_id = add_agent(server, name="Sipho Agent", department_ids=(sales,))
        first_day = today()
        clock.freeze()  # only the travels below count, not the time the calls take
        token = api.logon("sipho.agent@example.com")  # Online
        clock.travel(timedelta(seconds=100))
        a = queued_chat(server, sales, phone="27820000001")
        b = queued_chat(server, sales, phone="27820000002")
        api.ok(api.post("GrabChat", token, {"ChatID": a.chat_id}))  # busy from here...
        clock.travel(timedelta(seconds=200))
        api.ok(api.post("GrabChat", token, {"ChatID": b.chat_id}))  # two chats at once count once
        clock.travel(timedelta(seconds=100))
        api.ok(api.post("CloseChat", token, {"ChatID": a.chat_id}))
        clock.travel(timedelta(seconds=100))
        api.ok(api.post("CloseChat", token, {"ChatID": b.chat_id}))  # ...to here: 400s
        clock.travel(timedelta(seconds=100))
        api.ok(api.post("UpdateAgent", token, {"AgentID": agent_id, "StatusID": 3}))  # OnBreak: not Online
        clock.travel(timedelta(seconds=500))
        api.ok(api.post("UpdateAgent", token, {"AgentID": agent_id, "StatusID": 4}))
        clock.travel(timedelta(seconds=300))
        # Online: 100 + 200 + 100 + 100 + 100 (before the break) + 300 (after it) = 900s; busy 400s.
        board = api.ok(api.get("GetDashboard", manager, {"From": first_day, "To": today(), "AgentID": agent_id}))
        [row] = board["PerAgent"]
        assert row["AgentID"] == agent_id
        assert row["OnlineSeconds"] == 900 and row["OccupiedSeconds"] == 400
        assert row["Occupancy"] == round(400 / 900, 4)
        # No working hours set: every second is within them.
        assert (row["OnlineSecondsWithinHours"], row["OccupiedSecondsWithinHours"]) == (900, 400)
        assert row["OccupancyWithinHours"] == row["Occupancy"]
        assert board["Metrics"]["Occupancy"] == round(400 / 900, 4)
        board = api.ok(api.get("GetDashboard", manager, {"From": first_day, "To": today(), "DepartmentID": sales}))
        assert [(r["AgentID"], r["OccupiedSeconds"]) for r in board["PerAgent"]] == [(agent_id, 400)]
        other = add_department(server, "Support")
        board = api.ok(api.get("GetDashboard", manager, {"From": first_day, "To": today(), "DepartmentID": other}))
        assert board["PerAgent"] == [] and board["Metrics"]["Occupancy"] is None
        response = api.get("GetReport", manager, {"ReportID": "AgentPerformance", "From": first_day, "To": today()})
        rows = {int(r["AgentID"]): r for r in csv.DictReader(io.StringIO(response.text))}
        assert rows[agent_id]["OnlineSeconds"] == "900" and rows[agent_id]["OccupiedSeconds"] == "400"
        assert rows[agent_id]["Chats"] == "2"
        response = api.get("GetReport", manager, {"ReportID": "AgentPerformance", "From": first_day, "To": today(),
                                                  "Readable": "true"})
        readable = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
        [row] = [r for r in readable if r["Agent ID"] == str(agent_id)]
        assert (row["Online (h:mm:ss)"], row["Online (seconds)"]) == ("0:15:00", "900")
        assert row["Occupancy (%)"] == "44.4%"


class TestWithinWorkingHours:
    ZONE = "Africa/Johannesburg"

    def test_a_wait_across_the_night_counts_only_open_time(self, server, api, manager):
        sales = add_department(server, "Sales", menu_option=1)
        add_agent(server, name="Sipho Agent", department_ids=(sales,))
        every_day = [{"Day": day, "Intervals": [{"Start": "08:00", "End": "18:00"}]} for day in range(1, 8)]
        api.ok(api.post("UpdateWorkingHours", manager, {"TimeZone": self.ZONE, "Days": every_day}))
        now = local_now(self.ZONE)
        evening = datetime.combine(now.date() + timedelta(days=1), time(17, 50))
        travel_to_local(self.ZONE, evening)
        chat = queued_chat(server, sales, phone="27820000001")  # 17:50, open: queued
        clock.travel(timedelta(hours=14, minutes=20))  # 08:10 next day
        token = api.logon("sipho.agent@example.com")
        api.ok(api.post("GrabChat", token, {"ChatID": chat.chat_id}))
        clock.travel(timedelta(minutes=1))
        api.ok(api.post("SendMessage", token, {"ChatID": chat.chat_id, "Message": "Good morning"}))
        clock.travel(timedelta(minutes=9))
        api.ok(api.post("CloseChat", token, {"ChatID": chat.chat_id}))  # 08:20

        boss = api.logon("mia@example.com")
        day = evening.date().isoformat()
        response = api.get("GetReport", boss, {"ReportID": "ChatSummary", "From": day, "To": day})
        [row] = list(csv.DictReader(io.StringIO(response.text)))
        assert row["WaitSeconds"] == str(14 * 3600 + 20 * 60)
        assert row["WaitSecondsWithinHours"] == str(20 * 60)  # 17:50-18:00 and 08:00-08:10
        assert row["FirstResponseSecondsWithinHours"] == str(21 * 60)
        assert row["ReactionSeconds"] == "60" and row["ReactionSecondsWithinHours"] == "60"
        assert row["ResolutionSeconds"] == str(14 * 3600 + 30 * 60)
        assert row["ResolutionSecondsWithinHours"] == str(30 * 60)
        assert row["HandleSeconds"] == "600" and row["HandleSecondsWithinHours"] == "600"
        board = api.ok(api.get("GetDashboard", boss, {"From": day, "To": day}))
        assert board["Metrics"]["AverageWaitSecondsWithinHours"] == 20 * 60
        assert board["Metrics"]["AverageWaitSeconds"] == 14 * 3600 + 20 * 60
        assert [h["Chats"] for h in board["PerHour"]] == [1 if h == 17 else 0 for h in range(24)]


    def test_occupancy_within_hours_counts_the_open_part_of_online_and_busy_time(self, server, api, manager):
        sales = add_department(server, "Sales", menu_option=1)
        agent_id = add_agent(server, name="Sipho Agent", department_ids=(sales,))
        until_six = [{"Day": day, "Intervals": [{"Start": "08:00", "End": "18:00"}]} for day in range(1, 8)]
        api.ok(api.post("UpdateWorkingHours", manager, {"TimeZone": self.ZONE, "Days": until_six}))
        evening = datetime.combine(local_now(self.ZONE).date() + timedelta(days=1), time(17, 55))
        travel_to_local(self.ZONE, evening)
        token = api.logon("sipho.agent@example.com")  # Online at 17:55
        chat = queued_chat(server, sales, phone="27820000001")
        clock.travel(timedelta(minutes=2))
        api.ok(api.post("GrabChat", token, {"ChatID": chat.chat_id}))  # busy from 17:57...
        clock.travel(timedelta(minutes=8))
        api.ok(api.post("CloseChat", token, {"ChatID": chat.chat_id}))  # ...to 18:05
        clock.travel(timedelta(minutes=5))
        api.ok(api.post("UpdateAgent", token, {"AgentID": agent_id, "StatusID": 3}))  # OnBreak at 18:10
        # Online 17:55-18:10 (900 s), 300 s of it before closing time; busy 480 s, 180 s of it before 18:00.
        boss = api.logon("mia@example.com")
        day = evening.date().isoformat()
        board = api.ok(api.get("GetDashboard", boss, {"From": day, "To": day, "AgentID": agent_id}))
        [row] = board["PerAgent"]
        # The real clock runs on between the steps: each span is a few ms longer or shorter than its whole minutes,
        # and seconds are whole (fractions dropped).
        assert (row["OnlineSeconds"], row["OccupiedSeconds"]) == (900, 480)
        assert row["OnlineSecondsWithinHours"] in (299, 300) and row["OccupiedSecondsWithinHours"] in (179, 180)
        assert row["OccupancyWithinHours"] == board["Metrics"]["OccupancyWithinHours"] == pytest.approx(0.6, abs=0.01)
        response = api.get("GetReport", boss, {"ReportID": "AgentPerformance", "From": day, "To": day})
        [line] = [r for r in csv.DictReader(io.StringIO(response.text)) if r["AgentID"] == str(agent_id)]
        assert (int(line["OnlineSecondsWithinHours"]), int(line["OccupiedSecondsWithinHours"])) == \
            (row["OnlineSecondsWithinHours"], row["OccupiedSecondsWithinHours"])
        assert float(line["OccupancyWithinHours"]) == row["OccupancyWithinHours"]
        # Asked for the department, its own hours apply: Sales works round the clock.
        all_day = [{"Day": d, "Intervals": [{"Start": "00:00", "End": "24:00"}]} for d in range(1, 8)]
        api.ok(api.post("UpdateWorkingHours", boss, {"DepartmentID": sales, "Days": all_day}))
        board = api.ok(api.get("GetDashboard", boss, {"From": day, "To": day, "DepartmentID": sales}))
        [row] = board["PerAgent"]
        assert (row["OnlineSecondsWithinHours"], row["OccupiedSecondsWithinHours"]) in ((900, 480), (899, 479))
        # Not asked for a department, the agent's own hours apply: those of Sales, their only department.
        board = api.ok(api.get("GetDashboard", boss, {"From": day, "To": day}))
        [row] = [r for r in board["PerAgent"] if r["AgentID"] == agent_id]
        assert (row["OnlineSecondsWithinHours"], row["OccupiedSecondsWithinHours"]) in ((900, 480), (899, 479))
        response = api.get("GetReport", boss, {"ReportID": "AgentPerformance", "From": day, "To": day})
        [line] = [r for r in csv.DictReader(io.StringIO(response.text)) if r["AgentID"] == str(agent_id)]
        assert (line["OnlineSecondsWithinHours"], line["OccupiedSecondsWithinHours"]) in (("900", "480"),
                                                                                         ("899", "479"))

    def test_an_agent_of_two_departments_works_when_either_is_open(self, server, api, manager):
        # Sales keeps the company's hours (08:00-18:00), Evening has its own (18:03-22:00): of 17:55-18:10 Online,
        # all but 18:00-18:03 is within the hours of one of Sipho's departments, 18:03-18:10 within Lerato's.
        sales = add_department(server, "Sales", menu_option=1)
        evening = add_department(server, "Evening", menu_option=2)
        agent_id = add_agent(server, name="Sipho Agent", department_ids=(sales, evening))
        lerato_id = add_agent(server, name="Lerato Agent", department_ids=(evening,))
        until_six = [{"Day": day, "Intervals": [{"Start": "08:00", "End": "18:00"}]} for day in range(1, 8)]
        api.ok(api.post("UpdateWorkingHours", manager, {"TimeZone": self.ZONE, "Days": until_six}))
        late = [{"Day": day, "Intervals": [{"Start": "18:03", "End": "22:00"}]} for day in range(1, 8)]
        api.ok(api.post("UpdateWorkingHours", manager, {"DepartmentID": evening, "Days": late}))
        evening_day = datetime.combine(local_now(self.ZONE).date() + timedelta(days=1), time(17, 55))
        travel_to_local(self.ZONE, evening_day)
        sipho, lerato = api.logon("sipho.agent@example.com"), api.logon("lerato.agent@example.com")  # Online 17:55
        clock.travel(timedelta(minutes=15))
        for token, agent in ((sipho, agent_id), (lerato, lerato_id)):
            api.ok(api.post("UpdateAgent", token, {"AgentID": agent, "StatusID": 3}))  # OnBreak at 18:10
        day = evening_day.date().isoformat()
        boss = api.logon("mia@example.com")
        board = api.ok(api.get("GetDashboard", boss, {"From": day, "To": day}))
        rows = {r["AgentID"]: r for r in board["PerAgent"]}
        assert rows[agent_id]["OnlineSeconds"] == 900
        assert rows[agent_id]["OnlineSecondsWithinHours"] in (719, 720)
        assert rows[lerato_id]["OnlineSecondsWithinHours"] in (419, 420)
        response = api.get("GetReport", boss, {"ReportID": "AgentPerformance", "From": day, "To": day})
        lines = {int(r["AgentID"]): r for r in csv.DictReader(io.StringIO(response.text))}
        assert lines[agent_id]["OnlineSecondsWithinHours"] == str(rows[agent_id]["OnlineSecondsWithinHours"])
        assert lines[lerato_id]["OnlineSecondsWithinHours"] == str(rows[lerato_id]["OnlineSecondsWithinHours"])


class TestOpenSeconds:
    """hours.Schedule.open_seconds on its own: DST days and holidays."""

    @staticmethod
    def schedule(zone: str, days: list[dict], holidays: list[dict] = ()) -> hours.Schedule:
        row = WorkingHours(scope="company", days=days, holidays=list(holidays))
        return hours.Schedule.of(row, ZoneInfo(zone))

    def test_dst_days_are_23_and_25_hours_long(self):
        london = self.schedule("Europe/London", [{"Day": 7, "Intervals": [{"Start": "00:00", "End": "24:00"}]}])
        # Sundays 2026-03-29 (clocks go forward) and 2026-10-25 (clocks go back), whole days in UTC terms.
        assert london.open_seconds(datetime(2026, 3, 28, 12), datetime(2026, 3, 30, 12)) == 23 * 3600
        assert london.open_seconds(datetime(2026, 10, 24, 12), datetime(2026, 10, 26, 12)) == 25 * 3600

    def test_holidays_and_split_shifts(self):
        split = [{"Start": "08:00", "End": "12:00"}, {"Start": "13:00", "End": "17:00"}]
        joburg = self.schedule("Africa/Johannesburg", [{"Day": d, "Intervals": split} for d in range(1, 6)],
                               [{"Date": "2026-12-25", "Intervals": []}])
        # Thursday 2026-12-24 16:30 SAST -> Monday 2026-12-28 08:30 SAST: 30 min Thursday, Friday a holiday,
        # the weekend closed, 30 min Monday.
        start, end = datetime(2026, 12, 24, 14, 30), datetime(2026, 12, 28, 6, 30)
        assert joburg.open_seconds(start, end) == 3600
        # 11:30 -> 13:30 SAST: the lunch break does not count.
        assert joburg.open_seconds(datetime(2026, 12, 28, 9, 30), datetime(2026, 12, 28, 11, 30)) == 3600
        assert hours.Schedule(zone=ZoneInfo("UTC")).open_seconds(start, end) == int((end - start).total_seconds())

    def test_several_schedules_count_each_open_second_once(self):
        morning = self.schedule("UTC", [{"Day": 1, "Intervals": [{"Start": "08:00", "End": "12:00"}]}])
        midday = self.schedule("UTC", [{"Day": 1, "Intervals": [{"Start": "10:00", "End": "14:00"}]}])
        evening = self.schedule("UTC", [{"Day": 1, "Intervals": [{"Start": "18:00", "End": "20:00"}]}])
        monday = datetime(2026, 12, 28)
        day = (monday, monday + timedelta(days=1))
        assert history.AnyOpen((morning, midday)).open_seconds(*day) == 6 * 3600  # 08:00-14:00
        assert history.AnyOpen((morning, midday, evening)).open_seconds(*day) == 8 * 3600
        assert history.AnyOpen((morning, evening)).open_seconds(monday.replace(hour=11), monday.replace(hour=19)) \
            == 2 * 3600
        assert morning.open_intervals(monday.replace(hour=9), monday.replace(hour=17)) == \
            [(monday.replace(hour=9), monday.replace(hour=12))]


def unsent_runs(server):
    async def work(db):
        return [(run.sent_at, run.attempts, run.last_error)
                for run in (await db.execute(select(ReportRun))).scalars()]
    return server.with_db(work)


class TestSchedulerRecovery:
    def test_a_failed_mail_stays_unsent_and_is_retried(self, server, api, manager, mailbox):
        build_history(server, api, manager)
        api.ok(make_schedule(api, manager)[1])
        app = server.app
        good = app.state.settings
        app.state.settings = good.model_copy(update={"smtp_port": free_port()})  # nobody listens there
        try:
            clock.travel(timedelta(days=1))
            server.run(scheduler.run_due_reports(app.state.sessionmaker, app.state.settings))
        finally:
            app.state.settings = good
        [(sent_at, attempts, last_error)] = unsent_runs(server)
        assert sent_at is None and attempts >= 1 and last_error
        assert mailbox.to("boss@example.com") == []
        # Too soon to retry: the failed claim is still fresh.
        server.run(scheduler.run_due_reports(app.state.sessionmaker, app.state.settings))
        assert mailbox.to("boss@example.com") == []
        clock.travel(scheduler.RETRY_AFTER + timedelta(seconds=1))
        server.run(scheduler.run_due_reports(app.state.sessionmaker, app.state.settings))
        mailbox.wait_for("boss@example.com")
        server.run(scheduler.run_due_reports(app.state.sessionmaker, app.state.settings))
        assert len(mailbox.to("boss@example.com")) == 1
        [(sent_at, _attempts, _error)] = unsent_runs(server)
        assert sent_at is not None

    def test_start_up_sends_only_the_latest_missed_run_once(self, server, api, manager, mailbox):
        api.ok(make_schedule(api, manager)[1])  # every day at 00:00, the previous day
        clock.travel(timedelta(days=3, hours=1))  # the service was down through three due times
        server.run(jobs.send_due_reports(server.app))  # what the job does first at start-up
        server.run(jobs.send_due_reports(server.app))
        [mail] = mailbox.wait_for("boss@example.com")
        yesterday = (clock.now().date() - timedelta(days=1)).strftime("%a %d %b %Y")
        assert mail["Subject"] == f"Chat summary, {yesterday}"
        server.run(jobs.send_due_reports(server.app))
        assert len(mailbox.to("boss@example.com")) == 1
        assert len(unsent_runs(server)) == 1
