"""Reset codes and invitations (issue 17): they die with a newer code, a new address, disabling; asking for one
tells nothing about who is registered, and is limited per client IP."""

import httpx
from conftest import PASSWORD, add_agent, assert_error, reset_code
from sqlalchemy import text

from agentchat.agents.models import ROLE_MANAGER
from agentchat.channels.setup import RESET_REQUESTS_PER_IP


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


class HeldDatabase:
    """The agents out of the app's reach: on SQLite its only connection is taken, on PostgreSQL the agent table
    is locked, until release()."""

    def __init__(self, server):
        self.server = server
        self.connection = server.run(self._hold())

    async def _hold(self):
        connection = await self.server.app.state.engine.connect()
        if connection.dialect.name == "postgresql":
            await connection.begin()
            await connection.execute(text("LOCK TABLE agent IN ACCESS EXCLUSIVE MODE"))
        return connection

    def release(self) -> None:
        async def job():
            await self.connection.rollback()
            await self.connection.close()
        self.server.run(job())


class TestRequestPasswordReset:
    def test_the_answer_does_not_wait_for_the_lookup_and_the_mail_still_comes(self, server, api, mailbox):
        add_agent(server, name="Ann", email="ann@example.com")
        held = HeldDatabase(server)
        try:
            # Answered while the address cannot even be looked up: its time cannot depend on the lookup.
            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                known, unknown = (client.get("/api/RequestPasswordReset", params={"EmailAddress": address})
                                  for address in ("ann@example.com", "nobody@example.com"))
        finally:
            held.release()
        assert known.status_code == unknown.status_code == 200
        assert known.content == unknown.content == b'{"Requested":true}'
        assert {k: v for k, v in known.headers.items() if k != "date"} == {
            k: v for k, v in unknown.headers.items() if k != "date"}
        code = reset_code(mailbox.wait_for("ann@example.com")[-1])
        api.ok(set_password(api, code))
        assert mailbox.to("nobody@example.com") == []

    def test_requests_are_limited_per_client_ip(self, server, api, mailbox):
        add_agent(server, name="Ann", email="ann@example.com")
        addresses = ["ann@example.com", "nobody@example.com", "not an address"]
        for number in range(RESET_REQUESTS_PER_IP):
            api.ok(api.get("RequestPasswordReset", params={"EmailAddress": addresses[number % 3]}))
        for address in addresses:
            refused = api.get("RequestPasswordReset", params={"EmailAddress": address})
            assert_error(refused, 429, "too_many_attempts")
            assert int(refused.headers["Retry-After"]) >= 1
        mailbox.wait_for("ann@example.com", count=3)
