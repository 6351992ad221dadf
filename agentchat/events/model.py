"""What an event is, and how a service records one.

Services call `emit(db, Event(...))`; `db.commit_and_publish` hands the recorded events to the broker only
after the commit succeeded, so no agent ever hears of a change that was rolled back.
"""

from dataclasses import dataclass, field
from typing import Any, Protocol

from agentchat import clock
from agentchat.contract import format_time


@dataclass
class Event:
    """One state change. Managers receive every event; agents those of their departments or naming them."""

    type: str
    data: dict[str, Any]
    department_ids: tuple[int, ...] = ()
    agent_ids: tuple[int, ...] = ()
    # Events every logged-on agent may see (e.g. a colleague's status).
    everyone: bool = False
    # Only the agents named, managers included only if named (e.g. a notification they asked for).
    private: bool = False
    at: str = field(default_factory=lambda: format_time(clock.now()))

    def envelope(self) -> dict[str, Any]:
        """The broker's form: the client's JSON plus the audience, which is stripped before sending."""
        return {
            "Type": self.type,
            "At": self.at,
            "Data": self.data,
            "Audience": {"DepartmentIDs": list(self.department_ids), "AgentIDs": list(self.agent_ids),
                         "Everyone": self.everyone, "Private": self.private},
        }


class Recorder(Protocol):
    """Where a transaction's events wait for its commit: an ORM session, or a hot path's raw connection
    (rawdb.Raw), each with an `info` dict (db.commit_and_publish, db.publish_committed)."""

    @property
    def info(self) -> dict[Any, Any]: ...


def emit(db: Recorder, event: Event) -> None:
    db.info.setdefault("events", []).append(event)


def take_events(db: Recorder) -> list[Event]:
    return db.info.pop("events", [])
