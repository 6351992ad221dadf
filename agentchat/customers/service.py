"""Customers: found or made by the channels, and kept by agents (details, comments)."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.contract import NotFound
from agentchat.customers.models import Customer


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
