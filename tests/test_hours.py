"""Working hours: schedules (split shifts, holidays, department overrides, time zones and DST), "open now?
next opening?", and the bot obeying them. Time is moved with clock.travel, never slept."""

from datetime import datetime

import pytest
from chat_helpers import add_department
from conftest import add_agent, assert_error, parse_time, race
from sqlalchemy import select

from agentchat import clock
from agentchat.bot import service as bot
from agentchat.chats.models import WHATSAPP, Chat, Message
from agentchat.customers import service as customers

WEEKDAYS = [{"Day": day, "Intervals": [{"Start": "08:00", "End": "12:00"}, {"Start": "13:00", "End": "17:00"}]}
            for day in range(1, 6)]


def travel_to(utc: str) -> None:
    """Set the service's clock to this UTC time ("2030-01-07T07:00")."""
    clock.travel(datetime.fromisoformat(utc) - clock.now())


def update(api, token, **hours):
    return api.post("UpdateWorkingHours", token, {"Days": WEEKDAYS, **hours})


def status(api, department_id=None):
    """(OpenNow, NextOpening to the minute) as Ann sees them, logged on afresh: travel outlives sessions."""
    params = {"DepartmentID": department_id} if department_id is not None else None
    body = api.ok(api.get("GetWorkingHours", api.logon("ann@example.com"), params))
    next_opening = body["NextOpening"] and parse_time(body["NextOpening"]).isoformat(timespec="minutes")
    return body["OpenNow"], next_opening


@pytest.fixture
def agent(server, api):
    department_id = add_department(server, "Sales", menu_option=1)
    add_agent(server, name="Ann", email="ann@example.com", department_ids=(department_id,))
    return api.logon("ann@example.com"), department_id


class TestUpdateWorkingHours:
    def test_sets_the_company_hours_and_time_zone(self, api, manager):
        body = api.ok(update(api, manager, TimeZone="Africa/Johannesburg",
                             Holidays=[{"Date": "2030-12-25", "Intervals": []},
                                       {"Date": "2030-12-24", "Intervals": [{"Start": "08:00", "End": "12:00"}]}]))
        assert body == {"TimeZone": "Africa/Johannesburg", "DepartmentID": None, "Days": WEEKDAYS,
                        "Holidays": [{"Date": "2030-12-24", "Intervals": [{"Start": "08:00", "End": "12:00"}]},
                                     {"Date": "2030-12-25", "Intervals": []}]}
        settings = api.ok(api.get("GetSettings", manager))["Settings"]
        assert {"TimeZone": "Africa/Johannesburg"} in settings
        fetched = api.ok(api.get("GetWorkingHours", manager))
        assert {k: fetched[k] for k in body} == body

    def test_replaces_the_whole_schedule_and_sorts_it(self, api, manager):
        api.ok(update(api, manager))
        days = [{"Day": 6, "Intervals": [{"Start": "13:00", "End": "15:00"}, {"Start": "09:00", "End": "12:00"}]},
                {"Day": 2, "Intervals": []}]
        body = api.ok(api.post("UpdateWorkingHours", manager, {"Days": days}))
        assert body["Days"] == [
            {"Day": 2, "Intervals": []},
            {"Day": 6, "Intervals": [{"Start": "09:00", "End": "12:00"}, {"Start": "13:00", "End": "15:00"}]}]
        assert body["Holidays"] == [] and body["TimeZone"] == "UTC"

    def test_a_department_gets_its_own_hours_and_time_zone(self, api, manager, agent):
        _, department_id = agent
        body = api.ok(update(api, manager, DepartmentID=department_id, TimeZone="America/New_York"))
        assert body["DepartmentID"] == department_id and body["TimeZone"] == "America/New_York"
        settings = api.ok(api.get("GetSettings", manager))["Settings"]
        assert {"TimeZone": "UTC"} in settings
        assert api.ok(api.get("GetWorkingHours", manager))["Days"] == []

    def test_invalid_schedules_are_422_and_change_nothing(self, api, manager, agent):
        api.ok(update(api, manager))

        def refused(field_prefix, **hours):
            error = assert_error(api.post("UpdateWorkingHours", manager, hours), 422)
            assert error.get("Field", "").startswith(field_prefix), error

        def day(*intervals, number=1):
            return [{"Day": number, "Intervals": [{"Start": s, "End": e} for s, e in intervals]}]

        refused("Days", Days=day(("09:00", "12:00"), ("11:00", "14:00")))  # overlapping
        refused("Days", Days=day(("17:00", "09:00")))  # end before start (overnight)
        refused("Days", Days=day(("09:00", "09:00")))  # empty
        refused("Days", Days=day(("24:00", "24:00")))
        refused("Days", Days=day(("09:00", "25:00")))
        refused("Days", Days=day(("9:00", "12:00")))
        refused("Days", Days=day(("09:00", "12:60")))
        refused("Days", Days=day(("09:00", "12:00"), number=8))
        refused("Days", Days=day(("09:00", "12:00"), number=0))
        refused("Days", Days=day(("09:00", "12:00")) + day(("13:00", "14:00")))  # the same day twice
        refused("Holidays", Days=[], Holidays=[{"Date": "2030-02-30", "Intervals": []}])
        refused("Holidays", Days=[], Holidays=[{"Date": "2030-2-3", "Intervals": []}])
        refused("Holidays", Days=[], Holidays=[{"Date": "25/12/2030", "Intervals": []}])
        refused("Holidays", Days=[], Holidays=[{"Date": "2030-12-25"}, {"Date": "2030-12-25"}])
        refused("Holidays", Days=[], Holidays=[{"Date": "2030-12-25",
                                               "Intervals": [{"Start": "10:00", "End": "09:00"}]}])
        refused("TimeZone", Days=[], TimeZone="Mars/Olympus_Mons")
        refused("TimeZone", Days=[], TimeZone="")
        refused("Days", Holidays=[])
        refused("DepartmentID", Days=[], DepartmentID=0)
        body = api.ok(api.get("GetWorkingHours", manager))
        assert body["Days"] == WEEKDAYS and body["Holidays"] == [] and body["TimeZone"] == "UTC"

    def test_touching_intervals_and_end_of_day_are_fine(self, api, manager):
        days = [{"Day": 6, "Intervals": [{"Start": "00:00", "End": "12:00"}, {"Start": "12:00", "End": "24:00"}]}]
        api.ok(api.post("UpdateWorkingHours", manager, {"Days": days}))

    def test_concurrent_first_saves_leave_one_schedule(self, server, api, manager, agent):
        requests = [("POST", "UpdateWorkingHours", manager,
                     {"DepartmentID": agent[1], "Days": [{"Day": day, "Intervals": []}]}) for day in range(1, 8)]
        responses = race(server, requests)
        assert [r.status_code for r in responses] == [200] * 7
        body = api.ok(api.get("GetWorkingHours", manager, {"DepartmentID": agent[1]}))
        assert body["DepartmentID"] == agent[1] and len(body["Days"]) == 1

    def test_unknown_department_is_404(self, api, manager):
        assert_error(update(api, manager, DepartmentID=999), 404, "department_not_found", "DepartmentID")

    def test_agents_may_not(self, api, agent):
        assert_error(update(api, agent[0]), 403, "manager_only")


class TestGetWorkingHours:
    def test_without_hours_the_service_is_always_open(self, api, agent):
        token, department_id = agent
        body = api.ok(api.get("GetWorkingHours", token, {"DepartmentID": department_id}))
        assert body == {"TimeZone": "UTC", "DepartmentID": None, "Days": [], "Holidays": [], "OpenNow": True,
                        "NextOpening": None}

    def test_open_now_and_next_opening_with_split_shifts(self, api, manager, agent):
        api.ok(update(api, manager, TimeZone="Africa/Johannesburg"))  # UTC+2 all year
        travel_to("2030-01-07T07:00")  # Monday 09:00 there
        assert status(api) == (True, None)
        travel_to("2030-01-07T10:30")  # Monday 12:30: lunch
        assert status(api) == (False, "2030-01-07T11:00")
        travel_to("2030-01-07T11:00")
        assert status(api) == (True, None)
        travel_to("2030-01-07T14:59")  # 16:59
        assert status(api) == (True, None)
        travel_to("2030-01-07T15:00")  # 17:00: closed until Tuesday 08:00
        assert status(api) == (False, "2030-01-08T06:00")
        travel_to("2030-01-11T16:00")  # Friday evening: Monday 08:00
        assert status(api) == (False, "2030-01-14T06:00")

    def test_holidays_close_or_change_the_day(self, api, manager, agent):
        api.ok(update(api, manager, Holidays=[{"Date": "2030-01-14", "Intervals": []},
                                              {"Date": "2030-01-12", "Intervals": [{"Start": "10:00",
                                                                                    "End": "11:00"}]}]))
        travel_to("2030-01-11T18:00")  # Friday evening (UTC): Saturday's special hours come first
        assert status(api) == (False, "2030-01-12T10:00")
        travel_to("2030-01-12T10:30")
        assert status(api) == (True, None)
        travel_to("2030-01-12T11:00")  # Monday is a holiday: Tuesday
        assert status(api) == (False, "2030-01-15T08:00")

    def test_end_of_day_runs_into_the_next_day(self, api, manager, agent):
        days = [{"Day": 6, "Intervals": [{"Start": "20:00", "End": "24:00"}]},
                {"Day": 7, "Intervals": [{"Start": "00:00", "End": "02:00"}]}]
        api.ok(api.post("UpdateWorkingHours", manager, {"Days": days}))
        travel_to("2030-01-12T23:59")
        assert status(api) == (True, None)
        travel_to("2030-01-13T01:30")
        assert status(api) == (True, None)
        travel_to("2030-01-13T02:00")
        assert status(api) == (False, "2030-01-19T20:00")

    def test_nothing_within_two_weeks_is_no_next_opening(self, api, manager, agent):
        api.ok(api.post("UpdateWorkingHours", manager, {"Days": []}))
        assert status(api) == (False, None)

    def test_daylight_saving_time_starts(self, api, manager, agent):
        # London, Sunday 31 March 2030: at 01:00 UTC the clocks go from 01:00 GMT to 02:00 BST.
        days = [{"Day": 7, "Intervals": [{"Start": "01:30", "End": "03:00"}]},
                {"Day": 1, "Intervals": [{"Start": "09:00", "End": "17:00"}]},
                {"Day": 5, "Intervals": [{"Start": "09:00", "End": "17:00"}]}]
        api.ok(api.post("UpdateWorkingHours", manager, {"Days": days, "TimeZone": "Europe/London"}))
        travel_to("2030-03-29T08:30")  # Friday, still GMT: 09:00 is 09:00 UTC
        assert status(api) == (False, "2030-03-29T09:00")
        travel_to("2030-03-31T00:30")  # 00:30 GMT; 01:30 never shows: opens at the jump, 02:00 BST
        assert status(api) == (False, "2030-03-31T01:00")
        travel_to("2030-03-31T01:00")
        assert status(api) == (True, None)
        travel_to("2030-03-31T02:00")  # 03:00 BST: closed; Monday 09:00 BST is 08:00 UTC
        assert status(api) == (False, "2030-04-01T08:00")
        travel_to("2030-04-01T07:59")
        assert status(api) == (False, "2030-04-01T08:00")
        travel_to("2030-04-01T08:00")
        assert status(api) == (True, None)

    def test_a_shift_inside_the_skipped_hour_never_opens(self, api, manager, agent):
        days = [{"Day": 7, "Intervals": [{"Start": "01:10", "End": "01:50"}, {"Start": "10:00", "End": "11:00"}]}]
        api.ok(api.post("UpdateWorkingHours", manager, {"Days": days, "TimeZone": "Europe/London"}))
        travel_to("2030-03-31T00:00")
        assert status(api) == (False, "2030-03-31T09:00")

    def test_daylight_saving_time_ends(self, api, manager, agent):
        # London, Sunday 27 October 2030: at 01:00 UTC the clocks go from 02:00 BST back to 01:00 GMT.
        days = [{"Day": 7, "Intervals": [{"Start": "01:00", "End": "02:00"}]}]
        api.ok(api.post("UpdateWorkingHours", manager, {"Days": days, "TimeZone": "Europe/London"}))
        travel_to("2030-10-26T23:30")  # 00:30 BST
        assert status(api) == (False, "2030-10-27T00:00")
        travel_to("2030-10-27T01:30")  # the second 01:30 (GMT): still open
        assert status(api) == (True, None)
        travel_to("2030-10-27T02:00")
        assert status(api) == (False, "2030-11-03T01:00")

    def test_a_department_with_its_own_hours_overrides_the_company(self, api, manager, agent):
        _, department_id = agent
        api.ok(update(api, manager))  # company: weekdays, UTC
        weekend = [{"Day": 6, "Intervals": [{"Start": "10:00", "End": "14:00"}]}]
        api.ok(api.post("UpdateWorkingHours", manager, {"DepartmentID": department_id, "Days": weekend,
                                                        "TimeZone": "Africa/Johannesburg"}))
        travel_to("2030-01-07T09:00")  # Monday
        assert status(api) == (True, None)
        assert status(api, department_id) == (False, "2030-01-12T08:00")
        token = api.logon("ann@example.com")
        body = api.ok(api.get("GetWorkingHours", token, {"DepartmentID": department_id}))
        assert body["DepartmentID"] == department_id and body["Days"] == weekend
        other = add_department(api.server, "Support")
        assert api.ok(api.get("GetWorkingHours", token, {"DepartmentID": other}))["DepartmentID"] is None
        assert status(api, other) == (True, None)

    def test_a_department_without_a_time_zone_follows_the_companys(self, api, manager, agent):
        _, department_id = agent
        api.ok(update(api, manager, DepartmentID=department_id))
        api.ok(api.post("UpdateSettings", manager, {"Settings": [{"TimeZone": "Africa/Johannesburg"}]}))
        travel_to("2030-01-07T06:30")  # 08:30 there
        assert status(api, department_id) == (True, None)
        body = api.ok(api.get("GetWorkingHours", api.logon("ann@example.com"), {"DepartmentID": department_id}))
        assert body["TimeZone"] == "Africa/Johannesburg"

    def test_unknown_department_is_404_and_bad_id_422(self, api, agent):
        assert_error(api.get("GetWorkingHours", agent[0], {"DepartmentID": 999}), 404, "department_not_found")
        assert_error(api.get("GetWorkingHours", agent[0], {"DepartmentID": "x"}), 422, field="DepartmentID")


class TestDeleteWorkingHours:
    def test_a_department_goes_back_to_the_company_hours(self, api, manager, agent):
        token, department_id = agent
        api.ok(update(api, manager, DepartmentID=department_id))
        assert api.ok(api.delete("DeleteWorkingHours", manager, {"DepartmentID": department_id})) == {
            "Deleted": True, "DepartmentID": department_id}
        body = api.ok(api.get("GetWorkingHours", token, {"DepartmentID": department_id}))
        assert body["DepartmentID"] is None and body["OpenNow"] is True

    def test_without_company_hours_the_service_is_always_open_again(self, api, manager, agent):
        api.ok(api.post("UpdateWorkingHours", manager, {"Days": []}))
        assert status(api) == (False, None)
        api.ok(api.delete("DeleteWorkingHours", manager))
        assert status(api) == (True, None)

    def test_agents_may_not(self, api, agent):
        assert_error(api.delete("DeleteWorkingHours", agent[0]), 403)


# ---- the bot out of hours -------------------------------------------------------------------------------------

def customer_chooses(server, department_id) -> int:
    """A WhatsApp customer greets the bot and picks the department; returns the chat's ID."""
    async def work(db):
        customer = await customers.customer_by_phone(db, phone_number="27821234567", profile_name="Thandi")
        await db.flush()
        first = await bot.receive_message(db, bot.Inbound(channel=WHATSAPP, customer_id=customer.id, text="Hi"))
        await bot.receive_message(db, bot.Inbound(channel=WHATSAPP, customer_id=customer.id,
                                                  choice_id=f"{bot.MENU_CHOICE_PREFIX}{department_id}"))
        return first.chat_id
    return server.with_db(work)


def chat_state(server, chat_id):
    async def work(db):
        chat = await db.get(Chat, chat_id)
        query = select(Message.text).where(Message.chat_id == chat_id, Message.sender_type == "Bot")
        return chat.status, chat.department_id, list((await db.execute(query.order_by(Message.id))).scalars())
    return server.with_db(work)


class TestBotObeysWorkingHours:
    OUT = "We are closed; back on Monday."

    @pytest.fixture(autouse=True)
    def hours(self, api, manager):
        api.ok(api.post("UpdateSettings", manager, {"Settings": [{"OutOfHoursMessage": self.OUT},
                                                                 {"QueuedMessage": "You are number {Position}."}]}))
        api.ok(update(api, manager))  # weekdays, UTC

    def test_open_the_chat_is_queued_as_usual(self, server, agent):
        travel_to("2030-01-07T09:00")
        status_, department_id, said = chat_state(server, customer_chooses(server, agent[1]))
        assert (status_, department_id, said[-1]) == ("Unassigned", agent[1], "You are number 1.")
        assert self.OUT not in said

    def test_closed_the_chat_is_queued_for_the_next_opening_with_the_out_of_hours_message(self, server, agent):
        travel_to("2030-01-12T09:00")  # Saturday
        chat_id = customer_chooses(server, agent[1])
        status_, department_id, said = chat_state(server, chat_id)
        assert (status_, department_id, said[-1]) == ("Unassigned", agent[1], self.OUT)
        assert not any(text.startswith("You are number") for text in said)

    def test_closed_and_not_queueing_closes_the_chat_with_the_message(self, server, api, manager, agent):
        api.ok(api.post("UpdateSettings", manager, {"Settings": [{"QueueOutOfHours": False}]}))
        travel_to("2030-01-12T09:00")
        chat_id = customer_chooses(server, agent[1])
        status_, department_id, said = chat_state(server, chat_id)
        assert (status_, department_id, said[-1]) == ("Closed", agent[1], self.OUT)
        chats = api.ok(api.get("GetChats", api.logon("ann@example.com"), {"Status": "Closed"}))["Items"]
        assert [c["ChatID"] for c in chats] == [chat_id]

    def test_a_department_open_when_the_company_is_closed_takes_the_chat(self, server, api, manager, agent):
        weekend = [{"Day": 6, "Intervals": [{"Start": "08:00", "End": "18:00"}]}]
        api.ok(api.post("UpdateWorkingHours", manager, {"DepartmentID": agent[1], "Days": weekend}))
        travel_to("2030-01-12T09:00")
        assert chat_state(server, customer_chooses(server, agent[1]))[2][-1] == "You are number 1."

    def test_queue_out_of_hours_is_a_setting(self, api, manager):
        settings = api.ok(api.get("GetSettings", manager))["Settings"]
        assert {"QueueOutOfHours": True} in settings
        assert_error(api.post("UpdateSettings", manager, {"Settings": [{"QueueOutOfHours": "yes"}]}), 422,
                     field="QueueOutOfHours")
