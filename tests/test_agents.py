"""Agents: creation with an e-mailed invitation, updates under the role rules, listing."""

from datetime import timedelta

from conftest import PASSWORD, add_agent, agent_row, assert_error, reset_code

from agentchat import clock
from agentchat.agents.models import ROLE_AGENT, ROLE_MANAGER, STATUS_BUSY, STATUS_OFFLINE, STATUS_ONLINE


def create_department(api, token, name="Sales"):
    return api.ok(api.post("CreateDepartment", token, {"Name": name}))["DepartmentID"]


def new_agent(**fields):
    body = {"Name": "Ann Agent", "EmailAddress": "ann@example.com", "RoleID": ROLE_AGENT, "DepartmentIDs": []}
    body.update(fields)
    return body


def all_agents(api, token):
    return api.ok(api.get("GetAgents", token, {"PageSize": 200}))["Items"]


def id_of(api, token, email):
    return next(a["AgentID"] for a in all_agents(api, token) if a["EmailAddress"] == email)


class TestCreateAgent:
    def test_manager_creates_a_department_and_an_agent_who_sets_a_password_and_logs_on(
            self, server, api, manager, mailbox):
        """The foundation's "done when": the whole way from a new department to the agent's first logon."""
        sales = create_department(api, manager, "Sales")
        agent = api.ok(api.post("CreateAgent", manager, new_agent(DepartmentIDs=[sales])))
        assert agent["DepartmentIDs"] == [sales]
        (mail,) = mailbox.wait_for("ann@example.com")
        assert "http://agentchat.test/reset-password?ResetCode=" in mail.get_content()
        api.ok(api.post("SetPassword", json={"ResetCode": reset_code(mail), "Password": "my own secret"}))
        body = api.ok(api.post("AgentLogon", json={"EmailAddress": "ann@example.com", "Password": "my own secret"}))
        assert body["Agent"]["AgentID"] == agent["AgentID"]
        assert body["Agent"]["StatusID"] == STATUS_ONLINE
        assert body["Agent"]["DepartmentIDs"] == [sales]

    def test_answer_is_the_agent(self, server, api, manager):
        one, two = create_department(api, manager, "Sales"), create_department(api, manager, "Support")
        body = api.ok(api.post("CreateAgent", manager, new_agent(
            Name="  Ann Agent ", EmailAddress="Ann@Example.com", RoleID=ROLE_MANAGER, DepartmentIDs=[two, one, two],
            MobileNumber="+27 82 555 0101")))
        assert body["AgentID"] >= 1
        assert body["Name"] == "Ann Agent"
        assert body["EmailAddress"] == "ann@example.com"
        assert body["RoleID"] == ROLE_MANAGER
        assert body["StatusID"] == STATUS_OFFLINE
        assert body["DepartmentIDs"] == [one, two]
        assert body["MobileNumber"] == "+27 82 555 0101"
        assert body["Notifications"] == [] and body["Enabled"] is True
        assert body["CreatedAt"].endswith("Z")
        assert body in all_agents(api, manager)

    def test_invitation_lasts_its_hours_then_expires(self, server, api, manager, mailbox):
        api.ok(api.post("CreateAgent", manager, new_agent()))
        code = reset_code(mailbox.wait_for("ann@example.com")[0])
        clock.travel(timedelta(hours=server.settings.invite_code_hours, minutes=1))
        response = api.post("SetPassword", json={"ResetCode": code, "Password": "my own secret"})
        assert_error(response, 401, "reset_code_invalid")

    def test_invitation_outlives_a_reset_codes_hour(self, server, api, manager, mailbox):
        api.ok(api.post("CreateAgent", manager, new_agent()))
        code = reset_code(mailbox.wait_for("ann@example.com")[0])
        clock.travel(timedelta(hours=server.settings.invite_code_hours - 1))
        api.ok(api.post("SetPassword", json={"ResetCode": code, "Password": "my own secret"}))

    def test_duplicate_email_is_409_whatever_the_case(self, server, api, manager, mailbox):
        api.ok(api.post("CreateAgent", manager, new_agent()))
        assert_error(api.post("CreateAgent", manager, new_agent(Name="Other", EmailAddress="ANN@example.com")), 409,
                     "email_in_use", "EmailAddress")
        assert len(all_agents(api, manager)) == 2

    def test_unknown_department_is_404_and_nothing_is_created(self, server, api, manager, mailbox):
        sales = create_department(api, manager)
        response = api.post("CreateAgent", manager, new_agent(DepartmentIDs=[sales, 999]))
        assert_error(response, 404, "department_not_found", "DepartmentIDs")
        assert [a["EmailAddress"] for a in all_agents(api, manager)] == ["mia@example.com"]
        # A later invitation arriving proves the failed one sent nothing.
        api.ok(api.post("CreateAgent", manager, new_agent(EmailAddress="bo@example.com")))
        mailbox.wait_for("bo@example.com")
        assert mailbox.to("ann@example.com") == []

    def test_bad_fields_are_422_and_nothing_is_created(self, server, api, manager):
        cases = [
            ({"Name": None}, "Name"), ({"Name": ""}, "Name"), ({"Name": "x" * 101}, "Name"),
            ({"EmailAddress": "ann"}, "EmailAddress"), ({"EmailAddress": "a@b.c" + "x" * 254}, "EmailAddress"),
            ({"RoleID": 3}, "RoleID"), ({"RoleID": "Manager"}, "RoleID"),
            ({"DepartmentIDs": "1"}, "DepartmentIDs"), ({"DepartmentIDs": [0]}, "DepartmentIDs.0"),
            ({"DepartmentIDs": [2**40]}, "DepartmentIDs.0"),
            ({"MobileNumber": "call me"}, "MobileNumber"), ({"Name": "Ann\x00"}, "Name"),
            ({"Colour": "red"}, "Colour"),
        ]
        for change, field in cases:
            assert_error(api.post("CreateAgent", manager, new_agent(**change)), 422, field=field)
        for missing in ("Name", "EmailAddress", "RoleID", "DepartmentIDs"):
            body = new_agent()
            del body[missing]
            assert_error(api.post("CreateAgent", manager, body), 422, "missing_field", missing)
        assert len(all_agents(api, manager)) == 1

    def test_agent_cannot_create_agents(self, server, api, manager):
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        assert_error(api.post("CreateAgent", token, new_agent(EmailAddress="bo@example.com")), 403, "manager_only")
        assert len(all_agents(api, manager)) == 2


class TestUpdateAgent:
    def test_manager_updates_any_field(self, server, api, manager):
        sales, support = create_department(api, manager, "Sales"), create_department(api, manager, "Support")
        agent_id = add_agent(server, name="Ann", email="ann@example.com", department_ids=(sales,))
        body = api.ok(api.post("UpdateAgent", manager, {
            "AgentID": agent_id, "Name": "Ann B", "MobileNumber": "0825550101", "EmailAddress": "ann.b@example.com",
            "Notifications": ["UnassignedChatsWaiting"], "RoleID": ROLE_MANAGER, "StatusID": STATUS_BUSY,
            "DepartmentIDs": [support]}))
        assert body["Name"] == "Ann B" and body["EmailAddress"] == "ann.b@example.com"
        assert body["MobileNumber"] == "0825550101"
        assert body["Notifications"] == ["UnassignedChatsWaiting"]
        assert (body["RoleID"], body["StatusID"], body["DepartmentIDs"]) == (ROLE_MANAGER, STATUS_BUSY, [support])
        assert body in all_agents(api, manager)
        api.logon("ann.b@example.com")

    def test_fields_left_out_are_kept(self, server, api, manager):
        sales = create_department(api, manager)
        agent_id = add_agent(server, name="Ann", email="ann@example.com", department_ids=(sales,))
        before = next(a for a in all_agents(api, manager) if a["AgentID"] == agent_id)
        after = api.ok(api.post("UpdateAgent", manager, {"AgentID": agent_id, "Name": "Ann B"}))
        assert after == {**before, "Name": "Ann B"}

    def test_agent_updates_own_status_and_mobile_number(self, server, api):
        agent_id = add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        body = api.ok(api.post("UpdateAgent", token, {"AgentID": agent_id, "StatusID": STATUS_BUSY,
                                                      "MobileNumber": "+27825550101"}))
        assert (body["StatusID"], body["MobileNumber"]) == (STATUS_BUSY, "+27825550101")
        assert agent_row(server, agent_id).status_id == STATUS_BUSY

    def test_agent_cannot_change_other_own_fields(self, server, api):
        agent_id = add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        for field, value in [("Name", "Queen Ann"), ("RoleID", ROLE_MANAGER), ("Enabled", False),
                             ("EmailAddress", "me@example.com"), ("DepartmentIDs", []),
                             ("Notifications", ["UnassignedChatsWaiting"])]:
            response = api.post("UpdateAgent", token, {"AgentID": agent_id, "StatusID": STATUS_BUSY, field: value})
            assert_error(response, 403, "manager_only", field)
        row = agent_row(server, agent_id)
        assert (row.name, row.role_id, row.enabled, row.status_id) == ("Ann", ROLE_AGENT, True, STATUS_ONLINE)

    def test_agent_cannot_update_another_agent(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        bo = add_agent(server, name="Bo", email="bo@example.com")
        token = api.logon("ann@example.com")
        assert_error(api.post("UpdateAgent", token, {"AgentID": bo, "StatusID": STATUS_BUSY}), 403, "manager_only")
        assert agent_row(server, bo).status_id == STATUS_OFFLINE

    def test_unknown_agent_is_404(self, server, api, manager):
        assert_error(api.post("UpdateAgent", manager, {"AgentID": 999, "Name": "X"}), 404, "agent_not_found",
                     "AgentID")
        assert_error(api.post("UpdateAgent", manager, {"AgentID": 2**40, "Name": "X"}), 422, field="AgentID")

    def test_taken_email_is_409_and_nothing_changes(self, server, api, manager):
        ann = add_agent(server, name="Ann", email="ann@example.com")
        response = api.post("UpdateAgent", manager,
                            {"AgentID": ann, "Name": "Ann B", "EmailAddress": "MIA@example.com"})
        assert_error(response, 409, "email_in_use", "EmailAddress")
        assert (agent_row(server, ann).name, agent_row(server, ann).email_address) == ("Ann", "ann@example.com")

    def test_unknown_department_is_404_and_nothing_changes(self, server, api, manager):
        sales = create_department(api, manager)
        ann = add_agent(server, name="Ann", email="ann@example.com", department_ids=(sales,))
        response = api.post("UpdateAgent", manager, {"AgentID": ann, "Name": "Ann B", "DepartmentIDs": [sales, 999]})
        assert_error(response, 404, "department_not_found", "DepartmentIDs")
        assert (agent_row(server, ann).name, agent_row(server, ann).department_ids) == ("Ann", [sales])

    def test_bad_values_are_422(self, server, api, manager):
        ann = add_agent(server, name="Ann", email="ann@example.com")
        for field, value in [("StatusID", 5), ("StatusID", "Online"), ("RoleID", 0), ("Notifications.0", ["Spam"]),
                             ("Enabled", "maybe"), ("Name", "x" * 101), ("MobileNumber", "1" * 30)]:
            key = field.split(".")[0]
            assert_error(api.post("UpdateAgent", manager, {"AgentID": ann, key: value}), 422, field=field)
        assert agent_row(server, ann).name == "Ann"

    def test_last_active_manager_cannot_be_demoted_or_disabled(self, server, api, manager):
        mia = id_of(api, manager, "mia@example.com")
        assert_error(api.post("UpdateAgent", manager, {"AgentID": mia, "RoleID": ROLE_AGENT}), 409, "last_manager",
                     "RoleID")
        assert_error(api.post("UpdateAgent", manager, {"AgentID": mia, "Enabled": False}), 409, "last_manager",
                     "Enabled")
        row = agent_row(server, mia)
        assert (row.role_id, row.enabled) == (ROLE_MANAGER, True)

    def test_a_disabled_manager_does_not_count(self, server, api, manager):
        mia = id_of(api, manager, "mia@example.com")
        mo = add_agent(server, name="Mo", email="mo@example.com", role_id=ROLE_MANAGER)
        api.ok(api.post("UpdateAgent", manager, {"AgentID": mo, "Enabled": False}))
        assert_error(api.post("UpdateAgent", manager, {"AgentID": mia, "RoleID": ROLE_AGENT}), 409, "last_manager")

    def test_a_manager_can_step_down_when_another_remains(self, server, api, manager):
        mia = id_of(api, manager, "mia@example.com")
        add_agent(server, name="Mo", email="mo@example.com", role_id=ROLE_MANAGER)
        body = api.ok(api.post("UpdateAgent", manager, {"AgentID": mia, "RoleID": ROLE_AGENT}))
        assert body["RoleID"] == ROLE_AGENT
        # The role is read on every call: the same session is now an Agent's.
        assert_error(api.post("CreateDepartment", manager, {"Name": "Sales"}), 403, "manager_only")
        token = api.logon("mo@example.com")
        mo = id_of(api, token, "mo@example.com")
        assert_error(api.post("UpdateAgent", token, {"AgentID": mo, "Enabled": False}), 409, "last_manager")

    def test_disabling_revokes_sessions_and_logon(self, server, api, manager):
        ann = add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        body = api.ok(api.post("UpdateAgent", manager, {"AgentID": ann, "Enabled": False}))
        assert (body["Enabled"], body["StatusID"]) == (False, STATUS_OFFLINE)
        assert_error(api.get("KeepAlive", token), 401, "session_invalid")
        assert_error(api.post("AgentLogon", json={"EmailAddress": "ann@example.com", "Password": PASSWORD}), 401)
        api.ok(api.post("UpdateAgent", manager, {"AgentID": ann, "Enabled": True}))
        api.logon("ann@example.com")


class TestGetAgents:
    def test_lists_with_filters_and_pages(self, server, api, manager):
        sales, support = create_department(api, manager, "Sales"), create_department(api, manager, "Support")
        ids = [add_agent(server, name=f"Agent {n}", email=f"a{n}@example.com",
                         department_ids=(sales,) if n % 2 else (support,)) for n in range(5)]
        everyone = api.ok(api.get("GetAgents", manager))
        assert (everyone["Page"], everyone["PageSize"], everyone["Total"]) == (1, 50, 6)
        assert [a["AgentID"] for a in everyone["Items"]][1:] == ids
        in_sales = api.ok(api.get("GetAgents", manager, {"DepartmentID": sales}))
        assert [a["AgentID"] for a in in_sales["Items"]] == [ids[1], ids[3]] and in_sales["Total"] == 2
        online = api.ok(api.get("GetAgents", manager, {"StatusID": STATUS_ONLINE}))
        assert [a["EmailAddress"] for a in online["Items"]] == ["mia@example.com"]
        both = api.ok(api.get("GetAgents", manager, {"DepartmentID": support, "StatusID": STATUS_OFFLINE}))
        assert [a["AgentID"] for a in both["Items"]] == [ids[0], ids[2], ids[4]]
        page = api.ok(api.get("GetAgents", manager, {"Page": 2, "PageSize": 4}))
        assert (page["Page"], page["PageSize"], page["Total"]) == (2, 4, 6)
        assert [a["AgentID"] for a in page["Items"]] == ids[3:]
        beyond = api.ok(api.get("GetAgents", manager, {"Page": 9, "PageSize": 4}))
        assert (beyond["Items"], beyond["Total"]) == ([], 6)

    def test_an_agent_may_list(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        assert api.ok(api.get("GetAgents", token))["Total"] == 1

    def test_bad_filters_are_422(self, server, api, manager):
        for params, field in [({"Page": 0}, "Page"), ({"PageSize": 201}, "PageSize"), ({"PageSize": 0}, "PageSize"),
                              ({"StatusID": 9}, "StatusID"), ({"DepartmentID": "sales"}, "DepartmentID"),
                              ({"DepartmentID": 2**40}, "DepartmentID")]:
            assert_error(api.get("GetAgents", manager, params), 422, field=field)
