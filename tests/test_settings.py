"""Company settings: the catalogue with its defaults, updates, validation, roles."""

from conftest import add_agent, assert_error

from agentchat.company.service import CATALOGUE

# The contract's keys; the catalogue may hold more (the bot's greetings), each listed once.
CONTRACT_KEYS = ["CompanyName", "TimeZone", "OutOfHoursMessage", "QueuedMessage", "InvalidOptionMessage",
        "ChatClosedMessage", "SendChatClosedMessage", "UnassignedChatsWaitingMinutes"]


def as_dict(body):
    """The contract's list of one-key objects as one dict, checking the shape on the way."""
    assert list(body) == ["Settings"]
    assert all(len(item) == 1 for item in body["Settings"]), body
    return {key: value for item in body["Settings"] for key, value in item.items()}


def settings(api, token):
    return as_dict(api.ok(api.get("GetSettings", token)))


def update(api, token, *items):
    return api.post("UpdateSettings", token, {"Settings": list(items)})


class TestGetSettings:
    def test_every_known_key_has_a_default(self, server, api, manager):
        body = api.ok(api.get("GetSettings", manager))
        keys = [next(iter(item)) for item in body["Settings"]]
        assert keys == list(CATALOGUE)
        assert set(CONTRACT_KEYS) <= set(keys)
        values = as_dict(body)
        assert values["TimeZone"] == "UTC"
        assert values["CompanyName"]
        assert "{Position}" in values["QueuedMessage"]
        assert values["SendChatClosedMessage"] is True
        assert isinstance(values["UnassignedChatsWaitingMinutes"], int)

    def test_an_agent_may_read(self, server, api, manager):
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        assert settings(api, token) == settings(api, manager)


class TestUpdateSettings:
    def test_updates_several_keys_and_answers_all_settings(self, server, api, manager):
        before = settings(api, manager)
        body = api.ok(update(api, manager, {"CompanyName": "  Channel Mobile "}, {"TimeZone": "Africa/Johannesburg"},
                             {"SendChatClosedMessage": False}, {"UnassignedChatsWaitingMinutes": 10},
                             {"QueuedMessage": "You are number {Position}."}))
        expected = {**before, "CompanyName": "Channel Mobile", "TimeZone": "Africa/Johannesburg",
                    "SendChatClosedMessage": False, "UnassignedChatsWaitingMinutes": 10,
                    "QueuedMessage": "You are number {Position}."}
        assert as_dict(body) == expected
        assert settings(api, manager) == expected

    def test_a_later_update_keeps_earlier_values(self, server, api, manager):
        api.ok(update(api, manager, {"CompanyName": "Channel"}))
        api.ok(update(api, manager, {"TimeZone": "Europe/London"}))
        values = settings(api, manager)
        assert (values["CompanyName"], values["TimeZone"]) == ("Channel", "Europe/London")

    def test_an_empty_list_changes_nothing(self, server, api, manager):
        before = settings(api, manager)
        assert as_dict(api.ok(update(api, manager))) == before

    def test_unknown_key_is_422_and_nothing_changes(self, server, api, manager):
        before = settings(api, manager)
        response = update(api, manager, {"CompanyName": "Channel"}, {"FavouriteColour": "blue"})
        assert_error(response, 422, "unknown_setting", "FavouriteColour")
        assert settings(api, manager) == before

    def test_bad_values_are_422_and_nothing_changes(self, server, api, manager):
        before = settings(api, manager)
        cases = [{"TimeZone": "Mars/Olympus_Mons"}, {"TimeZone": "Africa"}, {"TimeZone": "../../etc/passwd"},
                 {"TimeZone": ""}, {"TimeZone": 2}, {"CompanyName": ""}, {"CompanyName": "   "},
                 {"CompanyName": "x" * 101}, {"CompanyName": ["Channel"]}, {"SendChatClosedMessage": "yes"},
                 {"SendChatClosedMessage": 1}, {"UnassignedChatsWaitingMinutes": "5"},
                 {"UnassignedChatsWaitingMinutes": 2.5}, {"UnassignedChatsWaitingMinutes": -1},
                 {"UnassignedChatsWaitingMinutes": True}, {"UnassignedChatsWaitingMinutes": 10**6},
                 {"OutOfHoursMessage": None}, {"ChatClosedMessage": "x" * 4097}]
        for item in cases:
            key = next(iter(item))
            assert_error(update(api, manager, {"CompanyName": "Channel"}, item), 422, "invalid_setting", key)
        assert settings(api, manager) == before

    def test_malformed_lists_are_refused(self, server, api, manager):
        before = settings(api, manager)
        assert_error(update(api, manager, {"CompanyName": "A", "TimeZone": "UTC"}), 422, "invalid_setting")
        assert_error(update(api, manager, {}), 422, "invalid_setting")
        assert_error(api.post("UpdateSettings", manager, {"Settings": {"CompanyName": "A"}}), 422, field="Settings")
        assert_error(api.post("UpdateSettings", manager, {"Settings": ["CompanyName"]}), 422, field="Settings.0")
        assert_error(api.post("UpdateSettings", manager, {}), 422, "missing_field", "Settings")
        assert_error(api.post("UpdateSettings", manager, {"Settings": [{"CompanyName": "A"}] * 51}), 422,
                     field="Settings")
        assert_error(update(api, manager, {"CompanyName": "A\x00"}), 422)
        assert settings(api, manager) == before

    def test_an_agent_cannot_update(self, server, api, manager):
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        before = settings(api, manager)
        assert_error(update(api, token, {"CompanyName": "Mine now"}), 403, "manager_only")
        assert settings(api, manager) == before
