"""The agent socket lives no longer than its session, holds no more than its share, and ignores odd frames."""

import json
from datetime import timedelta

import pytest
from conftest import add_agent, reset_code
from realtime_helpers import AgentSocket
from test_realtime import publish
from websockets.exceptions import ConnectionClosed

from agentchat import clock
from agentchat.agents.models import ROLE_MANAGER
from agentchat.auth import service as auth
from agentchat.events import Event
from agentchat.jobs import sweep_presence


def session_id_of(server, token: str) -> int:
    from agentchat.security import authenticate

    async def work():
        async with server.app.state.raw.connect() as raw:
            return (await authenticate(raw, token, idle=timedelta(minutes=30))).session_id
    return server.run(work())


def assert_ended(socket: AgentSocket, session_id: int) -> None:
    """The socket hears SessionEnded naming its session, then is closed with 4401 (log on again)."""
    ended = socket.wait_for("SessionEnded")
    assert session_id in ended["Data"]["SessionIDs"], ended
    with pytest.raises(ConnectionClosed) as closed:
        socket.drain(quiet=3)
    assert closed.value.rcvd.code == 4401


class TestTheSessionEndsItsSockets:
    def test_idle_expiry_closes_the_socket(self, server, api, manager):
        add_agent(server, name="Sam")
        token = api.logon("sam@example.com")
        session_id = session_id_of(server, token)
        with AgentSocket(server, token) as socket:
            clock.travel(timedelta(minutes=server.settings.session_idle_minutes + 1))
            server.run(sweep_presence(server.app))
            assert_ended(socket, session_id)

    def test_a_live_session_keeps_its_socket_through_the_sweep(self, server, api, manager):
        add_agent(server, name="Sam")
        with AgentSocket(server, api.logon("sam@example.com")) as socket:
            server.run(sweep_presence(server.app))
            publish(server, Event("Still", {}, everyone=True))
            assert socket.wait_for("Still")

    def test_logging_off(self, server, api, manager):
        add_agent(server, name="Sam")
        token = api.logon("sam@example.com")
        session_id = session_id_of(server, token)
        other = api.logon("sam@example.com")
        with AgentSocket(server, token) as socket, AgentSocket(server, other) as other_socket:
            api.ok(api.get("AgentLogoff", token))
            assert_ended(socket, session_id)
            # The agent's other session keeps its socket.
            publish(server, Event("Still", {}, everyone=True))
            assert other_socket.wait_for("Still")

    def test_setting_a_new_password(self, server, api, manager, mailbox):
        add_agent(server, name="Sam")
        token = api.logon("sam@example.com")
        session_id = session_id_of(server, token)
        with AgentSocket(server, token) as socket:
            api.ok(api.get("RequestPasswordReset", params={"EmailAddress": "sam@example.com"}))
            code = reset_code(mailbox.wait_for("sam@example.com")[0])
            api.ok(api.post("SetPassword", json={"ResetCode": code, "Password": "a brand new secret"}))
            assert_ended(socket, session_id)

    def test_being_disabled(self, server, api, manager):
        sam = add_agent(server, name="Sam")
        token = api.logon("sam@example.com")
        session_id = session_id_of(server, token)
        with AgentSocket(server, token) as socket:
            api.ok(api.post("UpdateAgent", manager, {"AgentID": sam, "Enabled": False}))
            assert_ended(socket, session_id)

    def test_a_revocation_no_event_announced_is_found_by_the_sweep(self, server, api, manager):
        """create-manager revokes in another process, whose events no instance hears (memory://)."""
        sam = add_agent(server, name="Sam")
        token = api.logon("sam@example.com")
        session_id = session_id_of(server, token)
        with AgentSocket(server, token) as socket:
            async def revoke_silently(db):
                await auth.revoke_sessions(db, agent_id=sam)
                db.info.pop("events", None)
            server.with_db(revoke_silently)
            server.run(sweep_presence(server.app))
            assert_ended(socket, session_id)

    def test_a_demoted_manager_stops_hearing_other_departments(self, server, api, manager):
        sales = api.ok(api.post("CreateDepartment", manager, {"Name": "Sales"}))["DepartmentID"]
        support = api.ok(api.post("CreateDepartment", manager, {"Name": "Support"}))["DepartmentID"]
        max_id = add_agent(server, name="Max", role_id=ROLE_MANAGER, department_ids=(sales,))
        with AgentSocket(server, api.logon("max@example.com")) as socket:
            publish(server, Event("ChatQueued", {"ChatID": 1}, department_ids=(support,)))
            assert socket.wait_for("ChatQueued")["Data"] == {"ChatID": 1}
            api.ok(api.post("UpdateAgent", manager, {"AgentID": max_id, "RoleID": 1}))
            socket.wait_for("AgentUpdated", AgentID=max_id)
            publish(server, Event("ChatQueued", {"ChatID": 2}, department_ids=(support,)),
                    Event("ChatQueued", {"ChatID": 3}, department_ids=(sales,)))
            assert [e["Data"] for e in socket.drain() if e["Type"] == "ChatQueued"] == [{"ChatID": 3}]


class TestClientFrames:
    @pytest.mark.parametrize("frame", [b"\x00\x01binary", "not json", "[1, 2]", "{\"Type\":", "[" * 100_000,
                                       json.dumps({"Type": "Typing", "ChatID": True}), "{}"])
    def test_frames_that_mean_nothing_are_ignored_and_the_socket_stays_open(self, server, api, manager, frame):
        with AgentSocket(server, manager) as socket:
            socket.ws.send(frame)
            socket.ws.send(json.dumps({"Type": "Ping"}))
            assert socket.next()["Type"] == "Pong"


class TestSocketsPerSession:
    def test_one_more_than_allowed_closes_the_sessions_oldest(self, server, api, manager):
        limit = server.settings.max_sockets_per_session
        assert limit == 10
        sockets = [AgentSocket(server, manager) for _ in range(limit)]
        other_session = AgentSocket(server, api.logon("mia@example.com"))
        try:
            newest = AgentSocket(server, manager)
            sockets.append(newest)
            with pytest.raises(ConnectionClosed) as closed:
                sockets[0].drain(quiet=3)
            assert closed.value.rcvd.code == 1008
            publish(server, Event("Still", {}, everyone=True))
            for socket in (*sockets[1:], other_session):
                assert socket.wait_for("Still")
        finally:
            for socket in (*sockets, other_session):
                socket.close()
