"""Customers: found or made by the channels, and kept by agents (details, comments)."""

import re
from dataclasses import dataclass

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.chats import events as chat_events
from agentchat.chats import service as chats
from agentchat.chats.models import CLOSED, Chat, ChatTag, Message
from agentchat.contract import Conflict, NotFound, Paging
from agentchat.csat.models import ChatRating
from agentchat.customers.models import Comment, Customer
from agentchat.customers.schemas import CustomerOut
from agentchat.db import after_commit
from agentchat.files.storage import FileStorage
from agentchat.security import Caller
from agentchat.tags.models import Tag


async def get_customer(db: AsyncSession, customer_id: int, *, field: str = "CustomerID") -> Customer:
    customer = await db.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"No customer has ID {customer_id}.", code="customer_not_found", field=field)
    return customer


async def customer_by_phone(db: AsyncSession, *, phone_number: str, profile_name: str | None) -> Customer:
    """The customer behind a WhatsApp number, made on first contact (name from the WhatsApp profile)."""
    found = (await db.execute(select(Customer).where(Customer.phone_number == phone_number))).scalar_one_or_none()
    if found is not None:
        if found.name is None and profile_name:
            found.name = profile_name[:100]
        return found
    customer = Customer(phone_number=phone_number, name=(profile_name or None) and profile_name[:100],
                        created_at=clock.now())
    try:
        async with db.begin_nested():
            db.add(customer)
    except IntegrityError:
        # Another delivery for the same number made the customer first.
        return (await db.execute(select(Customer).where(Customer.phone_number == phone_number))).scalar_one()
    return customer


@dataclass
class WhatsAppIdentity:
    """Who wrote, as Meta tells it: the phone number (wa_id) and/or the business-scoped user id (BSUID), which
    is all there is for a user who shows a username instead of their number."""

    wa_id: str | None
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None
    profile_name: str | None = None


async def customer_for_whatsapp(db: AsyncSession, who: WhatsAppIdentity) -> Customer:
    """The customer behind a WhatsApp user, by phone number or else by BSUID, made on first contact. A user seen
    first by one and later with both is one customer: what was missing is filled in."""
    found = await _whatsapp_customer(db, who)
    if found is None:
        customer = Customer(phone_number=who.wa_id, whatsapp_user_id=who.user_id,
                            whatsapp_parent_user_id=who.parent_user_id, whatsapp_username=who.username,
                            name=(who.profile_name or None) and who.profile_name[:100], created_at=clock.now())
        try:
            async with db.begin_nested():
                db.add(customer)
            return customer
        except IntegrityError:
            # Another delivery for the same user made the customer first.
            found = await _whatsapp_customer(db, who)
            assert found is not None
    await _fill_in(db, found, who)
    return found


async def _whatsapp_customer(db: AsyncSession, who: WhatsAppIdentity) -> Customer | None:
    if who.wa_id:
        found = (await db.execute(select(Customer).where(Customer.phone_number == who.wa_id))).scalar_one_or_none()
        if found is not None:
            return found
    if who.user_id:
        query = select(Customer).where(Customer.whatsapp_user_id == who.user_id)
        return (await db.execute(query)).scalar_one_or_none()
    return None


async def _fill_in(db: AsyncSession, customer: Customer, who: WhatsAppIdentity) -> None:
    if customer.name is None and who.profile_name:
        customer.name = who.profile_name[:100]
    if who.username and customer.whatsapp_username != who.username:
        customer.whatsapp_username = who.username  # users may change it; the latest is the one they show
    if who.parent_user_id and customer.whatsapp_parent_user_id != who.parent_user_id:
        customer.whatsapp_parent_user_id = who.parent_user_id
    if who.user_id and customer.whatsapp_user_id is None and not await _taken(db, Customer.whatsapp_user_id,
                                                                             who.user_id):
        customer.whatsapp_user_id = who.user_id
    if who.wa_id and customer.phone_number is None and not await _taken(db, Customer.phone_number, who.wa_id):
        customer.phone_number = who.wa_id


async def _taken(db: AsyncSession, column, value: str) -> bool:
    return (await db.execute(select(Customer.id).where(column == value))).first() is not None


async def change_whatsapp_number(db: AsyncSession, *, old_wa_id: str | None, new_wa_id: str | None,
                                 old_user_id: str | None = None, new_user_id: str | None = None) -> Customer | None:
    """Meta's user_changed_number / user_changed_user_id: the customer keeps their history and chats under the
    new number (or BSUID). None when we never knew them. If another customer already holds the new number (they
    wrote from it before the notice arrived), that one keeps it and this one keeps the old."""
    customer = None
    if old_wa_id:
        customer = (await db.execute(select(Customer).where(Customer.phone_number == old_wa_id))).scalar_one_or_none()
    if customer is None and old_user_id:
        query = select(Customer).where(Customer.whatsapp_user_id == old_user_id)
        customer = (await db.execute(query)).scalar_one_or_none()
    if customer is None:
        return None
    if new_wa_id and new_wa_id != customer.phone_number and not await _taken(db, Customer.phone_number, new_wa_id):
        customer.phone_number = new_wa_id
    if new_user_id and new_user_id != customer.whatsapp_user_id \
            and not await _taken(db, Customer.whatsapp_user_id, new_user_id):
        customer.whatsapp_user_id = new_user_id
    elif new_wa_id and old_user_id is None:
        # Meta gives a new number a new BSUID: the old one no longer reaches them.
        customer.whatsapp_user_id = None
    await db.flush()
    return customer


async def customer_by_visitor(db: AsyncSession, *, visitor_token_hash: bytes) -> Customer | None:
    query = select(Customer).where(Customer.visitor_token_hash == visitor_token_hash)
    return (await db.execute(query)).scalar_one_or_none()


async def create_visitor(db: AsyncSession, *, visitor_token_hash: bytes, name: str | None,
                         email_address: str | None) -> Customer:
    customer = Customer(visitor_token_hash=visitor_token_hash, name=name, email_address=email_address,
                        created_at=clock.now())
    db.add(customer)
    await db.flush()
    return customer


# ---- what agents read and keep -----------------------------------------------------------------------------

@dataclass
class CustomerView:
    customer: Customer
    comments: list[Comment]
    tag_ids: list[int]


async def view_customers(db: AsyncSession, customers: list[Customer]) -> list[CustomerView]:
    """Customers with their comments and their active chat's tags: two queries for any number of them."""
    ids = [customer.id for customer in customers]
    comments: dict[int, list[Comment]] = {customer_id: [] for customer_id in ids}
    tags: dict[int, list[int]] = {customer_id: [] for customer_id in ids}
    if ids:
        found = await db.execute(select(Comment).where(Comment.customer_id.in_(ids)).order_by(Comment.id))
        for comment in found.scalars():
            comments[comment.customer_id].append(comment)
        rows = await db.execute(
            select(Chat.customer_id, ChatTag.tag_id).join(ChatTag, ChatTag.chat_id == Chat.id)
            .where(Chat.customer_id.in_(ids), Chat.status != CLOSED).order_by(Chat.customer_id, ChatTag.tag_id))
        for customer_id, tag_id in rows:
            tags[customer_id].append(tag_id)
    return [CustomerView(customer, comments[customer.id], tags[customer.id]) for customer in customers]


async def view_customer(db: AsyncSession, customer: Customer) -> CustomerView:
    return (await view_customers(db, [customer]))[0]


def search_patterns(search: str) -> tuple[str, str | None]:
    """SearchCustomer's LIKE patterns: the search as typed (its `%`, `_` and `\\` literal, escaped with `\\`),
    and, when it holds digits among other characters, those digits alone (or None).

    Phone numbers are stored as digits only ("27821234567"), but people type "+27 82 123-4567"."""
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    digits = re.sub(r"\D", "", search)
    return f"%{escaped}%", f"%{digits}%" if digits and digits != search else None


async def search_customers(db: AsyncSession, *, search: str, paging: Paging) -> tuple[list[CustomerView], int]:
    """Partial, case-insensitive match on name, phone number, e-mail address or WhatsApp username; newest customers
    first.

    On PostgreSQL the trigram indexes of migration 0007 serve the ILIKE '%...%' (3 characters or more); the page
    reads ix_customer_created_at_id newest first and stops at the page's end. The total is capped
    (contract.COUNT_CAP): an exact count of a search as broad as "a" would read every customer. A page that is
    not full needs no count.

    The route answers with fastpath.search_customers_json (the same search, one statement); this is the ORM's
    reading of the rules, which tests/test_search_customer.py holds the fast path to.
    """
    pattern, digits = search_patterns(search)
    matches = [Customer.name.ilike(pattern, escape="\\"), Customer.phone_number.ilike(pattern, escape="\\"),
               Customer.email_address.ilike(pattern, escape="\\"),
               Customer.whatsapp_username.ilike(pattern, escape="\\")]
    if digits is not None:
        matches.append(Customer.phone_number.like(digits))
    condition = [or_(*matches), Customer.erased_at.is_(None)]
    query = (select(Customer).where(*condition).order_by(Customer.created_at.desc(), Customer.id.desc())
             .offset(paging.offset).limit(paging.page_size))
    customers = list((await db.execute(query)).scalars())
    if 0 < len(customers) < paging.page_size or (paging.offset == 0 and not customers):
        total = paging.offset + len(customers)
    else:
        matching = select(Customer.id).where(*condition).limit(paging.count_cap).subquery()
        total = (await db.execute(select(func.count()).select_from(matching))).scalar_one()
    return await view_customers(db, customers), total


async def visible_active_chat(db: AsyncSession, *, caller: Caller, customer_id: int) -> Chat:
    """The customer's active chat, which the caller must see: 404 customer_not_found for an unknown customer,
    409 no_active_chat when there is none or the caller may not see it (AddTag, AddComment, UpdateCustomer)."""
    return await _active_chat_for(db, caller, await get_customer(db, customer_id))


async def _active_chat_for(db: AsyncSession, caller: Caller, customer: Customer) -> Chat:
    query = select(Chat).where(Chat.customer_id == customer.id, Chat.status != CLOSED, chats.visible_to(caller))
    chat = (await db.execute(query)).scalar_one_or_none()
    if chat is None:
        # The same answer when the active chat exists but is another department's: nothing leaks.
        raise Conflict("The customer has no active chat that you can see.", code="no_active_chat",
                       field="CustomerID")
    return chat


def _check_not_erased(customer: Customer) -> None:
    if customer.erased_at is not None:
        raise Conflict("The customer's personal data was erased.", code="customer_erased", field="CustomerID")


async def add_comment(db: AsyncSession, *, caller: Caller, customer_id: int, text: str) -> Customer:
    customer = await get_customer(db, customer_id)
    _check_not_erased(customer)
    await _active_chat_for(db, caller, customer)
    db.add(Comment(customer_id=customer.id, agent_id=caller.agent_id, text=text, created_at=clock.now()))
    await db.flush()
    await _customer_updated(db, customer)
    return customer


async def update_customer(db: AsyncSession, *, caller: Caller, customer_id: int, name: str | None,
                          email_address: str | None, comment: str | None, tag_id: int | None) -> Customer:
    customer = await get_customer(db, customer_id)
    _check_not_erased(customer)
    chat = None
    if comment is not None or tag_id is not None:
        chat = await _active_chat_for(db, caller, customer)
    if tag_id is not None:
        tag = await db.get(Tag, tag_id)
        if tag is None:
            raise NotFound(f"No tag has ID {tag_id}.", code="tag_not_found", field="TagID")
        if not tag.enabled:
            raise Conflict("That tag is disabled.", code="tag_disabled", field="TagID")
    if name is not None:
        customer.name = name
    if email_address is not None:
        customer.email_address = email_address
    if comment is not None:
        db.add(Comment(customer_id=customer.id, agent_id=caller.agent_id, text=comment, created_at=clock.now()))
    if chat is not None and tag_id is not None:
        await _tag_chat(db, chat, tag_id, agent_id=caller.agent_id)
    await db.flush()
    await _customer_updated(db, customer)
    return customer


async def _customer_updated(db: AsyncSession, customer: Customer) -> None:
    """CustomerUpdated, with the customer as GetCustomer shows it, to those who see the active chat."""
    view = await view_customer(db, customer)
    data = CustomerOut.of(view.customer, view.comments, view.tag_ids).model_dump(by_alias=True, mode="json")
    chat_events.customer_updated(db, data, await chats.active_chat(db, customer.id))


async def _tag_chat(db: AsyncSession, chat: Chat, tag_id: int, *, agent_id: int) -> None:
    exists = select(ChatTag.tag_id).where(ChatTag.chat_id == chat.id, ChatTag.tag_id == tag_id)
    if (await db.execute(exists)).first() is not None:
        return
    try:
        async with db.begin_nested():
            db.add(ChatTag(chat_id=chat.id, tag_id=tag_id, agent_id=agent_id, added_at=clock.now()))
    except IntegrityError:
        return  # a concurrent request added the same tag: the chat has it either way
    tag_ids = list((await db.execute(select(ChatTag.tag_id).where(ChatTag.chat_id == chat.id)
                                     .order_by(ChatTag.tag_id))).scalars())
    chat_events.chat_tagged(db, chat, tag_ids=tag_ids, actor_agent_id=agent_id)


# ---- POPIA erasure -------------------------------------------------------------------------------------------

ERASED_TEXT = "[erased]"


async def erase_customer(db: AsyncSession, *, caller: Caller, customer_id: int, storage: FileStorage) -> None:
    """Remove the customer's personal data; chats, their times, events and tags stay for the statistics.

    Files are deleted only after the commit, so a rolled-back erasure loses nothing.
    """
    customer = await get_customer(db, customer_id)
    if customer.erased_at is not None:
        return
    active = await chats.active_chat(db, customer.id, for_update=True)
    if active is not None:
        # Nobody can answer a customer who is no longer there; the next message starts a new customer.
        await chats.close(db, active, actor_agent_id=caller.agent_id)
    their_chats = select(Chat.id).where(Chat.customer_id == customer.id).scalar_subquery()
    keys = [key for key in (await db.execute(
        select(Message.file_key).where(Message.chat_id.in_(their_chats), Message.file_key.is_not(None))
    )).scalars() if key is not None]
    await db.execute(
        update(Message).where(Message.chat_id.in_(their_chats))
        .values(text=case((Message.text.is_(None), None), else_=ERASED_TEXT), file_name=None, file_type=None,
                file_size=None, file_key=None, payload=None, media_status=None)
        .execution_options(synchronize_session=False))
    await db.execute(delete(Comment).where(Comment.customer_id == customer.id))
    # Their ratings stay for the statistics; what they wrote with them goes.
    await db.execute(update(ChatRating).where(ChatRating.customer_id == customer.id, ChatRating.comment.is_not(None))
                     .values(comment=None).execution_options(synchronize_session=False))
    customer.name = None
    customer.phone_number = None
    customer.email_address = None
    customer.whatsapp_user_id = customer.whatsapp_parent_user_id = customer.whatsapp_username = None
    await db.execute(update(Chat).where(Chat.customer_id == customer.id, Chat.referral.is_not(None))
                     .values(referral=None).execution_options(synchronize_session=False))
    customer.visitor_token_hash = None
    customer.erased_at = clock.now()
    await db.flush()

    async def delete_files() -> None:
        for key in keys:
            await storage.delete(key)

    if keys:
        after_commit(db, delete_files)
