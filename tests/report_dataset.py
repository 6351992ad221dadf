"""The previous month's chats for the report-file tests: 56 agents and departments with long names, written in one
transaction through the ORM (the metrics only read the chats' events and messages, so these are what a month of
real chats leaves behind: queued, grabbed, answered, closed; some abandoned, some missed)."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from agentchat.agents.models import STATUS_OFFLINE, STATUS_ONLINE, Agent, AgentDepartment
from agentchat.agents.status_history import AgentStatusEvent
from agentchat.chats.models import (
    ASSIGNED,
    BOT,
    CLOSED,
    SENDER_AGENT,
    SENDER_BOT,
    SENDER_CUSTOMER,
    UNASSIGNED,
    WHATSAPP,
    Chat,
    ChatEvent,
    ChatTag,
    Message,
)
from agentchat.company import service as company
from agentchat.customers.models import Customer
from agentchat.departments.models import Department
from agentchat.tags.models import Tag, TagGroup

COMPANY = "Umhlanga Rocks Customer Care & Loyalty Services (Pty) Ltd"
ZONE = "Africa/Johannesburg"
# The company's previous calendar month (a monthly schedule's period when sent now).
LAST_DAY = datetime.now(ZoneInfo(ZONE)).date().replace(day=1) - timedelta(days=1)
FIRST_DAY = LAST_DAY.replace(day=1)
AGENTS = 56
CHATS_PER_DAY = 9
DEPARTMENTS = ("Sales", "Customer Retention and Loyalty Programme Escalations", "Technical Support (Fibre & LTE)",
               "Billing, Refunds and Account Queries")
TAGS = ("Order", "Refund requested after delivery", "Complaint escalated to the retention team", "Fibre outage")
LONG_NAME = "Nomvulamakhosazana Thandiwe Mkhize-van der Westhuizen"


@dataclass
class Month:
    agent_ids: list[int]
    chats: int


def _agent_name(n: int) -> str:
    return f"{LONG_NAME} {n:02d}" if n % 7 == 0 else f"Agent {n:02d} {('Sipho', 'Ayesha', 'Pieter', 'Zanele')[n % 4]}"


async def build_month(db) -> Month:
    """Every day of the previous month (company time zone UTC+2): about CHATS_PER_DAY chats between 08:00 and
    17:00 on weekdays, fewer at weekends."""
    rng = random.Random(24)
    await company.update_settings(db, [{"CompanyName": COMPANY}, {"TimeZone": ZONE}])
    departments = [Department(name=name, include_in_welcome_menu=False, enabled=True, tags=[]) for name in DEPARTMENTS]
    group = TagGroup(name="Topics", enabled=True)
    db.add_all([*departments, group])
    await db.flush()
    tags = [Tag(tag_group_id=group.id, name=name, enabled=True) for name in TAGS]
    agents = [Agent(name=_agent_name(n), email_address=f"agent{n}@example.com", role_id=1, status_id=STATUS_OFFLINE,
                    notifications=[], enabled=True, password_hash="unused",
                    departments=[AgentDepartment(department_id=departments[n % len(departments)].id)])
              for n in range(AGENTS)]
    customers = [Customer(name=f"Customer {n}", phone_number=f"2783{n:07d}") for n in range(40)]
    db.add_all([*tags, *agents, *customers])
    await db.flush()
    start = datetime.combine(FIRST_DAY, datetime.min.time()) - timedelta(hours=2)  # local midnight in UTC
    days = (LAST_DAY - FIRST_DAY).days + 1
    db.add_all([AgentStatusEvent(agent_id=agent.id, status_id=status, at=start + timedelta(days=day, hours=hour))
                for agent in agents for day in range(days)
                for status, hour in ((STATUS_ONLINE, 8), (STATUS_OFFLINE, 17))])
    count = 0
    for day in range(days):
        weekend = (FIRST_DAY + timedelta(days=day)).isoweekday() > 5
        for _ in range(rng.randrange(2, 5) if weekend else rng.randrange(CHATS_PER_DAY - 3, CHATS_PER_DAY + 4)):
            created = start + timedelta(days=day, hours=8, seconds=rng.randrange(9 * 3600))
            await _chat(db, rng, created, rng.choice(customers), rng.choice(departments), rng.choice(agents), tags)
            count += 1
    await db.flush()
    return Month(agent_ids=[agent.id for agent in agents], chats=count)


async def _chat(db, rng: random.Random, created: datetime, customer, department, agent, tags) -> None:
    queued = created + timedelta(seconds=20)
    abandoned = rng.random() < 0.08
    wait = timedelta(seconds=rng.randrange(10, 1800))
    closed = queued + (timedelta(seconds=rng.randrange(30, 600)) if abandoned else wait + timedelta(minutes=20))
    chat = Chat(customer_id=customer.id, channel=WHATSAPP, status=CLOSED, department_id=department.id,
                agent_id=None if abandoned else agent.id, created_at=created, queued_at=queued,
                assigned_at=None if abandoned else queued + wait, closed_at=closed)
    db.add(chat)
    await db.flush()
    events = [ChatEvent(chat_id=chat.id, type="Queued", at=queued, department_id=department.id, from_status=BOT,
                        to_status=UNASSIGNED)]
    messages = [Message(chat_id=chat.id, sender_type=SENDER_CUSTOMER, text="Hello, my order has not arrived",
                        created_at=created),
                Message(chat_id=chat.id, sender_type=SENDER_BOT, text="Thank you, you are number 1 in the queue.",
                        created_at=queued)]
    last = UNASSIGNED
    if not abandoned:
        assigned = queued + wait
        events.append(ChatEvent(chat_id=chat.id, type="Grabbed", at=assigned, department_id=department.id,
                                agent_id=agent.id, actor_agent_id=agent.id, from_status=UNASSIGNED,
                                to_status=ASSIGNED))
        last = ASSIGNED
        if rng.random() > 0.05:  # else missed: closed without an agent's message
            answer = "Sorry to hear that. " * rng.randrange(1, 12) + "Let me look it up for you right away."
            messages.append(Message(chat_id=chat.id, sender_type=SENDER_AGENT, agent_id=agent.id, text=answer,
                                    created_at=assigned + timedelta(seconds=rng.randrange(5, 300))))
    events.append(ChatEvent(chat_id=chat.id, type="Closed", at=closed, department_id=department.id,
                            from_status=last, to_status=CLOSED))
    db.add_all([*events, *messages])
    if rng.random() < 0.6:
        db.add(ChatTag(chat_id=chat.id, tag_id=rng.choice(tags).id, added_at=closed))
