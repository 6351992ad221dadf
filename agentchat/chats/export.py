"""ExportChat: a chat's messages as CSV, streamed in batches.

Each batch is read in its own short transaction, so a slow download never holds a database connection
(on SQLite there is only one). UTF-8 without a byte-order mark: CSV parsers read it as is; the header
is exactly the contract's.
"""

import csv
import io
from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentchat.agents.models import Agent
from agentchat.chats.models import SENDER_AGENT, SENDER_CUSTOMER, SENDER_NOTE, Chat, Message
from agentchat.contract import format_time
from agentchat.customers.models import Customer
from agentchat.spreadsheet import safe_cell

HEADER = ("MessageID", "CreatedAt", "SenderType", "SenderName", "Text", "FileName", "DeliveryStatus")
BATCH = 500


def file_name(chat_id: int) -> str:
    return f"chat-{chat_id}.csv"


async def _batch(db: AsyncSession, chat_id: int, after_id: int) -> list[tuple]:
    query = (select(Message.id, Message.created_at, Message.sender_type, Message.text, Message.file_name,
                    Message.delivery_status, Agent.name, Customer.name)
             .join(Chat, Chat.id == Message.chat_id)
             .join(Customer, Customer.id == Chat.customer_id)
             .outerjoin(Agent, Agent.id == Message.agent_id)
             .where(Message.chat_id == chat_id, Message.id > after_id)
             .order_by(Message.id).limit(BATCH))
    return list((await db.execute(query)).all())


def _sender_name(sender_type: str, agent_name: str | None, customer_name: str | None) -> str:
    if sender_type in (SENDER_AGENT, SENDER_NOTE):
        return agent_name or ""
    if sender_type == SENDER_CUSTOMER:
        return customer_name or ""
    return sender_type


async def chat_csv(sessionmaker: async_sessionmaker[AsyncSession], chat_id: int) -> AsyncIterator[bytes]:
    """The CSV, a batch of rows per chunk. The caller has already checked the chat is visible."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    last_id = 0
    while True:
        async with sessionmaker() as db:
            rows = await _batch(db, chat_id, last_id)
        for message_id, created_at, sender_type, text, name, status, agent_name, customer_name in rows:
            # Customers choose their names, texts and file names: none may run as a spreadsheet formula.
            writer.writerow((message_id, format_time(created_at), sender_type,
                             safe_cell(_sender_name(sender_type, agent_name, customer_name)), safe_cell(text or ""),
                             safe_cell(name or ""), status or ""))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < BATCH:
            return
        last_id = rows[-1][0]
