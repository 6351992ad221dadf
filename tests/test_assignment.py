"""Auto-assignment options: round robin or least busy per department, agents on a break skipped, and an agent's
limit per channel."""

from conftest import add_agent, assert_error
from test_routing import (
    chat_rows,
    queue,
    sales,  # noqa: F401 (fixture)
    settle,
)

from agentchat.bot import service as bot
from agentchat.channels.webchat import service as webchat
from agentchat.chats.models import WEBCHAT
from agentchat.db import commit_and_publish


def strategy(api, manager, department_id: int, name: str) -> dict:
    return api.ok(api.post("UpdateDepartment", manager, {"DepartmentID": department_id, "RoutingStrategy": name}))


def agents_online(server, api, department_id: int, *names: str) -> dict[str, int]:
    ids = {name: add_agent(server, name=name, department_ids=(department_id,)) for name in names}
    for name in names:
        api.logon(f"{name.lower()}@example.com")  # logging on makes them Online
    return ids


def holders(server, chat_ids: list[int]) -> list[int | None]:
    rows = chat_rows(server)
    return [rows[chat_id].agent_id for chat_id in chat_ids]


def web_chat_queued(server, department_id: int, name: str) -> int:
    async def work():
        async with server.app.state.sessionmaker() as db:
            customer, _token = await webchat.create_visitor(db, name=name, email_address=None)
            first = await bot.receive_message(db, bot.Inbound(channel=WEBCHAT, customer_id=customer.id, text="Hi"))
            await commit_and_publish(db)
            await bot.receive_message(db, bot.Inbound(channel=WEBCHAT, customer_id=customer.id,
                                                      choice_id=f"{bot.MENU_CHOICE_PREFIX}{department_id}"))
            await commit_and_publish(db)
            return first.chat_id
    chat_id = server.run(work())
    settle(server)
    return chat_id


class TestStrategy:
    def test_least_busy_is_the_default_and_round_robin_is_chosen_per_department(self, api, manager, sales):  # noqa: F811
        body = api.ok(api.get("GetDepartments", manager))["Items"][0]
        assert body["RoutingStrategy"] == "LeastBusy"
        assert strategy(api, manager, sales, "RoundRobin")["RoutingStrategy"] == "RoundRobin"
        assert_error(api.post("UpdateDepartment", manager, {"DepartmentID": sales, "RoutingStrategy": "Random"}),
                     422, field="RoutingStrategy")

    def test_round_robin_takes_turns_whatever_each_one_holds(self, server, api, manager, sales):  # noqa: F811
        strategy(api, manager, sales, "RoundRobin")
        ids = agents_online(server, api, sales, "Ann", "Ben", "Cat")
        routed = queue(server, sales, *(f"2782000000{n}" for n in range(1, 7)))
        assert holders(server, routed) == [ids["Ann"], ids["Ben"], ids["Cat"]] * 2

    def test_least_busy_gives_the_next_chat_to_whoever_has_fewest(self, server, api, manager, sales):  # noqa: F811
        ids = agents_online(server, api, sales, "Ann", "Ben")
        first, second = queue(server, sales, "27820000001", "27820000002")
        assert holders(server, [first, second]) == [ids["Ann"], ids["Ben"]]
        api.ok(api.post("CloseChat", api.logon("ann@example.com"), {"ChatID": first}))
        [third] = queue(server, sales, "27820000003")
        assert holders(server, [third]) == [ids["Ann"]]  # Ann has none now, Ben one

    def test_round_robin_skips_an_agent_on_a_break(self, server, api, manager, sales):  # noqa: F811
        strategy(api, manager, sales, "RoundRobin")
        ids = agents_online(server, api, sales, "Ann", "Ben")
        ben = api.logon("ben@example.com")
        api.ok(api.post("UpdateAgent", ben, {"AgentID": ids["Ben"], "StatusID": 3}))
        routed = queue(server, sales, "27820000001", "27820000002")
        assert holders(server, routed) == [ids["Ann"], ids["Ann"]]
        api.ok(api.post("UpdateAgent", ben, {"AgentID": ids["Ben"], "StatusID": 4}))
        [next_one] = queue(server, sales, "27820000003")
        assert holders(server, [next_one]) == [ids["Ben"]]


class TestCapacityPerChannel:
    def test_a_full_channel_sends_its_chats_elsewhere_while_others_still_come(self, server, api, manager, sales):  # noqa: F811
        ids = agents_online(server, api, sales, "Ann")
        body = api.ok(api.post("UpdateAgent", manager, {"AgentID": ids["Ann"], "MaxChatsPerChannel": {"WhatsApp": 1}}))
        assert body["MaxChatsPerChannel"] == {"WhatsApp": 1} and body["MaxConcurrentChats"] == 5
        first, second = queue(server, sales, "27820000001", "27820000002")
        web = web_chat_queued(server, sales, "Vera")
        assert holders(server, [first, second, web]) == [ids["Ann"], None, ids["Ann"]]
        # Another agent with room takes the waiting WhatsApp chat when they come online.
        add_agent(server, name="Ben", department_ids=(sales,))
        api.logon("ben@example.com")
        settle(server)
        assert holders(server, [second])[0] is not None and holders(server, [second])[0] != ids["Ann"]

    def test_raising_a_channel_limit_routes_its_waiting_chats(self, server, api, manager, sales):  # noqa: F811
        ids = agents_online(server, api, sales, "Ann")
        api.ok(api.post("UpdateAgent", manager, {"AgentID": ids["Ann"], "MaxChatsPerChannel": {"WhatsApp": 0}}))
        [waiting] = queue(server, sales, "27820000001")
        assert holders(server, [waiting]) == [None]
        api.ok(api.post("UpdateAgent", manager, {"AgentID": ids["Ann"], "MaxChatsPerChannel": {}}))
        settle(server)
        assert holders(server, [waiting]) == [ids["Ann"]]

    def test_limits_are_validated_and_a_manager_sets_them(self, server, api, manager, sales):  # noqa: F811
        ids = agents_online(server, api, sales, "Ann")
        post = lambda body: api.post("UpdateAgent", manager, {"AgentID": ids["Ann"], **body})  # noqa: E731
        assert_error(post({"MaxChatsPerChannel": {"Telegram": 1}}), 422)
        assert_error(post({"MaxChatsPerChannel": {"WhatsApp": 51}}), 422)
        assert_error(post({"MaxChatsPerChannel": {"WhatsApp": "2"}}), 422)
        ann = api.logon("ann@example.com")
        assert_error(api.post("UpdateAgent", ann, {"AgentID": ids["Ann"], "MaxChatsPerChannel": {"WhatsApp": 9}}),
                     403, "manager_only")
