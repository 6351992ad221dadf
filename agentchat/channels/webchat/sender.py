"""WebChatSender: outbound messages (bot, agent, system) pushed to the visitor's open sockets, on any instance."""

import json

from agentchat import rawdb
from agentchat.channels.outbound import DeliveryResult, Outgoing
from agentchat.channels.webchat.hub import push_to_visitor
from agentchat.channels.webchat.schemas import VisitorMessageOut
from agentchat.chats.models import SENDER_AGENT, SENT, Message
from agentchat.events.broker import Broker

# Server → visitor frames besides "Message": an agent is typing in the visitor's chat.
AGENT_TYPING = {"Type": "AgentTyping"}


def message_event(out: VisitorMessageOut) -> dict:
    return {"Type": "Message", "Message": out.wire()}


async def agent_typing(broker: Broker, customer_id: int) -> None:
    """Tell the visitor's page that an agent is typing (relayed from the agent's /ws Typing frame)."""
    await push_to_visitor(broker, customer_id, AGENT_TYPING)


class WebChatSender:
    """Always Sent: the message is stored and published to whichever instance holds the visitor's sockets.
    It becomes Delivered when the page acknowledges it (a Received frame, or fetching it with GET) and Read
    when the page reports it seen (a Read frame); see service.acknowledge."""

    def __init__(self, broker: Broker, raw_connections: rawdb.RawConnections):
        self.broker = broker
        self.raw_connections = raw_connections

    async def send(self, item: Outgoing) -> DeliveryResult:
        # One raw read on a bare pool connection (no ORM session, no transaction): this runs for every message
        # an agent sends to a web chat (see ../shared/PERFORMANCE.md).
        if item.created_at is not None:  # an agent's text, described in full by the item
            out = VisitorMessageOut(message_id=item.message_id, sender_type=SENDER_AGENT, agent_name=item.agent_name,
                                    text=item.text, file=None, menu=None, created_at=item.created_at)
            await push_to_visitor(self.broker, item.customer_id, message_event(out))
            return DeliveryResult(SENT)
        async with self.raw_connections.connect() as raw:
            row = await raw.fetchrow(_VISITOR_MESSAGE, item.message_id)
        if row is not None:  # None: erased meanwhile, nothing left to show
            await push_to_visitor(self.broker, item.customer_id, message_event(_visitor_message(row)))
        return DeliveryResult(SENT)


# The message as the visitor sees it: with the name of the agent who wrote it (never the agent's ID).
_VISITOR_MESSAGE = ("SELECT m.id, m.chat_id, m.sender_type, m.agent_id, m.text, m.file_name, m.file_type, m.file_size, "
                    "m.file_key, m.created_at, m.payload, a.name FROM message m LEFT JOIN agent a ON a.id = m.agent_id "
                    "WHERE m.id = $1")


def _visitor_message(row) -> VisitorMessageOut:
    payload = json.loads(row[10]) if isinstance(row[10], str | bytes) else row[10]
    message = Message(id=row[0], chat_id=row[1], sender_type=row[2], agent_id=row[3], text=row[4], file_name=row[5],
                      file_type=row[6], file_size=row[7], file_key=row[8], created_at=rawdb.to_time(row[9]),
                      payload=payload)
    return VisitorMessageOut.build(message, row[11])
