from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from agentchat.contract import ID, Schema, UtcTime
from agentchat.integrations.models import WEBHOOK_EVENTS

WebhookEvent = Literal[WEBHOOK_EVENTS]  # type: ignore[valid-type]


def check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    if parts.username or parts.password:
        raise ValueError("must not hold a user name or password; the deliveries are signed instead")
    return value


Url = Annotated[str, Field(min_length=8, max_length=2000), AfterValidator(check_url)]
Events = Annotated[list[WebhookEvent], Field(min_length=1, max_length=len(WEBHOOK_EVENTS))]
Description = Annotated[str, Field(max_length=200)]


class CreateWebhookIn(Schema):
    url: Url = Field(alias="URL")
    events: Events
    description: Description = ""


class UpdateWebhookIn(Schema):
    webhook_id: ID
    url: Url | None = Field(None, alias="URL")
    events: Events | None = None
    description: Description | None = None
    # "Active" resumes a paused or disabled endpoint (its queued deliveries go out at once); "Disabled" stops it.
    status: Literal["Active", "Disabled"] | None = None


class WebhookIDIn(Schema):
    webhook_id: ID


class DeliveryIDIn(Schema):
    delivery_id: ID


class WebhookOut(Schema):
    webhook_id: int
    url: str = Field(alias="URL")
    description: str
    events: list[str]
    status: str
    consecutive_failures: int
    paused_at: UtcTime | None
    created_at: UtcTime


class WebhookWithSecret(WebhookOut):
    secret: str


class WebhookList(Schema):
    items: list[WebhookWithSecret]
    events: list[str]


class DeliveryOut(Schema):
    delivery_id: int
    webhook_id: int
    event_type: str
    status: str
    attempts: int
    response_status: int | None
    error: str | None
    created_at: UtcTime
    next_attempt_at: UtcTime | None
    delivered_at: UtcTime | None
    payload: str


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    page: int
    page_size: int
    total: int


def delivery_out(row) -> DeliveryOut:
    return DeliveryOut(delivery_id=row.id, webhook_id=row.endpoint_id, event_type=row.event_type, status=row.status,
                       attempts=row.attempts, response_status=row.response_status, error=row.last_error,
                       created_at=row.created_at,
                       next_attempt_at=row.next_attempt_at if row.status == "Pending" else None,
                       delivered_at=row.delivered_at, payload=row.payload)
