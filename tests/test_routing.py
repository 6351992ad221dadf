"""Routing: queued chats of departments with RoutingEnabled go to Online agents, least busy first, within limits."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from chat_helpers import add_department
from conftest import add_agent, assert_error
from realtime_helpers import AgentSocket
from sqlalchemy import func, select, update

from agentchat.agents.models import Agent
from agentchat.bot import service as bot
from agentchat.chats.models import WHATSAPP, Chat, ChatEvent
from agentchat.customers import service as customers
from agentchat.db import commit_and_publish, drain_background
from agentchat.routing import service as routing


async def _queue(server, phone: str, department_id: int) -> int:
    """A customer greets the bot and picks the department, each message committed as a channel does."""
    async with server.app.state.sessionmaker() as db:
        customer = await customers.customer_by_phone(db, phone_number=phone, profile_name="Thandi")
        first = await bot.receive_message(db, bot.Inbound(channel=WHATSAPP, customer_id=customer.id, text="Hi"))
        await commit_and_publish(db)
        await bot.receive_message(db, bot.Inbound(channel=WHATSAPP, customer_id=customer.id,
                                                  choice_id=f"{bot.MENU_CHOICE_PREFIX}{department_id}"))
        await commit_and_publish(db)
        return first.chat_id


def settle(server) -> None:
    """Wait until the routing passes started by the last commits have finished."""
    server.run(drain_background())


def queue(server, department_id: int, *phones: str) -> list[int]:
    """Queue one chat per phone number, one after another (oldest first), and let routing run."""
    ids = []
    for phone in phones:
        ids.append(server.run(_queue(server, phone, department_id)))
        settle(server)
    return ids


def chat_rows(server) -> dict[int, Chat]:
    async def work(db):
        return {chat.id: chat for chat in (await db.execute(select(Chat))).scalars()}
    return server.with_db(work)


def agent_of(server, chat_id: int) -> int | None:
    return chat_rows(server)[chat_id].agent_id


def enable_routing(api, manager, department_id: int) -> dict:
    return api.ok(api.post("UpdateDepartment", manager, {"DepartmentID": department_id, "RoutingEnabled": True}))


def set_limit(api, manager, agent_id: int, limit: int) -> None:
    api.ok(api.post("UpdateAgent", manager, {"AgentID": agent_id, "MaxConcurrentChats": limit}))


@pytest.fixture
def sales(server, api, manager) -> int:
    department = add_department(server, "Sales", menu_option=1)
    enable_routing(api, manager, department)
    return department


class TestSettings:
    def test_routing_is_off_by_default_and_a_manager_turns_it_on(self, server, api, manager):
        created = api.ok(api.post("CreateDepartment", manager, {"Name": "Support"}))
        assert created["RoutingEnabled"] is False
        assert enable_routing(api, manager, created["DepartmentID"])["RoutingEnabled"] is True
        listed = api.ok(api.get("GetDepartments", manager))["Items"]
        assert listed[0]["RoutingEnabled"] is True
        other = api.ok(api.post("CreateDepartment", manager, {"Name": "Sales", "RoutingEnabled": True}))
        assert other["RoutingEnabled"] is True

    def test_the_chat_limit_is_five_by_default_and_set_by_a_manager_only(self, server, api, manager):
        sam = add_agent(server, name="Sam")
        token = api.logon("sam@example.com")
        agent = api.ok(api.get("GetAgents", manager))["Items"]
        assert {a["AgentID"]: a["MaxConcurrentChats"] for a in agent}[sam] == 5
        assert api.ok(api.post("UpdateAgent", manager, {"AgentID": sam, "MaxConcurrentChats": 2})
                      )["MaxConcurrentChats"] == 2
        assert_error(api.post("UpdateAgent", token, {"AgentID": sam, "MaxConcurrentChats": 9}), 403, "manager_only",
                     "MaxConcurrentChats")
        for bad in (0, 51, "many"):
            assert_error(api.post("UpdateAgent", manager, {"AgentID": sam, "MaxConcurrentChats": bad}), 422)
        assert api.ok(api.get("GetAgents", manager))["Items"][-1]["MaxConcurrentChats"] == 2


class TestRouting:
    def test_a_queued_chat_goes_to_an_online_agent_and_everyone_hears_chat_assigned(self, server, api, manager,
                                                                                    sales):
        sally = add_agent(server, name="Sally", department_ids=(sales,))
        token = api.logon("sally@example.com")
        with AgentSocket(server, token) as socket:
            [chat_id] = queue(server, sales, "27820000001")
            event = socket.wait_for("ChatAssigned", ChatID=chat_id)["Data"]
        assert (event["AgentID"], event["Status"], event["ActorAgentID"]) == (sally, "Assigned", None)
        chat = api.ok(api.get("GetChat", token, {"ChatID": chat_id}))
        assert (chat["Status"], chat["AgentID"]) == ("Assigned", sally)

    def test_without_routing_chats_wait_for_grab_chat(self, server, api, manager):
        manual = add_department(server, "Manual", menu_option=1)
        add_agent(server, name="Sally", department_ids=(manual,))
        api.logon("sally@example.com")
        [chat_id] = queue(server, manual, "27820000001")
        assert chat_rows(server)[chat_id].status == "Unassigned"

    def test_agents_not_online_get_nothing(self, server, api, manager, sales):
        sally = add_agent(server, name="Sally", department_ids=(sales,))
        token = api.logon("sally@example.com")
        api.ok(api.post("UpdateAgent", token, {"AgentID": sally, "StatusID": 3}))
        [chat_id] = queue(server, sales, "27820000001")
        assert chat_rows(server)[chat_id].status == "Unassigned"

    def test_the_least_busy_agent_first(self, server, api, manager, sales):
        manual = add_department(server, "Manual", menu_option=2)
        ids = {name: add_agent(server, name=name, department_ids=(sales, manual)) for name in ("Ann", "Ben", "Cat")}
        tokens = {name: api.logon(f"{name.lower()}@example.com") for name in ids}
        # Ann already has two chats, Cat one (grabbed by hand in a department without routing), Ben none.
        for phone, name in (("27829000001", "Ann"), ("27829000002", "Ann"), ("27829000003", "Cat")):
            [held] = queue(server, manual, phone)
            api.ok(api.post("GrabChat", tokens[name], {"ChatID": held}))
        routed = queue(server, sales, "27820000001", "27820000002", "27820000003")
        # Ben (0) -> Ben and Cat tie at 1, the lower AgentID wins -> Cat (1) against everyone at 2.
        assert [agent_of(server, chat_id) for chat_id in routed] == [ids["Ben"], ids["Ben"], ids["Cat"]]

    def test_nobody_gets_more_than_their_limit_and_the_rest_stay_queued(self, server, api, manager, sales):
        sally = add_agent(server, name="Sally", department_ids=(sales,))
        set_limit(api, manager, sally, 2)
        api.logon("sally@example.com")
        routed = queue(server, sales, "27820000001", "27820000002", "27820000003")
        chats = chat_rows(server)
        assert [chats[c].status for c in routed] == ["Assigned", "Assigned", "Unassigned"]
        assert [chats[c].agent_id for c in routed] == [sally, sally, None]

    def test_queued_chats_go_to_an_agent_who_comes_online_oldest_first(self, server, api, manager, sales):
        sally = add_agent(server, name="Sally", department_ids=(sales,))
        set_limit(api, manager, sally, 2)
        routed = queue(server, sales, "27820000001", "27820000002", "27820000003")
        assert {chat.status for chat in chat_rows(server).values()} == {"Unassigned"}
        with AgentSocket(server, manager) as boss:
            api.logon("sally@example.com")
            settle(server)
            assert boss.wait_for("ChatAssigned")["Data"]["ChatID"] == routed[0]
        assert [agent_of(server, c) for c in routed] == [sally, sally, None]

    def test_coming_back_from_a_break_counts_as_coming_online(self, server, api, manager, sales):
        sally = add_agent(server, name="Sally", department_ids=(sales,))
        token = api.logon("sally@example.com")
        api.ok(api.post("UpdateAgent", token, {"AgentID": sally, "StatusID": 3}))
        [chat_id] = queue(server, sales, "27820000001")
        api.ok(api.post("UpdateAgent", token, {"AgentID": sally, "StatusID": 4}))
        settle(server)
        assert agent_of(server, chat_id) == sally

    def test_a_closed_chat_frees_a_place_for_the_next_in_the_queue(self, server, api, manager, sales):
        sally = add_agent(server, name="Sally", department_ids=(sales,))
        set_limit(api, manager, sally, 1)
        token = api.logon("sally@example.com")
        first, second = queue(server, sales, "27820000001", "27820000002")
        assert (agent_of(server, first), agent_of(server, second)) == (sally, None)
        api.ok(api.post("CloseChat", token, {"ChatID": first}))
        settle(server)
        assert agent_of(server, second) == sally

    def test_a_chat_transferred_away_frees_a_place(self, server, api, manager, sales):
        support = add_department(server, "Support", menu_option=2)
        sally = add_agent(server, name="Sally", department_ids=(sales,))
        set_limit(api, manager, sally, 1)
        token = api.logon("sally@example.com")
        first, second = queue(server, sales, "27820000001", "27820000002")
        api.ok(api.post("TransferChatToDepartment", token, {"ChatID": first, "DepartmentID": support}))
        settle(server)
        chats = chat_rows(server)
        assert (chats[first].status, chats[first].department_id) == ("Unassigned", support)
        assert chats[second].agent_id == sally

    def test_raising_the_limit_routes_waiting_chats(self, server, api, manager, sales):
        sally = add_agent(server, name="Sally", department_ids=(sales,))
        set_limit(api, manager, sally, 1)
        api.logon("sally@example.com")
        first, second = queue(server, sales, "27820000001", "27820000002")
        set_limit(api, manager, sally, 2)
        settle(server)
        assert agent_of(server, second) == sally

    def test_turning_routing_on_routes_the_queue(self, server, api, manager):
        support = add_department(server, "Support", menu_option=2)
        sally = add_agent(server, name="Sally", department_ids=(support,))
        api.logon("sally@example.com")
        [chat_id] = queue(server, support, "27820000001")
        assert agent_of(server, chat_id) is None
        enable_routing(api, manager, support)
        settle(server)
        assert agent_of(server, chat_id) == sally


class TestConcurrency:
    def test_chats_queued_at_once_fill_every_place_exactly_once(self, server, api, manager, sales):
        agents = [add_agent(server, name=name, department_ids=(sales,)) for name in ("Ann", "Ben", "Cat")]
        for agent in agents:
            set_limit(api, manager, agent, 2)
        for name in ("ann", "ben", "cat"):
            api.logon(f"{name}@example.com")

        async def all_at_once():
            await asyncio.gather(*[_queue(server, f"278200000{n:02}", sales) for n in range(20)])
            # And a few whole-department passes racing the per-chat ones, as other instances' jobs would.
            await asyncio.gather(*[routing.route_all(server.app.state.sessionmaker) for _ in range(3)])
            await drain_background()

        server.run(all_at_once())
        chats = chat_rows(server).values()
        assigned = [chat for chat in chats if chat.status == "Assigned"]
        assert len(chats) == 20 and len(assigned) == 6
        assert sorted(chat.agent_id for chat in assigned) == sorted(agents * 2)

        async def assignments(db):
            query = (select(ChatEvent.chat_id, func.count()).where(ChatEvent.type == "Assigned")
                     .group_by(ChatEvent.chat_id))
            return dict((await db.execute(query)).all())
        assert sorted(server.with_db(assignments).values()) == [1] * 6

    def test_routers_racing_on_several_instances_never_overfill_an_agent(self, server, api, manager, sales):
        # Agents of two routing departments: routers of both race for the same agents' places.
        support = add_department(server, "Support", menu_option=2)
        enable_routing(api, manager, support)
        agents = [add_agent(server, name=name, department_ids=(sales, support)) for name in ("Ann", "Ben", "Cat")]
        for agent in agents:
            set_limit(api, manager, agent, 1)
        queue(server, sales, *[f"278200000{n:02}" for n in range(8)])
        queue(server, support, *[f"278200001{n:02}" for n in range(8)])
        assert {chat.status for chat in chat_rows(server).values()} == {"Unassigned"}

        async def everyone_online(db):
            # Straight in the database, so that only the racing routers below do the routing.
            await db.execute(update(Agent).where(Agent.id.in_(agents)).values(status_id=4))
        server.with_db(everyone_online)

        async def racing_routers():
            sessions = server.app.state.sessionmaker
            return await asyncio.gather(*[routing.route_department(sessions, department)
                                          for _ in range(10) for department in (sales, support)])
        assert sum(server.run(racing_routers())) == 3
        assigned = [chat.agent_id for chat in chat_rows(server).values() if chat.status == "Assigned"]
        assert sorted(assigned) == sorted(agents)

    def test_routing_races_grab_chat_without_taking_a_chat_twice(self, server, api, manager, sales):
        add_agent(server, name="Sally", department_ids=(sales,))
        sipho = add_agent(server, name="Sipho", department_ids=(sales,))
        sipho_token = api.logon("sipho@example.com")
        api.ok(api.post("UpdateAgent", sipho_token, {"AgentID": sipho, "StatusID": 2}))
        chat_ids = queue(server, sales, *[f"2782000001{n}" for n in range(6)])
        assert {chat.status for chat in chat_rows(server).values()} == {"Unassigned"}

        with ThreadPoolExecutor(max_workers=7) as pool:
            logon = pool.submit(api.logon, "sally@example.com")
            results = list(pool.map(lambda chat_id: api.post("GrabChat", sipho_token, {"ChatID": chat_id}),
                                    chat_ids))
            logon.result()
        server.run(drain_background())
        grabbed = [r for r in results if r.status_code == 200]
        chats = chat_rows(server)
        assert all(r.status_code in (200, 409) for r in results)
        assert sum(1 for c in chats.values() if c.agent_id == sipho) == len(grabbed)
        assert sum(1 for c in chats.values() if c.agent_id != sipho and c.status == "Assigned") <= 5

        async def takes(db):
            query = (select(ChatEvent.chat_id, func.count()).where(ChatEvent.type.in_(("Assigned", "Grabbed")))
                     .group_by(ChatEvent.chat_id))
            return dict((await db.execute(query)).all())
        assert set(server.with_db(takes).values()) == {1}
