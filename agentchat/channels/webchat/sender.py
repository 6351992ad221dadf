"""WebChatSender: outbound messages (bot, agent, system) pushed to the visitor's open sockets, on any instance."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat.channels.outbound import DeliveryResult, Outgoing
from agentchat.channels.webchat import service as webchat
from agentchat.channels.webchat.hub import push_to_visitor
from agentchat.channels.webchat.schemas import VisitorMessageOut
from agentchat.chats.models import SENT
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

    def __init__(self, broker: Broker, sessionmaker: async_sessionmaker[AsyncSession]):
        self.broker = broker
        self.sessionmaker = sessionmaker

    async def send(self, item: Outgoing) -> DeliveryResult:
        async with self.sessionmaker() as db:
            found = await webchat.visitor_message(db, item.message_id)
        if found is not None:  # None: erased meanwhile, nothing left to show
            await push_to_visitor(self.broker, item.customer_id, message_event(VisitorMessageOut.build(*found)))
        return DeliveryResult(SENT)
