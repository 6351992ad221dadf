"""Tag groups and tags; tags on chats (AddTag, RemoveTag, departments' auto-tags) and their history."""


import pytest
from chat_helpers import add_department, queued_chat
from conftest import add_agent, assert_error, race
from sqlalchemy import select

from agentchat.chats.models import ChatTag
from agentchat.tags.models import TagEvent


def group(api, token, name="Topics", **fields):
    return api.ok(api.post("CreateTagGroup", token, {"Name": name, **fields}))


def tag(api, token, group_id, name="Billing", **fields):
    return api.ok(api.post("CreateTag", token, {"TagGroupID": group_id, "Name": name, **fields}))


def chat_tags(server, chat_id):
    async def work(db):
        query = select(ChatTag.tag_id).where(ChatTag.chat_id == chat_id).order_by(ChatTag.tag_id)
        return list((await db.execute(query)).scalars())
    return server.with_db(work)


def tag_history(server, chat_id):
    async def work(db):
        query = select(TagEvent).where(TagEvent.chat_id == chat_id).order_by(TagEvent.id)
        return [(e.action, e.tag_name, e.tag_group_name) for e in (await db.execute(query)).scalars()]
    return server.with_db(work)


@pytest.fixture
def agent(server, api):
    """An agent of department "Sales" (menu option 1), logged on: (token, department_id)."""
    department_id = add_department(server, "Sales", menu_option=1)
    add_agent(server, name="Ann", email="ann@example.com", department_ids=(department_id,))
    return api.logon("ann@example.com"), department_id


class TestCreateTagGroup:
    def test_creates_an_enabled_group(self, api, manager):
        body = group(api, manager, "Topics")
        assert body == {"TagGroupID": body["TagGroupID"], "Name": "Topics", "Enabled": True}

    def test_may_be_created_disabled(self, api, manager):
        assert group(api, manager, "Old", Enabled=False)["Enabled"] is False

    def test_names_are_unique_ignoring_case(self, api, manager):
        group(api, manager, "Topics")
        assert_error(api.post("CreateTagGroup", manager, {"Name": "topics"}), 409, "tag_group_name_taken", "Name")
        assert len(api.ok(api.get("GetTags", manager))["Items"]) == 1

    def test_bad_input_is_422(self, api, manager):
        assert_error(api.post("CreateTagGroup", manager, {}), 422, "missing_field", "Name")
        assert_error(api.post("CreateTagGroup", manager, {"Name": ""}), 422, field="Name")
        assert_error(api.post("CreateTagGroup", manager, {"Name": "x" * 101}), 422, field="Name")
        assert_error(api.post("CreateTagGroup", manager, {"Name": "A", "Enabled": "maybe"}), 422, field="Enabled")
        assert api.ok(api.get("GetTags", manager))["Items"] == []

    def test_agents_may_not(self, server, api, agent):
        token, _ = agent
        assert_error(api.post("CreateTagGroup", token, {"Name": "Topics"}), 403, "manager_only")


class TestUpdateTagGroup:
    def test_renames_and_disables(self, api, manager):
        group_id = group(api, manager)["TagGroupID"]
        body = api.ok(api.post("UpdateTagGroup", manager, {"TagGroupID": group_id, "Name": "Reasons",
                                                           "Enabled": False}))
        assert body == {"TagGroupID": group_id, "Name": "Reasons", "Enabled": False}

    def test_keeping_its_own_name_is_fine_but_another_groups_is_409(self, api, manager):
        first = group(api, manager, "Topics")["TagGroupID"]
        group(api, manager, "Reasons")
        api.ok(api.post("UpdateTagGroup", manager, {"TagGroupID": first, "Name": "Topics"}))
        assert_error(api.post("UpdateTagGroup", manager, {"TagGroupID": first, "Name": "REASONS"}), 409,
                     "tag_group_name_taken")

    def test_unknown_group_is_404(self, api, manager):
        assert_error(api.post("UpdateTagGroup", manager, {"TagGroupID": 999, "Name": "X"}), 404,
                     "tag_group_not_found", "TagGroupID")


class TestCreateTag:
    def test_creates_a_tag_in_a_group(self, api, manager):
        group_id = group(api, manager)["TagGroupID"]
        body = tag(api, manager, group_id, "Billing")
        assert body == {"TagID": body["TagID"], "TagGroupID": group_id, "Name": "Billing", "Enabled": True}

    def test_names_are_unique_within_a_group_only(self, api, manager):
        topics, reasons = group(api, manager, "Topics")["TagGroupID"], group(api, manager, "Reasons")["TagGroupID"]
        tag(api, manager, topics, "Other")
        tag(api, manager, reasons, "Other")
        assert_error(api.post("CreateTag", manager, {"TagGroupID": topics, "Name": "other"}), 409,
                     "tag_name_taken", "Name")

    def test_concurrent_creates_of_one_name_make_one_tag(self, server, api, manager):
        group_id = group(api, manager)["TagGroupID"]
        responses = race(server, [("POST", "CreateTag", manager, {"TagGroupID": group_id, "Name": "Billing"})] * 8)
        assert sorted(r.status_code for r in responses) == [200] + [409] * 7
        assert {r.json()["Error"]["Code"] for r in responses if r.status_code == 409} == {"tag_name_taken"}
        assert len(api.ok(api.get("GetTags", manager))["Items"][0]["Tags"]) == 1

    def test_unknown_group_is_404(self, api, manager):
        assert_error(api.post("CreateTag", manager, {"TagGroupID": 999, "Name": "X"}), 404, "tag_group_not_found",
                     "TagGroupID")

    def test_bad_input_is_422(self, api, manager):
        group_id = group(api, manager)["TagGroupID"]
        assert_error(api.post("CreateTag", manager, {"Name": "X"}), 422, "missing_field", "TagGroupID")
        assert_error(api.post("CreateTag", manager, {"TagGroupID": group_id}), 422, "missing_field", "Name")
        assert_error(api.post("CreateTag", manager, {"TagGroupID": 0, "Name": "X"}), 422, field="TagGroupID")
        assert_error(api.post("CreateTag", manager, {"TagGroupID": group_id, "Name": "x" * 101}), 422, field="Name")
        assert api.ok(api.get("GetTags", manager))["Items"][0]["Tags"] == []

    def test_agents_may_not(self, api, manager, agent):
        group_id = group(api, manager)["TagGroupID"]
        assert_error(api.post("CreateTag", agent[0], {"TagGroupID": group_id, "Name": "X"}), 403)


class TestUpdateTag:
    def test_renames_and_disables(self, api, manager):
        group_id = group(api, manager)["TagGroupID"]
        tag_id = tag(api, manager, group_id)["TagID"]
        body = api.ok(api.post("UpdateTag", manager, {"TagID": tag_id, "Name": "Invoices", "Enabled": False}))
        assert body == {"TagID": tag_id, "TagGroupID": group_id, "Name": "Invoices", "Enabled": False}

    def test_name_taken_in_the_group_is_409(self, api, manager):
        group_id = group(api, manager)["TagGroupID"]
        tag(api, manager, group_id, "Billing")
        other = tag(api, manager, group_id, "Sales")["TagID"]
        assert_error(api.post("UpdateTag", manager, {"TagID": other, "Name": "Billing"}), 409, "tag_name_taken")
        assert [t["Name"] for t in api.ok(api.get("GetTags", manager))["Items"][0]["Tags"]] == ["Billing", "Sales"]

    def test_unknown_tag_is_404(self, api, manager):
        assert_error(api.post("UpdateTag", manager, {"TagID": 999, "Enabled": False}), 404, "tag_not_found", "TagID")


class TestDeleteTag:
    def test_deletes_the_tag(self, api, manager):
        group_id = group(api, manager)["TagGroupID"]
        tag_id = tag(api, manager, group_id)["TagID"]
        assert api.ok(api.delete("DeleteTag", manager, {"TagID": tag_id})) == {"Deleted": True, "TagID": tag_id}
        assert api.ok(api.get("GetTags", manager))["Items"][0]["Tags"] == []
        assert_error(api.delete("DeleteTag", manager, {"TagID": tag_id}), 404, "tag_not_found")

    def test_a_tag_in_use_leaves_its_chats_and_departments_but_not_the_history(self, server, api, manager, agent):
        token, department_id = agent
        group_id = group(api, manager)["TagGroupID"]
        tag_id = tag(api, manager, group_id, "Billing")["TagID"]
        api.ok(api.post("UpdateDepartment", manager, {"DepartmentID": department_id, "TagIDs": [tag_id]}))
        chat = queued_chat(server, department_id)
        assert chat_tags(server, chat.chat_id) == [tag_id]
        api.ok(api.delete("DeleteTag", manager, {"TagID": tag_id}))
        assert api.ok(api.get("GetChat", token, {"ChatID": chat.chat_id}))["TagIDs"] == []
        departments = api.ok(api.get("GetDepartments", token))["Items"]
        assert departments[0]["TagIDs"] == []
        assert tag_history(server, chat.chat_id) == [("Added", "Billing", "Topics"), ("Deleted", "Billing", "Topics")]

    def test_bad_id_is_422_and_agents_may_not(self, api, manager, agent):
        assert_error(api.delete("DeleteTag", manager, {"TagID": "x"}), 422, field="TagID")
        assert_error(api.delete("DeleteTag", manager), 422, "missing_field", "TagID")
        assert_error(api.delete("DeleteTag", agent[0], {"TagID": 1}), 403)


class TestDeleteTagGroup:
    def test_deletes_the_group_and_its_tags(self, server, api, manager, agent):
        token, department_id = agent
        group_id = group(api, manager)["TagGroupID"]
        tag_id = tag(api, manager, group_id, "Billing")["TagID"]
        chat = queued_chat(server, department_id)
        api.ok(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": tag_id}))
        assert api.ok(api.delete("DeleteTagGroup", manager, {"TagGroupID": group_id})) == {
            "Deleted": True, "TagGroupID": group_id}
        assert api.ok(api.get("GetTags", manager))["Items"] == []
        assert chat_tags(server, chat.chat_id) == []
        assert tag_history(server, chat.chat_id)[-1] == ("Deleted", "Billing", "Topics")
        assert_error(api.delete("DeleteTagGroup", manager, {"TagGroupID": group_id}), 404, "tag_group_not_found")


class TestGetTags:
    def test_lists_groups_with_their_tags(self, api, manager, agent):
        topics = group(api, manager, "Topics")["TagGroupID"]
        reasons = group(api, manager, "Reasons", Enabled=False)["TagGroupID"]
        billing = tag(api, manager, topics, "Billing")["TagID"]
        sales = tag(api, manager, topics, "Sales", Enabled=False)["TagID"]
        other = tag(api, manager, reasons, "Other")["TagID"]
        body = api.ok(api.get("GetTags", agent[0]))
        assert body == {"Items": [
            {"TagGroupID": topics, "Name": "Topics", "Enabled": True, "Tags": [
                {"TagID": billing, "TagGroupID": topics, "Name": "Billing", "Enabled": True},
                {"TagID": sales, "TagGroupID": topics, "Name": "Sales", "Enabled": False}]},
            {"TagGroupID": reasons, "Name": "Reasons", "Enabled": False, "Tags": [
                {"TagID": other, "TagGroupID": reasons, "Name": "Other", "Enabled": True}]},
        ]}
        only = api.ok(api.get("GetTags", agent[0], {"TagGroupID": reasons}))["Items"]
        assert [g["TagGroupID"] for g in only] == [reasons]

    def test_unknown_group_is_404_and_bad_one_422(self, api, manager):
        assert_error(api.get("GetTags", manager, {"TagGroupID": 999}), 404, "tag_group_not_found")
        assert_error(api.get("GetTags", manager, {"TagGroupID": "abc"}), 422, field="TagGroupID")

    def test_needs_a_session(self, api):
        assert_error(api.get("GetTags"), 401)


@pytest.fixture
def tagged(server, api, manager, agent):
    """A queued chat in the agent's department and two tags: (token, chat, billing_id, sales_id)."""
    token, department_id = agent
    group_id = group(api, manager)["TagGroupID"]
    billing = tag(api, manager, group_id, "Billing")["TagID"]
    sales = tag(api, manager, group_id, "Sales")["TagID"]
    return token, queued_chat(server, department_id), billing, sales


class TestAddTag:
    def test_tags_a_chat_by_id_and_returns_it(self, server, api, tagged):
        token, chat, billing, sales = tagged
        body = api.ok(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": sales}))
        assert body["ChatID"] == chat.chat_id and body["TagIDs"] == [sales]
        body = api.ok(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": billing}))
        assert body["TagIDs"] == sorted([billing, sales])
        assert [a for a, _, _ in tag_history(server, chat.chat_id)] == ["Added", "Added"]

    def test_by_customer_tags_the_customers_active_chat(self, api, tagged):
        token, chat, billing, _ = tagged
        body = api.ok(api.post("AddTag", token, {"CustomerID": chat.customer_id, "TagID": billing}))
        assert body["ChatID"] == chat.chat_id and body["TagIDs"] == [billing]

    def test_adding_it_twice_changes_nothing(self, server, api, tagged):
        token, chat, billing, _ = tagged
        api.ok(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": billing}))
        assert api.ok(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": billing}))["TagIDs"] == [billing]
        assert len(tag_history(server, chat.chat_id)) == 1

    def test_concurrent_adds_of_one_tag_tag_the_chat_once(self, server, api, tagged):
        token, chat, billing, _ = tagged
        responses = race(server, [("POST", "AddTag", token, {"ChatID": chat.chat_id, "TagID": billing})] * 8)
        assert [r.status_code for r in responses] == [200] * 8
        assert all(r.json()["TagIDs"] == [billing] for r in responses)
        assert chat_tags(server, chat.chat_id) == [billing]
        assert len(tag_history(server, chat.chat_id)) == 1

    def test_a_disabled_tag_or_group_cannot_be_applied_but_stays_where_it_is(self, api, manager, tagged):
        token, chat, billing, sales = tagged
        api.ok(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": billing}))
        api.ok(api.post("UpdateTag", manager, {"TagID": billing, "Enabled": False}))
        api.ok(api.post("UpdateTag", manager, {"TagID": sales, "Enabled": False}))
        assert_error(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": sales}), 409, "tag_disabled",
                     "TagID")
        assert api.ok(api.get("GetChat", token, {"ChatID": chat.chat_id}))["TagIDs"] == [billing]
        api.ok(api.post("UpdateTag", manager, {"TagID": sales, "Enabled": True}))
        group_id = api.ok(api.get("GetTags", manager))["Items"][0]["TagGroupID"]
        api.ok(api.post("UpdateTagGroup", manager, {"TagGroupID": group_id, "Enabled": False}))
        assert_error(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": sales}), 409, "tag_disabled")

    def test_unknown_or_invisible_chats_and_tags_are_404(self, server, api, tagged):
        token, chat, billing, _ = tagged
        assert_error(api.post("AddTag", token, {"ChatID": 999, "TagID": billing}), 404, "chat_not_found")
        assert_error(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": 999}), 404, "tag_not_found")
        assert_error(api.post("AddTag", token, {"CustomerID": 999, "TagID": billing}), 404, "customer_not_found",
                     "CustomerID")
        other_department = add_department(server, "Support")
        add_agent(server, name="Bo", email="bo@example.com", department_ids=(other_department,))
        outsider = api.logon("bo@example.com")
        assert_error(api.post("AddTag", outsider, {"ChatID": chat.chat_id, "TagID": billing}), 404,
                     "chat_not_found")
        assert chat_tags(server, chat.chat_id) == []

    def test_by_customer_without_a_visible_active_chat_is_409_as_for_addcomment(self, server, api, tagged):
        """AddTag by CustomerID, AddComment and UpdateCustomer give one answer: 409 no_active_chat."""
        _, chat, billing, _ = tagged
        other_department = add_department(server, "Support")
        add_agent(server, name="Bo", email="bo@example.com", department_ids=(other_department,))
        outsider = api.logon("bo@example.com")
        for name, body in (("AddTag", {"CustomerID": chat.customer_id, "TagID": billing}),
                           ("AddComment", {"CustomerID": chat.customer_id, "Comment": "Hi"}),
                           ("UpdateCustomer", {"CustomerID": chat.customer_id, "TagID": billing})):
            assert_error(api.post(name, outsider, body), 409, "no_active_chat", "CustomerID")
        assert chat_tags(server, chat.chat_id) == []

    def test_needs_exactly_one_of_chat_and_customer(self, api, tagged):
        token, chat, billing, _ = tagged
        assert_error(api.post("AddTag", token, {"TagID": billing}), 422, "chat_or_customer_required")
        assert_error(api.post("AddTag", token, {"TagID": billing, "ChatID": chat.chat_id,
                                                "CustomerID": chat.customer_id}), 422, "chat_or_customer_required")
        assert_error(api.post("AddTag", token, {"ChatID": chat.chat_id}), 422, "missing_field", "TagID")

    def test_a_manager_may_tag_any_chat(self, api, manager, tagged):
        _, chat, billing, _ = tagged
        assert api.ok(api.post("AddTag", manager, {"ChatID": chat.chat_id, "TagID": billing}))["TagIDs"] == [billing]


class TestRemoveTag:
    def test_removes_the_tag_and_records_it(self, server, api, tagged):
        token, chat, billing, sales = tagged
        api.ok(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": billing}))
        api.ok(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": sales}))
        body = api.ok(api.post("RemoveTag", token, {"ChatID": chat.chat_id, "TagID": billing}))
        assert body["TagIDs"] == [sales]
        assert tag_history(server, chat.chat_id)[-1] == ("Removed", "Billing", "Topics")

    def test_removing_a_tag_the_chat_lacks_changes_nothing(self, server, api, tagged):
        token, chat, billing, _ = tagged
        assert api.ok(api.post("RemoveTag", token, {"ChatID": chat.chat_id, "TagID": billing}))["TagIDs"] == []
        assert tag_history(server, chat.chat_id) == []

    def test_a_disabled_tag_can_still_be_removed(self, api, manager, tagged):
        token, chat, billing, _ = tagged
        api.ok(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": billing}))
        api.ok(api.post("UpdateTag", manager, {"TagID": billing, "Enabled": False}))
        assert api.ok(api.post("RemoveTag", token, {"ChatID": chat.chat_id, "TagID": billing}))["TagIDs"] == []

    def test_unknown_ids_are_404_and_missing_ones_422(self, api, tagged):
        token, chat, billing, _ = tagged
        assert_error(api.post("RemoveTag", token, {"ChatID": 999, "TagID": billing}), 404, "chat_not_found")
        assert_error(api.post("RemoveTag", token, {"ChatID": chat.chat_id, "TagID": 999}), 404, "tag_not_found")
        assert_error(api.post("RemoveTag", token, {"TagID": billing}), 422, "missing_field", "ChatID")


class TestDepartmentAutoTags:
    def test_enabled_auto_tags_are_applied_when_the_chat_enters_the_department(self, server, api, manager, agent):
        _, department_id = agent
        group_id = group(api, manager)["TagGroupID"]
        billing = tag(api, manager, group_id, "Billing")["TagID"]
        sales = tag(api, manager, group_id, "Sales", Enabled=False)["TagID"]
        api.ok(api.post("UpdateDepartment", manager, {"DepartmentID": department_id, "TagIDs": [billing, sales]}))
        chat = queued_chat(server, department_id)
        assert chat_tags(server, chat.chat_id) == [billing]
        assert tag_history(server, chat.chat_id) == [("Added", "Billing", "Topics")]
