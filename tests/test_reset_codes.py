"""Reset codes and invitations die when they should (issue 17): a newer code, a new address, disabling."""

from conftest import PASSWORD, add_agent, assert_error, reset_code

from agentchat.agents.models import ROLE_MANAGER


def request_code(api, mailbox, email, count=1):
    api.ok(api.get("RequestPasswordReset", params={"EmailAddress": email}))
    return reset_code(mailbox.wait_for(email, count=count)[-1])


def set_password(api, code, password="a new password"):
    return api.post("SetPassword", json={"ResetCode": code, "Password": password})


def update(api, token, agent_id, **fields):
    return api.ok(api.post("UpdateAgent", token, json={"AgentID": agent_id, **fields}))


class TestCodesRevoked:
    def test_a_corrected_address_kills_the_mistyped_invitation_and_invites_the_new_one(self, server, api, manager,
                                                                                       mailbox):
        created = api.ok(api.post("CreateAgent", manager, json={
            "Name": "Max", "EmailAddress": "max@exampel.com", "RoleID": ROLE_MANAGER, "DepartmentIDs": []}))
        typo_code = reset_code(mailbox.wait_for("max@exampel.com")[-1])
        update(api, manager, created["AgentID"], EmailAddress="max@example.com")
        assert_error(set_password(api, typo_code, "taken over!"), 401, "reset_code_invalid", "ResetCode")
        right_code = reset_code(mailbox.wait_for("max@example.com")[-1])
        api.ok(set_password(api, right_code))
        assert api.logon("max@example.com", "a new password")
        assert len(mailbox.to("max@exampel.com")) == 1

    def test_changing_the_address_kills_a_reset_code(self, server, api, manager, mailbox):
        ann = add_agent(server, name="Ann", email="ann@example.com")
        code = request_code(api, mailbox, "ann@example.com")
        update(api, manager, ann, EmailAddress="ann@example.org")
        assert_error(set_password(api, code), 401, "reset_code_invalid")
        # Her password is hers still: no invitation is needed, none is sent.
        assert api.logon("ann@example.org", PASSWORD)
        assert mailbox.to("ann@example.org") == []

    def test_an_unchanged_address_keeps_the_code(self, server, api, manager, mailbox):
        ann = add_agent(server, name="Ann", email="ann@example.com")
        code = request_code(api, mailbox, "ann@example.com")
        update(api, manager, ann, EmailAddress="Ann@Example.com", Name="Ann B")
        api.ok(set_password(api, code))

    def test_disabling_kills_codes_for_good(self, server, api, manager, mailbox):
        ann = add_agent(server, name="Ann", email="ann@example.com")
        code = request_code(api, mailbox, "ann@example.com")
        update(api, manager, ann, Enabled=False)
        update(api, manager, ann, Enabled=True)
        assert_error(set_password(api, code), 401, "reset_code_invalid")
        assert api.logon("ann@example.com", PASSWORD)

    def test_a_newer_code_kills_the_older_ones(self, server, api, mailbox):
        add_agent(server, name="Ann", email="ann@example.com")
        first = request_code(api, mailbox, "ann@example.com")
        second = request_code(api, mailbox, "ann@example.com", count=2)
        assert_error(set_password(api, first), 401, "reset_code_invalid")
        api.ok(set_password(api, second))
