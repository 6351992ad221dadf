"""Departments: creation, updates, the welcome-menu rules, listing."""

from conftest import add_agent, assert_error

from agentchat.tags.models import Tag, TagGroup


def add_tags(server, *names):
    """Tags straight into the database (the tag endpoints are another domain's); returns their IDs."""
    async def work(db):
        group = TagGroup(name="Topics", enabled=True)
        db.add(group)
        await db.flush()
        tags = [Tag(tag_group_id=group.id, name=name, enabled=True) for name in names]
        db.add_all(tags)
        await db.flush()
        return [tag.id for tag in tags]
    return server.with_db(work)


def departments(api, token):
    return api.ok(api.get("GetDepartments", token))["Items"]


def create(api, token, **fields):
    return api.post("CreateDepartment", token, {"Name": "Sales", **fields})


class TestCreateDepartment:
    def test_defaults(self, server, api, manager):
        body = api.ok(create(api, manager))
        assert body == {"DepartmentID": body["DepartmentID"], "Name": "Sales", "IncludeInWelcomeMenu": False,
                        "WelcomeMenuName": None, "ReturningCustomerMessage": None, "NewCustomerMessage": None,
                        "MenuOption": None, "Enabled": True, "TagIDs": [], "RoutingEnabled": False,
                        "CsatEnabled": False, "RoutingStrategy": "LeastBusy"}
        assert departments(api, manager) == [body]

    def test_all_fields(self, server, api, manager):
        vip, billing = add_tags(server, "VIP", "Billing")
        body = api.ok(create(api, manager, IncludeInWelcomeMenu=True, WelcomeMenuName="Buy something",
                             ReturningCustomerMessage="Welcome back!", NewCustomerMessage="Welcome!", MenuOption=1,
                             Enabled=True, TagIDs=[billing, vip, billing]))
        assert body["IncludeInWelcomeMenu"] is True and body["MenuOption"] == 1
        assert body["WelcomeMenuName"] == "Buy something"
        assert (body["ReturningCustomerMessage"], body["NewCustomerMessage"]) == ("Welcome back!", "Welcome!")
        assert body["TagIDs"] == sorted([vip, billing])
        assert departments(api, manager) == [body]

    def test_duplicate_name_is_409(self, server, api, manager):
        api.ok(create(api, manager))
        assert_error(create(api, manager, Name=" Sales "), 409, "department_name_taken", "Name")
        assert len(departments(api, manager)) == 1

    def test_menu_option_is_unique_among_enabled_menu_departments(self, server, api, manager):
        api.ok(create(api, manager, IncludeInWelcomeMenu=True, MenuOption=1))
        response = create(api, manager, Name="Support", IncludeInWelcomeMenu=True, MenuOption=1)
        assert_error(response, 409, "menu_option_taken", "MenuOption")
        # Out of the menu, or disabled, a department may keep the same number without clashing.
        api.ok(create(api, manager, Name="Support", IncludeInWelcomeMenu=False, MenuOption=1))
        api.ok(create(api, manager, Name="Billing", IncludeInWelcomeMenu=True, MenuOption=1, Enabled=False))
        assert [d["Name"] for d in departments(api, manager)] == ["Sales", "Support", "Billing"]

    def test_menu_department_needs_a_menu_option(self, server, api, manager):
        assert_error(create(api, manager, IncludeInWelcomeMenu=True), 422, "menu_option_required", "MenuOption")
        assert departments(api, manager) == []

    def test_unknown_tag_is_404_and_nothing_is_created(self, server, api, manager):
        (vip,) = add_tags(server, "VIP")
        assert_error(create(api, manager, TagIDs=[vip, 999]), 404, "tag_not_found", "TagIDs")
        assert departments(api, manager) == []

    def test_bad_fields_are_422_and_nothing_is_created(self, server, api, manager):
        cases = [({"Name": ""}, "Name"), ({"Name": None}, "Name"), ({"Name": "x" * 101}, "Name"),
                 ({"Name": 7}, "Name"), ({"MenuOption": 0}, "MenuOption"), ({"MenuOption": 100}, "MenuOption"),
                 ({"MenuOption": "one"}, "MenuOption"),
                 ({"IncludeInWelcomeMenu": "yes please"}, "IncludeInWelcomeMenu"),
                 ({"WelcomeMenuName": "x" * 101}, "WelcomeMenuName"),
                 ({"NewCustomerMessage": "x" * 4097}, "NewCustomerMessage"),
                 ({"ReturningCustomerMessage": "hi\x00"}, "ReturningCustomerMessage"),
                 ({"TagIDs": [2**40]}, "TagIDs.0"), ({"TagIDs": 1}, "TagIDs"), ({"DepartmentID": 1}, "DepartmentID")]
        for fields, field in cases:
            assert_error(create(api, manager, **fields), 422, field=field)
        assert_error(api.post("CreateDepartment", manager, {}), 422, "missing_field", "Name")
        assert departments(api, manager) == []

    def test_agent_cannot_create(self, server, api, manager):
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        assert_error(create(api, token), 403, "manager_only")
        assert departments(api, manager) == []


class TestUpdateDepartment:
    def test_changes_only_the_given_fields(self, server, api, manager):
        (vip,) = add_tags(server, "VIP")
        before = api.ok(create(api, manager, NewCustomerMessage="Hello", TagIDs=[vip]))
        after = api.ok(api.post("UpdateDepartment", manager, {"DepartmentID": before["DepartmentID"],
                                                               "Name": "Sales & Billing"}))
        assert after == {**before, "Name": "Sales & Billing"}
        assert departments(api, manager) == [after]

    def test_puts_a_department_in_the_menu(self, server, api, manager):
        sales = api.ok(create(api, manager))["DepartmentID"]
        assert_error(api.post("UpdateDepartment", manager, {"DepartmentID": sales, "IncludeInWelcomeMenu": True}),
                     422, "menu_option_required")
        body = api.ok(api.post("UpdateDepartment", manager, {"DepartmentID": sales, "IncludeInWelcomeMenu": True,
                                                              "MenuOption": 2, "WelcomeMenuName": "Sales"}))
        assert (body["IncludeInWelcomeMenu"], body["MenuOption"]) == (True, 2)
        assert_error(api.post("UpdateDepartment", manager, {"DepartmentID": sales, "MenuOption": None}), 422,
                     "menu_option_required")
        assert departments(api, manager) == [body]

    def test_menu_option_of_a_disabled_holder_can_be_reused_but_not_reenabled(self, server, api, manager):
        sales = api.ok(create(api, manager, IncludeInWelcomeMenu=True, MenuOption=1))["DepartmentID"]
        support = api.ok(create(api, manager, Name="Support", IncludeInWelcomeMenu=True, MenuOption=2))["DepartmentID"]
        assert_error(api.post("UpdateDepartment", manager, {"DepartmentID": support, "MenuOption": 1}), 409,
                     "menu_option_taken", "MenuOption")
        api.ok(api.post("UpdateDepartment", manager, {"DepartmentID": sales, "Enabled": False}))
        api.ok(api.post("UpdateDepartment", manager, {"DepartmentID": support, "MenuOption": 1}))
        # Turning the old holder back on would make two menu entries answer to 1.
        assert_error(api.post("UpdateDepartment", manager, {"DepartmentID": sales, "Enabled": True}), 409,
                     "menu_option_taken")
        assert [d["Enabled"] for d in departments(api, manager)] == [False, True]

    def test_keeping_its_own_menu_option_is_fine(self, server, api, manager):
        sales = api.ok(create(api, manager, IncludeInWelcomeMenu=True, MenuOption=1))["DepartmentID"]
        api.ok(api.post("UpdateDepartment", manager, {"DepartmentID": sales, "MenuOption": 1, "Name": "Sales"}))

    def test_taking_another_departments_name_is_409(self, server, api, manager):
        api.ok(create(api, manager))
        support = api.ok(create(api, manager, Name="Support"))["DepartmentID"]
        assert_error(api.post("UpdateDepartment", manager, {"DepartmentID": support, "Name": "Sales"}), 409,
                     "department_name_taken", "Name")
        assert [d["Name"] for d in departments(api, manager)] == ["Sales", "Support"]

    def test_tags_are_replaced_and_unknown_ones_refused(self, server, api, manager):
        vip, billing = add_tags(server, "VIP", "Billing")
        sales = api.ok(create(api, manager, TagIDs=[vip]))["DepartmentID"]
        assert_error(api.post("UpdateDepartment", manager, {"DepartmentID": sales, "TagIDs": [billing, 999],
                                                             "Name": "Other"}), 404, "tag_not_found")
        assert departments(api, manager)[0]["TagIDs"] == [vip]
        assert departments(api, manager)[0]["Name"] == "Sales"
        body = api.ok(api.post("UpdateDepartment", manager, {"DepartmentID": sales, "TagIDs": [billing]}))
        assert body["TagIDs"] == [billing]
        assert api.ok(api.post("UpdateDepartment", manager, {"DepartmentID": sales, "TagIDs": []}))["TagIDs"] == []

    def test_unknown_department_is_404(self, server, api, manager):
        assert_error(api.post("UpdateDepartment", manager, {"DepartmentID": 999, "Name": "X"}), 404,
                     "department_not_found", "DepartmentID")
        assert_error(api.post("UpdateDepartment", manager, {"Name": "X"}), 422, "missing_field", "DepartmentID")

    def test_agent_cannot_update(self, server, api, manager):
        sales = api.ok(create(api, manager))["DepartmentID"]
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        assert_error(api.post("UpdateDepartment", token, {"DepartmentID": sales, "Name": "Mine"}), 403,
                     "manager_only")
        assert departments(api, manager)[0]["Name"] == "Sales"


class TestGetDepartments:
    def test_any_agent_lists_all_departments_in_creation_order(self, server, api, manager):
        for name in ("Support", "Sales", "Billing"):
            api.ok(create(api, manager, Name=name))
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        body = api.ok(api.get("GetDepartments", token))
        assert list(body) == ["Items"]
        assert [d["Name"] for d in body["Items"]] == ["Support", "Sales", "Billing"]

    def test_empty(self, server, api, manager):
        assert api.ok(api.get("GetDepartments", manager)) == {"Items": []}
