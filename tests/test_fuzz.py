"""Fuzzing: schemathesis against the served /openapi.json of the live server, with a valid Manager session.

Every operation gets a small, bounded number of generated requests (valid and invalid ones). Checks:
no 5xx, and every response conforms to the served schema — status code declared, content type declared,
body matching the schema (the 200 model, or the error envelope declared as `4XX` on every operation by
`contract.declare_error_responses`).

Bounded on purpose (CI): one backend (PostgreSQL when it is in the run, it is the stricter one about
integer ranges, NUL characters and text lengths), AGENTCHAT_FUZZ_EXAMPLES generated cases per operation
(default 12), no shrinking. A failure prints a reproducible curl command.
"""

import os

import httpx
import pytest
import schemathesis
from conftest import BACKENDS, add_agent
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from agentchat.agents.models import ROLE_MANAGER

FUZZ_BACKEND = "postgresql" if "postgresql" in BACKENDS else BACKENDS[0]
EXAMPLES = int(os.environ.get("AGENTCHAT_FUZZ_EXAMPLES", "12"))
# AgentLogoff would end the very session the fuzzer runs with; it is covered by tests/test_auth.py.
SKIPPED_OPERATIONS = {"/api/AgentLogoff"}

CALLS = []
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


class ManagerSession:
    """A valid Manager token; a fresh Manager if a fuzzed call disabled or demoted the current one."""

    def __init__(self, server):
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=30)
        self.count = 0
        self.token = self._new()

    def _new(self) -> str:
        self.count += 1
        email = f"fuzz.manager.{self.count}@example.com"
        add_agent(self.server, name=f"Fuzz Manager {self.count}", email=email, role_id=ROLE_MANAGER)
        response = self.http.post("/api/AgentLogon", json={"EmailAddress": email, "Password": "correct horse battery"})
        assert response.status_code == 200, response.text
        return response.json()["SessionToken"]

    def valid(self) -> str:
        response = self.http.get("/api/GetAgents", headers={"Authorization": f"Bearer {self.token}"})
        if response.status_code != 200:
            self.token = self._new()
        return self.token


@pytest.fixture
def served_schema(server):
    if (server.settings.is_sqlite and FUZZ_BACKEND != "sqlite") or \
            (not server.settings.is_sqlite and FUZZ_BACKEND == "sqlite"):
        pytest.skip(f"the fuzzer runs on one backend ({FUZZ_BACKEND})")
    return schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")


@pytest.fixture
def manager_session(server):
    session = ManagerSession(server)
    yield session
    session.http.close()


def test_no_server_errors_and_responses_match_the_schema(served_schema, server, manager_session):
    # The schemathesis pytest plugin's lazy loader does not run under pytest 9, so this drives its Python API:
    # one Hypothesis test per operation, failures collected so one run reports every broken operation.
    failures: list[str] = []
    operations = 0
    for result in served_schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIPPED_OPERATIONS:
            continue
        operations += 1

        @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                              operation.as_strategy(GenerationMode.NEGATIVE)))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def fuzz(case):
            # The session goes in the header; a generated SessionToken query parameter would override it.
            if case.query:
                case.query.pop("SessionToken", None)
            if case.headers:
                case.headers.pop("authorization", None)
            token = manager_session.valid()
            CALLS.append(case.operation.path)
            case.call_and_validate(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"},
                                   checks=CHECKS, timeout=30)

        try:
            fuzz()
        except Exception as exc:  # noqa: BLE001 (every failing operation is reported together)
            failures.append(f"{operation.method.upper()} {operation.path}:\n{exc}")
    assert operations > 40 and len(CALLS) >= operations, f"only {operations} operations in the served schema"
    assert not failures, "\n\n".join(failures)
