"""Canned responses: create, update, delete, search, and filling in their variables for a chat."""


import pytest
from chat_helpers import add_department, queued_chat
from conftest import add_agent, assert_error, race


def create(api, token, name="Greeting", text="Hello {CustomerName}!", **fields):
    return api.ok(api.post("CreateCannedResponse", token, {"Name": name, "Text": text, **fields}))


def names(api, token, search=None):
    params = {"Search": search} if search is not None else None
    return [item["Name"] for item in api.ok(api.get("GetCannedResponses", token, params))["Items"]]


@pytest.fixture
def agent(server, api):
    department_id = add_department(server, "Sales", menu_option=1)
    add_agent(server, name="Ann Agent", email="ann@example.com", department_ids=(department_id,))
    return api.logon("ann@example.com"), department_id


class TestCreateCannedResponse:
    def test_creates_a_response(self, api, manager):
        body = create(api, manager, "Greeting", "Hello {CustomerName}!", ShortCode="hello")
        assert body == {"CannedResponseID": body["CannedResponseID"], "Name": "Greeting",
                        "Text": "Hello {CustomerName}!", "ShortCode": "hello"}

    def test_short_code_is_optional_and_normalised(self, api, manager):
        assert create(api, manager, "A")["ShortCode"] is None
        assert create(api, manager, "B", ShortCode="")["ShortCode"] is None
        assert create(api, manager, "C", ShortCode=" Thanks_2 ")["ShortCode"] == "thanks_2"

    def test_short_codes_are_unique_ignoring_case(self, api, manager):
        create(api, manager, "A", ShortCode="hello")
        assert_error(api.post("CreateCannedResponse", manager, {"Name": "B", "Text": "x", "ShortCode": "HELLO"}),
                     409, "short_code_taken", "ShortCode")
        assert names(api, manager) == ["A"]

    def test_concurrent_creates_with_one_short_code_make_one(self, server, api, manager):
        body = {"Name": "Hi", "Text": "Hello", "ShortCode": "hi"}
        responses = race(server, [("POST", "CreateCannedResponse", manager, body)] * 8)
        assert sorted(r.status_code for r in responses) == [200] + [409] * 7
        assert names(api, manager) == ["Hi"]

    def test_bad_input_is_422_and_changes_nothing(self, api, manager):
        post = lambda body: api.post("CreateCannedResponse", manager, body)  # noqa: E731
        assert_error(post({"Text": "x"}), 422, "missing_field", "Name")
        assert_error(post({"Name": "A"}), 422, "missing_field", "Text")
        assert_error(post({"Name": "x" * 101, "Text": "x"}), 422, field="Name")
        assert_error(post({"Name": "A", "Text": "x" * 4097}), 422, field="Text")
        assert_error(post({"Name": "A", "Text": ""}), 422, field="Text")
        assert_error(post({"Name": "A", "Text": "x", "ShortCode": "has space"}), 422, field="ShortCode")
        assert_error(post({"Name": "A", "Text": "x", "ShortCode": "x" * 33}), 422, field="ShortCode")
        assert_error(post({"Name": "A", "Text": "Hello {CustomerName"}), 422, field="Text")
        assert_error(post({"Name": "A", "Text": "Hello CustomerName}"}), 422, field="Text")
        assert_error(post({"Name": "A", "Text": "Hello {Customer Name}"}), 422, field="Text")
        assert names(api, manager) == []

    def test_agents_may_not(self, api, agent):
        assert_error(api.post("CreateCannedResponse", agent[0], {"Name": "A", "Text": "x"}), 403, "manager_only")


class TestUpdateCannedResponse:
    def test_changes_the_given_fields_only(self, api, manager):
        response_id = create(api, manager, "Greeting", "Hi", ShortCode="hi")["CannedResponseID"]
        body = api.ok(api.post("UpdateCannedResponse", manager, {"CannedResponseID": response_id,
                                                                 "Text": "Hello {AgentName} here"}))
        assert body == {"CannedResponseID": response_id, "Name": "Greeting", "Text": "Hello {AgentName} here",
                        "ShortCode": "hi"}

    def test_null_short_code_removes_it_and_frees_it(self, api, manager):
        first = create(api, manager, "A", ShortCode="hi")["CannedResponseID"]
        second = create(api, manager, "B")["CannedResponseID"]
        assert_error(api.post("UpdateCannedResponse", manager, {"CannedResponseID": second, "ShortCode": "hi"}),
                     409, "short_code_taken")
        body = api.ok(api.post("UpdateCannedResponse", manager, {"CannedResponseID": first, "ShortCode": None}))
        assert body["ShortCode"] is None
        body = api.ok(api.post("UpdateCannedResponse", manager, {"CannedResponseID": second, "ShortCode": "hi"}))
        assert body["ShortCode"] == "hi"

    def test_unknown_id_is_404_and_bad_text_422(self, api, manager):
        assert_error(api.post("UpdateCannedResponse", manager, {"CannedResponseID": 999, "Name": "X"}), 404,
                     "canned_response_not_found", "CannedResponseID")
        response_id = create(api, manager)["CannedResponseID"]
        assert_error(api.post("UpdateCannedResponse", manager, {"CannedResponseID": response_id, "Text": "{"}),
                     422, field="Text")
        assert_error(api.post("UpdateCannedResponse", manager, {"CannedResponseID": response_id, "Name": None,
                                                                 "Unknown": 1}), 422, "unknown_field")


class TestDeleteCannedResponse:
    def test_deletes(self, api, manager):
        response_id = create(api, manager)["CannedResponseID"]
        assert api.ok(api.delete("DeleteCannedResponse", manager, {"CannedResponseID": response_id})) == {
            "Deleted": True, "CannedResponseID": response_id}
        assert names(api, manager) == []
        assert_error(api.delete("DeleteCannedResponse", manager, {"CannedResponseID": response_id}), 404,
                     "canned_response_not_found")

    def test_agents_may_not(self, api, manager, agent):
        response_id = create(api, manager)["CannedResponseID"]
        assert_error(api.delete("DeleteCannedResponse", agent[0], {"CannedResponseID": response_id}), 403)
        assert names(api, manager) == ["Greeting"]


class TestGetCannedResponses:
    def test_lists_all_by_name(self, api, manager, agent):
        create(api, manager, "Thanks", "Thank you!")
        create(api, manager, "Greeting", "Hello")
        assert names(api, agent[0]) == ["Greeting", "Thanks"]

    def test_search_matches_name_text_or_short_code_in_any_case(self, api, manager, agent):
        create(api, manager, "Greeting", "Hello there", ShortCode="hi")
        create(api, manager, "Refunds", "Your REFUND is on its way", ShortCode="money")
        create(api, manager, "Goodbye", "Bye for now", ShortCode="bye")
        token = agent[0]
        assert names(api, token, "refund") == ["Refunds"]
        assert names(api, token, "GREET") == ["Greeting"]
        assert names(api, token, "mon") == ["Refunds"]
        assert names(api, token, "o") == ["Goodbye", "Greeting", "Refunds"]
        assert names(api, token, "nothing like it") == []
        assert names(api, token, "  ") == ["Goodbye", "Greeting", "Refunds"]

    def test_like_wildcards_are_taken_literally(self, api, manager):
        create(api, manager, "Discount", "10% off")
        create(api, manager, "Other", "100 off")
        assert names(api, manager, "0%") == ["Discount"]
        assert names(api, manager, "_") == []

    def test_too_long_search_is_422(self, api, manager):
        assert_error(api.get("GetCannedResponses", manager, {"Search": "x" * 101}), 422, field="Search")
        assert_error(api.get("GetCannedResponses", manager, {"Search": "a\x00b"}), 422, field="Search")


class TestRenderCannedResponse:
    def test_fills_in_the_variables_for_the_chat(self, server, api, manager, agent):
        token, department_id = agent
        api.ok(api.post("UpdateSettings", manager, {"Settings": [{"CompanyName": "Acme"}]}))
        response_id = create(api, manager, "All", "Hi {CustomerName}, {AgentName} of {DepartmentName} at "
                                                  "{CompanyName}. {Unknown} stays.")["CannedResponseID"]
        chat = queued_chat(server, department_id, name="Thandi Nkosi")
        body = api.ok(api.get("RenderCannedResponse", token, {"CannedResponseID": response_id,
                                                               "ChatID": chat.chat_id}))
        assert body == {"Text": "Hi Thandi Nkosi, Ann Agent of Sales at Acme. {Unknown} stays."}

    def test_a_customer_without_a_name_gets_an_empty_name(self, server, api, manager, agent):
        token, department_id = agent
        response_id = create(api, manager, "Hi", "Hi {CustomerName}!")["CannedResponseID"]
        chat = queued_chat(server, department_id, name=None)
        body = api.ok(api.get("RenderCannedResponse", token, {"CannedResponseID": response_id,
                                                               "ChatID": chat.chat_id}))
        assert body == {"Text": "Hi !"}

    def test_unknown_or_invisible_ids_are_404(self, server, api, manager, agent):
        token, department_id = agent
        response_id = create(api, manager)["CannedResponseID"]
        chat = queued_chat(server, department_id)
        assert_error(api.get("RenderCannedResponse", token, {"CannedResponseID": 999, "ChatID": chat.chat_id}),
                     404, "canned_response_not_found")
        assert_error(api.get("RenderCannedResponse", token, {"CannedResponseID": response_id, "ChatID": 999}),
                     404, "chat_not_found")
        add_agent(server, name="Bo", email="bo@example.com", department_ids=(add_department(server, "Support"),))
        outsider = api.logon("bo@example.com")
        assert_error(api.get("RenderCannedResponse", outsider, {"CannedResponseID": response_id,
                                                                 "ChatID": chat.chat_id}), 404, "chat_not_found")
