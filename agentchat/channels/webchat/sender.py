"""WebChatSender: outbound messages (bot, agent, system) pushed to the visitor's open sockets."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat.channels.outbound import DeliveryResult, Outgoing
from agentchat.channels.webchat import service as webchat
from agentchat.channels.webchat.hub import VisitorHub
from agentchat.channels.webchat.schemas import VisitorMessageOut
from agentchat.chats.models import DELIVERED, SENT


def message_event(out: VisitorMessageOut) -> dict:
    return {"Type": "Message", "Message": out.wire()}


class WebChatSender:
    """Delivered when at least one of the visitor's sockets took the message; otherwise Sent: it is stored,
    and the page fetches it (GET /webchat/messages?After=…) when the visitor comes back."""

    def __init__(self, hub: VisitorHub, sessionmaker: async_sessionmaker[AsyncSession]):
        self.hub = hub
        self.sessionmaker = sessionmaker

    async def send(self, item: Outgoing) -> DeliveryResult:
        if not self.hub.is_connected(item.customer_id):
            return DeliveryResult(SENT)
        async with self.sessionmaker() as db:
            found = await webchat.visitor_message(db, item.message_id)
        if found is None:  # erased meanwhile: nothing left to show
            return DeliveryResult(SENT)
        taken = await self.hub.push(item.customer_id, message_event(VisitorMessageOut.build(*found)))
        return DeliveryResult(DELIVERED if taken else SENT)
