"""Authentication: logon, throttling, sessions, logoff, password reset and SetPassword."""

from datetime import timedelta

from conftest import PASSWORD, add_agent, agent_row, assert_error, parse_time, reset_code

from agentchat import clock
from agentchat.agents.models import ROLE_MANAGER, STATUS_OFFLINE, STATUS_ONLINE, Agent
from agentchat.db import drain_background


def logon(api, email, password=PASSWORD, **kwargs):
    return api.post("AgentLogon", json={"EmailAddress": email, "Password": password}, **kwargs)


def disable(server, agent_id):
    async def work(db):
        (await db.get(Agent, agent_id)).enabled = False
    server.with_db(work)


class TestAgentLogon:
    def test_logon_returns_a_session_and_sets_the_agent_online(self, server, api):
        agent_id = add_agent(server, name="Ann", email="ann@example.com")
        body = api.ok(logon(api, "ann@example.com"))
        assert len(body["SessionToken"]) == 32 and int(body["SessionToken"], 16) >= 0
        assert body["SessionToken"] == body["SessionToken"].lower()
        expires = parse_time(body["ExpiresAt"])
        idle = timedelta(minutes=server.settings.session_idle_minutes)
        assert abs(expires - (clock.now() + idle)) < timedelta(minutes=1)
        assert body["Agent"]["AgentID"] == agent_id
        assert body["Agent"]["StatusID"] == STATUS_ONLINE
        assert "PasswordHash" not in body["Agent"]
        assert agent_row(server, agent_id).status_id == STATUS_ONLINE
        assert api.ok(api.get("GetAgents", body["SessionToken"]))["Total"] == 1

    def test_email_address_is_not_case_sensitive(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        api.ok(logon(api, "  Ann@Example.COM "))

    def test_each_logon_gets_its_own_token(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        first, second = api.logon("ann@example.com"), api.logon("ann@example.com")
        assert first != second
        api.ok(api.get("KeepAlive", first))
        api.ok(api.get("KeepAlive", second))

    def test_wrong_password_is_401_invalid_credentials(self, server, api):
        agent_id = add_agent(server, name="Ann", email="ann@example.com")
        assert_error(logon(api, "ann@example.com", "wrong password"), 401, "invalid_credentials")
        assert agent_row(server, agent_id).status_id == STATUS_OFFLINE

    def test_unknown_address_gets_the_same_answer_as_a_wrong_password(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        wrong = logon(api, "ann@example.com", "wrong password")
        unknown = logon(api, "nobody@example.com", "wrong password")
        assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())

    def test_password_is_taken_exactly_as_typed(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com", password="  spaced out  ")
        assert_error(logon(api, "ann@example.com", "spaced out"), 401, "invalid_credentials")
        api.ok(logon(api, "ann@example.com", "  spaced out  "))

    def test_disabled_agent_cannot_log_on(self, server, api):
        agent_id = add_agent(server, name="Ann", email="ann@example.com")
        disable(server, agent_id)
        assert_error(logon(api, "ann@example.com"), 401, "invalid_credentials")

    def test_invited_agent_without_a_password_cannot_log_on(self, server, api, manager, mailbox):
        api.ok(api.post("CreateAgent", manager, {"Name": "Bo", "EmailAddress": "bo@example.com",
                                                 "RoleID": 1, "DepartmentIDs": []}))
        assert_error(logon(api, "bo@example.com", ""), 401, "invalid_credentials")

    def test_missing_and_malformed_fields_are_422(self, server, api):
        assert_error(api.post("AgentLogon", json={"EmailAddress": "ann@example.com"}), 422, "missing_field",
                     "Password")
        assert_error(logon(api, "not-an-address"), 422, field="EmailAddress")
        assert_error(logon(api, "ann@example.com", "x" * 1025), 422, field="Password")
        assert_error(api.post("AgentLogon", json={"EmailAddress": "a@example.com", "Password": 5}), 422,
                     field="Password")

    def test_the_version_parameter_is_accepted(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        api.ok(logon(api, "ann@example.com", params={"Version": "1"}))


class TestLogonThrottle:
    def test_five_failures_for_an_address_lock_it_with_retry_after(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        for _ in range(server.settings.logon_max_failures):
            assert_error(logon(api, "ann@example.com", "guess"), 401, "invalid_credentials")
        # Even the right password is refused while the address is locked.
        response = logon(api, "ann@example.com")
        assert_error(response, 429, "too_many_attempts")
        retry_after = int(response.headers["Retry-After"])
        assert 1 <= retry_after <= server.settings.logon_window_seconds

    def test_the_lock_lifts_after_the_window(self, server, api):
        agent_id = add_agent(server, name="Ann", email="ann@example.com")
        for _ in range(server.settings.logon_max_failures):
            logon(api, "ann@example.com", "guess")
        assert logon(api, "ann@example.com").status_code == 429
        clock.travel(timedelta(seconds=server.settings.logon_window_seconds + 1))
        body = api.ok(logon(api, "ann@example.com"))
        assert body["Agent"]["AgentID"] == agent_id

    def test_failures_from_one_ip_across_addresses_lock_that_ip(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        for n in range(server.settings.logon_max_failures):
            assert_error(logon(api, f"guess{n}@example.com", "guess"), 401, "invalid_credentials")
        response = logon(api, "ann@example.com")
        assert_error(response, 429, "too_many_attempts")
        assert int(response.headers["Retry-After"]) >= 1

    def test_unknown_addresses_are_throttled_like_known_ones(self, server, api):
        for _ in range(server.settings.logon_max_failures):
            logon(api, "nobody@example.com", "guess")
        assert logon(api, "nobody@example.com", "guess").status_code == 429

    def test_fewer_failures_than_the_limit_do_not_lock(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        for _ in range(server.settings.logon_max_failures - 1):
            logon(api, "ann@example.com", "guess")
        api.ok(logon(api, "ann@example.com"))


class TestSessions:
    def test_session_expires_after_the_idle_time(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        clock.travel(timedelta(minutes=server.settings.session_idle_minutes, seconds=1))
        assert_error(api.get("GetAgents", token), 401, "session_invalid")

    def test_calls_extend_the_session(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        idle = server.settings.session_idle_minutes
        clock.travel(timedelta(minutes=idle - 5))
        api.ok(api.get("GetDepartments", token))
        clock.travel(timedelta(minutes=10))  # past the logon's expiry, within the extended one
        api.ok(api.get("GetDepartments", token))

    def test_token_is_accepted_as_a_bearer_header(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        api.ok(api.get("GetAgents", headers={"Authorization": f"Bearer {token}"}))
        assert_error(api.get("GetAgents", headers={"Authorization": f"Basic {token}"}), 401, "session_required")

    def test_a_disabled_agents_live_session_stops_working(self, server, api):
        agent_id = add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        disable(server, agent_id)
        assert_error(api.get("GetAgents", token), 401, "session_invalid")

    def test_garbage_and_overlong_tokens_are_401(self, server, api):
        assert_error(api.get("GetAgents", "0" * 32), 401, "session_invalid")
        assert_error(api.get("GetAgents", "x" * 500), 401, "session_invalid")
        assert_error(api.get("GetAgents", headers={"Authorization": "Bearer " + "x" * 500}), 401,
                     "session_invalid")


class TestKeepAlive:
    def test_keep_alive_pushes_the_expiry_forward(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        first = api.ok(logon(api, "ann@example.com"))
        idle = server.settings.session_idle_minutes
        clock.travel(timedelta(minutes=idle - 1))
        body = api.ok(api.get("KeepAlive", first["SessionToken"]))
        assert parse_time(body["ExpiresAt"]) > parse_time(first["ExpiresAt"]) + timedelta(minutes=idle - 2)
        clock.travel(timedelta(minutes=idle - 1))
        api.ok(api.get("KeepAlive", first["SessionToken"]))

    def test_keep_alive_needs_a_live_session(self, server, api):
        assert_error(api.get("KeepAlive"), 401, "session_required")


class TestAgentLogoff:
    def test_logoff_revokes_the_token_and_sets_the_agent_offline(self, server, api):
        agent_id = add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        assert api.ok(api.get("AgentLogoff", token)) == {"LoggedOff": True}
        assert agent_row(server, agent_id).status_id == STATUS_OFFLINE
        assert_error(api.get("KeepAlive", token), 401, "session_invalid")
        assert_error(api.get("AgentLogoff", token), 401, "session_invalid")

    def test_logoff_ends_only_that_session(self, server, api):
        add_agent(server, name="Ann", email="ann@example.com")
        phone, desk = api.logon("ann@example.com"), api.logon("ann@example.com")
        api.ok(api.get("AgentLogoff", phone))
        api.ok(api.get("KeepAlive", desk))


class TestRequestPasswordReset:
    def test_known_address_gets_a_single_use_link(self, server, api, mailbox):
        add_agent(server, name="Ann", email="ann@example.com")
        body = api.ok(api.get("RequestPasswordReset", params={"EmailAddress": "Ann@Example.com"}))
        assert body == {"Requested": True}
        (mail,) = mailbox.wait_for("ann@example.com")
        assert "http://agentchat.test/reset-password?ResetCode=" in mail.get_content()
        assert reset_code(mail)

    def test_unknown_and_malformed_addresses_get_the_same_answer(self, server, api, mailbox):
        add_agent(server, name="Ann", email="ann@example.com")
        known = api.get("RequestPasswordReset", params={"EmailAddress": "ann@example.com"})
        unknown = api.get("RequestPasswordReset", params={"EmailAddress": "nobody@example.com"})
        malformed = api.get("RequestPasswordReset", params={"EmailAddress": "nobody"})
        assert known.json() == unknown.json() == malformed.json() == {"Requested": True}
        assert known.status_code == unknown.status_code == malformed.status_code == 200
        mailbox.wait_for("ann@example.com")
        assert mailbox.to("nobody@example.com") == []

    def test_disabled_agent_gets_no_mail(self, server, api, mailbox):
        agent_id = add_agent(server, name="Ann", email="ann@example.com")
        disable(server, agent_id)
        assert api.ok(api.get("RequestPasswordReset", params={"EmailAddress": "ann@example.com"})) == {
            "Requested": True}
        # A later request for another agent proves the mail queue has run.
        add_agent(server, name="Bo", email="bo@example.com")
        api.get("RequestPasswordReset", params={"EmailAddress": "bo@example.com"})
        mailbox.wait_for("bo@example.com")
        assert mailbox.to("ann@example.com") == []

    def test_mails_per_hour_are_limited(self, server, api, mailbox):
        add_agent(server, name="Ann", email="ann@example.com")
        for _ in range(5):
            api.ok(api.get("RequestPasswordReset", params={"EmailAddress": "ann@example.com"}))
        mailbox.wait_for("ann@example.com", count=3)
        server.run(drain_background())  # the requests are served in the background: all of them, before travelling
        clock.travel(timedelta(minutes=61))
        api.ok(api.get("RequestPasswordReset", params={"EmailAddress": "ann@example.com"}))
        assert len(mailbox.wait_for("ann@example.com", count=4)) == 4

    def test_email_address_is_required(self, server, api):
        assert_error(api.get("RequestPasswordReset"), 422, "missing_field", "EmailAddress")


class TestSetPassword:
    def request_code(self, api, mailbox, email="ann@example.com"):
        api.ok(api.get("RequestPasswordReset", params={"EmailAddress": email}))
        return reset_code(mailbox.wait_for(email)[-1])

    def test_code_sets_the_password_once(self, server, api, mailbox):
        add_agent(server, name="Ann", email="ann@example.com")
        code = self.request_code(api, mailbox)
        body = {"ResetCode": code, "Password": "a new password"}
        assert api.ok(api.post("SetPassword", json=body)) == {"Updated": True}
        api.ok(logon(api, "ann@example.com", "a new password"))
        assert_error(logon(api, "ann@example.com"), 401, "invalid_credentials")
        again = api.post("SetPassword", json={"ResetCode": code, "Password": "another password"})
        assert_error(again, 401, "reset_code_invalid", "ResetCode")
        api.ok(logon(api, "ann@example.com", "a new password"))

    def test_code_expires_after_sixty_minutes(self, server, api, mailbox):
        add_agent(server, name="Ann", email="ann@example.com")
        code = self.request_code(api, mailbox)
        clock.travel(timedelta(minutes=server.settings.reset_code_minutes, seconds=1))
        response = api.post("SetPassword", json={"ResetCode": code, "Password": "a new password"})
        assert_error(response, 401, "reset_code_invalid")
        api.ok(logon(api, "ann@example.com"))

    def test_code_works_just_before_it_expires(self, server, api, mailbox):
        add_agent(server, name="Ann", email="ann@example.com")
        code = self.request_code(api, mailbox)
        clock.travel(timedelta(minutes=server.settings.reset_code_minutes - 1))
        api.ok(api.post("SetPassword", json={"ResetCode": code, "Password": "a new password"}))

    def test_setting_the_password_revokes_existing_sessions(self, server, api, mailbox):
        add_agent(server, name="Ann", email="ann@example.com")
        token = api.logon("ann@example.com")
        code = self.request_code(api, mailbox)
        api.ok(api.post("SetPassword", json={"ResetCode": code, "Password": "a new password"}))
        assert_error(api.get("KeepAlive", token), 401, "session_invalid")

    def test_a_newer_password_kills_older_codes(self, server, api, mailbox):
        add_agent(server, name="Ann", email="ann@example.com")
        first = self.request_code(api, mailbox)
        api.ok(api.get("RequestPasswordReset", params={"EmailAddress": "ann@example.com"}))
        second = reset_code(mailbox.wait_for("ann@example.com", count=2)[-1])
        api.ok(api.post("SetPassword", json={"ResetCode": second, "Password": "a new password"}))
        assert_error(api.post("SetPassword", json={"ResetCode": first, "Password": "other password"}), 401)

    def test_short_password_is_422_and_the_code_survives(self, server, api, mailbox):
        add_agent(server, name="Ann", email="ann@example.com")
        code = self.request_code(api, mailbox)
        assert_error(api.post("SetPassword", json={"ResetCode": code, "Password": "short"}), 422,
                     field="Password")
        assert_error(api.post("SetPassword", json={"ResetCode": code, "Password": "x" * 129}), 422,
                     field="Password")
        # Spaces count as typed: seven of them and a letter make eight characters.
        api.ok(api.post("SetPassword", json={"ResetCode": code, "Password": "       a"}))
        api.ok(logon(api, "ann@example.com", "       a"))

    def test_unknown_code_is_401(self, server, api):
        assert_error(api.post("SetPassword", json={"ResetCode": "nope", "Password": "a new password"}), 401,
                     "reset_code_invalid")
        assert_error(api.post("SetPassword", json={"ResetCode": "x" * 201, "Password": "a new password"}),
                     422, field="ResetCode")
        assert_error(api.post("SetPassword", json={"Password": "a new password"}), 422, "missing_field",
                     "ResetCode")

    def test_manager_can_reset_too(self, server, api, mailbox):
        add_agent(server, name="Mo", email="mo@example.com", role_id=ROLE_MANAGER)
        code = self.request_code(api, mailbox, "mo@example.com")
        api.ok(api.post("SetPassword", json={"ResetCode": code, "Password": "a new password"}))
        assert api.ok(logon(api, "mo@example.com", "a new password"))["Agent"]["RoleID"] == ROLE_MANAGER
