"""Meta's webhook for the WhatsApp Cloud API: the verification handshake and signed deliveries.

Public (no session, no Version): Meta calls these. A delivery is trusted only when its X-Hub-Signature-256
matches the raw body signed with the app secret.
"""

import hmac
import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from agentchat.channels.whatsapp import inbound, store
from agentchat.channels.whatsapp.signature import is_valid_signature
from agentchat.contract import ApiError, BadRequest, Forbidden, NotFound, TooLarge, Unauthorized
from agentchat.templates import service as templates

router = APIRouter(tags=["WhatsApp"])

# Meta batches at most a few messages and statuses per delivery; anything this big is not Meta.
MAX_WEBHOOK_BYTES = 1024 * 1024


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse)
async def verify_webhook(
    request: Request,
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=32)] = None,
    verify_token: Annotated[str | None, Query(alias="hub.verify_token", max_length=512)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=512)] = None,
) -> PlainTextResponse:
    expected = request.app.state.settings.whatsapp_verify_token
    if not expected or mode != "subscribe" or challenge is None or verify_token is None \
            or not _same(verify_token, expected):
        raise Forbidden("The verification token does not match.", code="bad_verify_token")
    return PlainTextResponse(challenge)


@router.post("/webhooks/whatsapp")
async def receive_webhook(request: Request) -> dict:
    state = request.app.state
    secret = state.settings.whatsapp_app_secret
    if not secret:
        raise NotFound("The WhatsApp channel is not configured.", code="channel_not_configured")
    body = await _read_body(request)
    if not is_valid_signature(secret, body, request.headers.get("x-hub-signature-256")):
        raise Unauthorized("The X-Hub-Signature-256 header is missing or does not match the body.",
                           code="bad_signature")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # signed, yet not JSON, or nested beyond reason
        raise BadRequest("The request body is not JSON.", code="malformed_request") from exc
    parsed = inbound.parse_payload(payload, phone_number_id=state.settings.whatsapp_phone_number_id)
    context = store.WebhookContext(sessionmaker=state.sessionmaker, media=getattr(state, "whatsapp_media", None),
                                   early=getattr(state, "whatsapp_early", None),
                                   max_file_bytes=state.settings.max_file_bytes)
    stored = await store.receive_payload(context, parsed)
    updates = templates.parse_status_updates(payload,
                                             business_account_id=state.settings.whatsapp_business_account_id)
    unknown = await templates.receive_status_updates(state.sessionmaker, updates) if updates else 0
    if unknown is None:
        stored = False
    elif unknown:
        templates.sync_in_background(state.sessionmaker, graph=getattr(state, "whatsapp_graph", None),
                                     business_account_id=state.settings.whatsapp_business_account_id)
    if not stored:
        # Something was not stored: Meta delivers the payload again, and what was stored is skipped then.
        raise ApiError("The delivery could not be stored; please retry.", code="try_again", status=503)
    return {"Received": True}


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_WEBHOOK_BYTES:
        raise TooLarge("The webhook body is too large.", code="request_too_large")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_WEBHOOK_BYTES:
            raise TooLarge("The webhook body is too large.", code="request_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
