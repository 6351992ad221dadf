"""The rules of chats, each written once: what a caller may see, which queues they take from, who may write to a
chat now, and WhatsApp's 24-hour window.

Each rule is a SQLAlchemy expression over its inputs. The ORM services (service.py) call them with the Chat columns
and the caller's values; the fast paths (fastpath.py) compile them once per dialect, at import, with their own
columns (a CTE's) and parameters (`$n`) as inputs, so a request pays nothing for it (`sql`). Where a refusal must say
which rule failed, the same rule is written beside it in Python (check_can_act, window_open), and
tests/test_hot_parity.py holds the two readings equal on both databases.
"""

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, and_, false, literal, literal_column, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ClauseElement

from agentchat import clock
from agentchat.agents.models import ROLE_MANAGER, AgentDepartment
from agentchat.chats.models import ASSIGNED, BOT, CLOSED, UNASSIGNED, WHATSAPP, Chat
from agentchat.contract import Conflict
from agentchat.security import Caller

# WhatsApp's customer-service window: free-form messages only within 24 hours of the customer's last one, by
# Meta's timestamp of it (chat.last_customer_message_at, set by service.add_message).
WHATSAPP_WINDOW = timedelta(hours=24)

Who = tuple[ColumnElement, ColumnElement[bool]]  # the caller's agent ID and whether they are a Manager


def caller_is(caller: Caller) -> Who:
    """The ORM's caller: their ID as a bound value, their role known now (so a Manager's rules fold to TRUE)."""
    return literal(caller.agent_id), true() if caller.is_manager else false()


def session_caller() -> Who:
    """The fast path's caller, from the session CTE `s` (security.PresentedSession), known only inside the
    statement. Scalar subqueries run once per statement (init plans): a correlated `s.agent_id` made the department
    list a lookup per scanned chat (55 ms for a GrabChat over 6,000 queued chats)."""
    return literal_column("(SELECT agent_id FROM s)"), literal_column("(SELECT role_id FROM s)") == ROLE_MANAGER


def departments_of(agent_id: ColumnElement):
    return select(AgentDepartment.department_id).where(AgentDepartment.agent_id == agent_id)


def visible(who: Who, department_id=Chat.department_id, agent_id=Chat.agent_id) -> ColumnElement[bool]:
    """Managers see every chat; agents the chats of their departments and the chats assigned to them."""
    me, manager = who
    return or_(manager, department_id.in_(departments_of(me)), agent_id == me)


def in_queues(who: Who, department_id=Chat.department_id) -> ColumnElement[bool]:
    """The queues a caller takes chats from: a Manager every department's, an agent their departments'."""
    me, manager = who
    return or_(manager, department_id.in_(departments_of(me)))


def is_queued(status=Chat.status) -> ColumnElement[bool]:
    return status == UNASSIGNED


def is_active(status=Chat.status) -> ColumnElement[bool]:
    """A chat that is not closed: a customer has at most one (uq_chat_active_customer)."""
    return status != CLOSED


def may_write(who: Who, status=Chat.status, agent_id=Chat.agent_id) -> ColumnElement[bool]:
    """Who may write to a chat (check_can_act's yes): its agent, or a Manager, while it is assigned."""
    me, manager = who
    return and_(status == ASSIGNED, or_(manager, agent_id == me))


def window_open_sql(opened_after, channel=Chat.channel,
                    last_customer_message_at=Chat.last_customer_message_at) -> ColumnElement[bool]:
    """window_open as SQL: `opened_after` is now - WHATSAPP_WINDOW (a customer message at exactly that instant still
    holds the window open)."""
    return or_(channel != WHATSAPP, last_customer_message_at >= opened_after)


class WindowFacts(Protocol):
    """What the window's rules read of a chat: a Chat, or the fast path's lighter _ChatState."""

    @property
    def channel(self) -> str: ...
    @property
    def last_customer_message_at(self) -> datetime | None: ...


def window_open(chat: WindowFacts, now: datetime | None = None) -> bool:
    """Whether a free-form message may go to the customer now: always on the web chat; on WhatsApp only within 24
    hours of the customer's last message (outside it only a template may)."""
    if chat.channel != WHATSAPP:
        return True
    closes = window_closes_at(chat)
    return closes is not None and (now or clock.now()) <= closes


def window_closes_at(chat: WindowFacts) -> datetime | None:
    """When WhatsApp stops taking free-form messages in this chat; None for other channels, and for a WhatsApp
    chat whose customer has not written (it never opened)."""
    if chat.channel != WHATSAPP or chat.last_customer_message_at is None:
        return None
    return chat.last_customer_message_at + WHATSAPP_WINDOW


def window_closed_error() -> Conflict:
    return Conflict("WhatsApp allows free-form messages only within 24 hours of the customer's last message; "
                    "send an approved template (SendTemplate) or wait for the customer to write again.",
                    code="whatsapp_24h_window", field="ChatID")


def check_can_act(caller: Caller, chat, *, manager_statuses: tuple[str, ...] = (ASSIGNED,)) -> None:
    """Agents act only on chats assigned to them; managers on any chat in `manager_statuses` (may_write's reasons)."""
    if chat.status == CLOSED:
        raise Conflict("The chat is closed.", code="chat_closed", field="ChatID")
    if caller.is_manager:
        if chat.status not in manager_statuses:
            if chat.status == BOT:
                raise Conflict("The customer is still choosing a department in the welcome menu.",
                               code="chat_with_bot", field="ChatID")
            raise Conflict("The chat is not assigned to an agent.", code="chat_not_assigned", field="ChatID")
        return
    if chat.status != ASSIGNED:
        raise Conflict("The chat is not assigned to an agent; grab it first.", code="chat_not_assigned",
                       field="ChatID")
    if chat.agent_id != caller.agent_id:
        raise Conflict("The chat is assigned to another agent; only they or a Manager may act on it.",
                       code="not_chat_agent", field="ChatID")


_DIALECTS = {True: sqlite.dialect(), False: postgresql.dialect()}


def sql(expression: ClauseElement, *, sqlite: bool) -> str:
    """An expression as SQL text for a fast path, its constants written in (status names, roles): compiled at import,
    never per request."""
    text = str(expression.compile(dialect=_DIALECTS[sqlite], compile_kwargs={"literal_binds": True}))
    return f"({text.replace(chr(10), '')})"


def value(constant: str) -> str:
    """A constant (a status, a sender, a history type) as an SQL literal, for a fast path's INSERT or list."""
    return sql(literal(constant), sqlite=False)[1:-1]


def column(name: str) -> ColumnElement:
    """A column or parameter of a fast path's own statement (`c.status`, `$5::timestamp`) as a rule's input."""
    return literal_column(name)
