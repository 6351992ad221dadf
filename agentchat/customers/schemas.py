"""The Customer and Comment objects of the contract, and the bodies of the customer calls."""

from pydantic import Field

from agentchat.contract import ID, EmailAddress, Name, Schema, UtcTime
from agentchat.customers.models import Comment, Customer

MAX_COMMENT_CHARS = 2000


class CommentOut(Schema):
    comment_id: int
    text: str
    agent_id: int | None
    created_at: UtcTime

    @classmethod
    def of(cls, comment: Comment) -> "CommentOut":
        return cls(comment_id=comment.id, text=comment.text, agent_id=comment.agent_id,
                   created_at=comment.created_at)


class CustomerOut(Schema):
    customer_id: int
    name: str | None
    phone_number: str | None
    email_address: str | None
    comments: list[CommentOut]
    tag_ids: list[int]
    created_at: UtcTime
    # A WhatsApp user's username, shown instead of their number by users who set one (then PhoneNumber may be
    # null: Meta gives only the business-scoped user id).
    whatsapp_username: str | None = Field(None, alias="WhatsAppUsername")

    @classmethod
    def of(cls, customer: Customer, comments: list[Comment], tag_ids: list[int]) -> "CustomerOut":
        return cls(customer_id=customer.id, name=customer.name, phone_number=customer.phone_number,
                   email_address=customer.email_address, comments=[CommentOut.of(c) for c in comments],
                   tag_ids=tag_ids, created_at=customer.created_at, whatsapp_username=customer.whatsapp_username)


class UpdateCustomerIn(Schema):
    customer_id: ID
    name: Name | None = None
    email_address: EmailAddress | None = None
    comments: str | None = Field(None, min_length=1, max_length=MAX_COMMENT_CHARS)
    tag_id: ID | None = None


class AddCommentIn(Schema):
    customer_id: ID
    comment: str = Field(min_length=1, max_length=MAX_COMMENT_CHARS)


class EraseCustomerIn(Schema):
    customer_id: ID


class Erased(Schema):
    erased: bool = True
    customer_id: int
