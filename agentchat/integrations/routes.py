"""Outgoing webhooks, Manager only (docs/API.md, docs/integrations.md)."""

from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Query, Request

from agentchat.audit import service as audit
from agentchat.compat import IDsInQueryOrBody, delete_route
from agentchat.contract import MAX_ID, Deleted, Paging, paging
from agentchat.db import DbSession, commit_and_publish
from agentchat.integrations import service as integrations
from agentchat.integrations.models import WEBHOOK_EVENTS
from agentchat.integrations.schemas import (
    CreateWebhookIn,
    DeliveryIDIn,
    DeliveryOut,
    DeliveryPage,
    UpdateWebhookIn,
    WebhookIDIn,
    WebhookList,
    WebhookWithSecret,
    delivery_out,
)
from agentchat.security import ManagerOnly

router = APIRouter(tags=["Webhooks"], route_class=IDsInQueryOrBody)

WebhookIDQuery = Annotated[int, Query(alias="WebhookID", ge=1, le=MAX_ID)]


def _out(endpoint) -> WebhookWithSecret:
    return WebhookWithSecret(webhook_id=endpoint.id, url=endpoint.url, description=endpoint.description,
                             events=list(endpoint.events), status=endpoint.status,
                             consecutive_failures=endpoint.consecutive_failures, paused_at=endpoint.paused_at,
                             created_at=endpoint.created_at, secret=endpoint.secret)


def _audited(body) -> dict:
    """A webhook call's fields for the audit log: its URL without user, password or query (which may hold a
    receiver's credentials), never a secret."""
    given = body.model_dump(by_alias=True, exclude_unset=True, exclude={"webhook_id", "url"}, mode="json")
    if body.url:
        parts = urlsplit(str(body.url))
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        given["URL"] = urlunsplit((parts.scheme, host, parts.path, "", ""))
    return given


@router.get("/api/GetWebhooks")
async def get_webhooks(_caller: ManagerOnly, db: DbSession) -> WebhookList:
    endpoints = await integrations.list_endpoints(db)
    return WebhookList(items=[_out(endpoint) for endpoint in endpoints], events=list(WEBHOOK_EVENTS))


@router.post("/api/CreateWebhook")
async def create_webhook(body: CreateWebhookIn, caller: ManagerOnly, db: DbSession) -> WebhookWithSecret:
    endpoint = await integrations.create_endpoint(db, url=body.url, events=body.events, description=body.description)
    audit.manager_action(db, caller, "WebhookCreated", "Webhook", endpoint.id, details=_audited(body))
    await commit_and_publish(db)
    return _out(endpoint)


@router.post("/api/UpdateWebhook")
async def update_webhook(body: UpdateWebhookIn, caller: ManagerOnly, db: DbSession,
                         request: Request) -> WebhookWithSecret:
    changes = body.model_dump(exclude_unset=True, exclude={"webhook_id"})
    endpoint = await integrations.update_endpoint(db, webhook_id=body.webhook_id, changes=changes)
    audit.manager_action(db, caller, "WebhookUpdated", "Webhook", body.webhook_id, details=_audited(body))
    await commit_and_publish(db)
    request.app.state.webhooks.nudge()
    return _out(endpoint)


@router.post("/api/RotateWebhookSecret")
async def rotate_webhook_secret(body: WebhookIDIn, caller: ManagerOnly, db: DbSession) -> WebhookWithSecret:
    endpoint = await integrations.rotate_secret(db, webhook_id=body.webhook_id)
    audit.manager_action(db, caller, "WebhookSecretRotated", "Webhook", body.webhook_id)
    await commit_and_publish(db)
    return _out(endpoint)


@delete_route(router, "/api/DeleteWebhook")
async def delete_webhook(webhook_id: WebhookIDQuery, caller: ManagerOnly, db: DbSession) -> Deleted:
    await integrations.delete_endpoint(db, webhook_id=webhook_id)
    audit.manager_action(db, caller, "WebhookDeleted", "Webhook", webhook_id)
    await commit_and_publish(db)
    return Deleted(Deleted=True, WebhookID=webhook_id)


@router.get("/api/GetWebhookDeliveries")
async def get_webhook_deliveries(
    webhook_id: WebhookIDQuery, _caller: ManagerOnly, db: DbSession, page: Annotated[Paging, Depends(paging)],
    status: Annotated[Literal["Pending", "Delivered", "Failed"] | None, Query(alias="Status")] = None,
) -> DeliveryPage:
    rows, total = await integrations.list_deliveries(db, webhook_id=webhook_id, status=status, offset=page.offset,
                                                     limit=page.page_size)
    return DeliveryPage(items=[delivery_out(row) for row in rows], page=page.page, page_size=page.page_size,
                        total=total)


@router.post("/api/TestWebhook")
async def test_webhook(body: WebhookIDIn, caller: ManagerOnly, db: DbSession, request: Request) -> DeliveryOut:
    """Sends a WebhookTest event now and answers with its delivery, as the receiver answered."""
    delivery = await integrations.add_test_delivery(db, webhook_id=body.webhook_id)
    audit.manager_action(db, caller, "WebhookTested", "Webhook", body.webhook_id)
    await commit_and_publish(db)
    deliverer = request.app.state.webhooks.deliverer
    claimed = await deliverer.claim(delivery.id, now_or_never=True)
    if claimed is not None:
        await deliverer.attempt(claimed)
    return delivery_out(await integrations.get_delivery(db, delivery.id))


@router.post("/api/RedeliverWebhook")
async def redeliver_webhook(body: DeliveryIDIn, caller: ManagerOnly, db: DbSession, request: Request) -> DeliveryOut:
    delivery = await integrations.redeliver(db, delivery_id=body.delivery_id)
    audit.manager_action(db, caller, "WebhookRedelivered", "WebhookDelivery", body.delivery_id)
    await commit_and_publish(db)
    request.app.state.webhooks.nudge()
    return delivery_out(delivery)
