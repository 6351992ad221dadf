"""What a customer's WhatsApp message holds beyond plain text, in words and as structure.

Each kind becomes a readable text (what exports, reports, search and older clients show) and, where there is
structure to keep, a Content object ({"Type": "Order", ...}) that the console draws (docs/whatsapp.md lists them).
Meta's numbers come as numbers or as strings; both are read.
"""

import json
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_TEXT = 65536
MAX_ITEMS = 100
MAX_ANSWERS = 50


def clean(text: Any, limit: int = MAX_TEXT) -> str:
    # PostgreSQL cannot store NUL characters; WhatsApp text never needs them.
    return str(text).replace("\x00", "").strip()[:limit] if text is not None else ""


def items(value: Any) -> list:
    return value if isinstance(value, list) else []


def obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def a_or_an(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def number(value: Any) -> Decimal | None:
    """Meta's numbers: 12, 12.5 or "12.5"."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        found = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def error_reason(error: Any) -> str:
    """Meta's error object as "131047: Re-engagement message (details)"."""
    if not isinstance(error, dict):
        return "unknown error"
    text = f"{error.get('code', '?')}: {error.get('title') or error.get('message') or 'error'}"
    details = obj(error.get("error_data")).get("details")
    if details and str(details) not in text:
        text += f" ({details})"
    return clean(text, 500)


# ---- each kind -------------------------------------------------------------------------------------------------

def location(body: dict) -> tuple[str, dict]:
    lat, lon = float(body["latitude"]), float(body["longitude"])
    name, address = clean(body.get("name"), 200), clean(body.get("address"), 500)
    map_url = f"https://maps.google.com/?q={lat},{lon}"
    place = ", ".join(p for p in (name, address) if p)
    text = f"Location: {place + ' ' if place else ''}({lat}, {lon}) {map_url}"
    content = {"Type": "Location", "Latitude": lat, "Longitude": lon, "Name": name or None,
               "Address": address or None, "MapURL": map_url}
    return text, content


def contacts(cards_in: list) -> tuple[str, dict]:
    cards: list[dict[str, Any]] = []
    for card in cards_in[:20]:
        card = obj(card)
        name = clean(obj(card.get("name")).get("formatted_name"), 200) or "?"
        phones = [clean(obj(p).get("phone"), 40) for p in items(card.get("phones")) if obj(p).get("phone")]
        emails = [clean(obj(e).get("email"), 254) for e in items(card.get("emails")) if obj(e).get("email")]
        company = clean(obj(card.get("org")).get("company"), 200)
        cards.append({"Name": name, "Phones": phones, "Emails": emails, "Company": company or None})
    words = "; ".join(f"{c['Name']} ({', '.join(c['Phones'])})" if c["Phones"] else c["Name"] for c in cards)
    return clean("Contact card: " + words), {"Type": "Contacts", "Cards": cards}


def order(body: dict) -> tuple[str, dict]:
    lines: list[dict[str, Any]] = []
    total, currencies = Decimal(0), set()
    for item in items(body.get("product_items"))[:MAX_ITEMS]:
        item = obj(item)
        quantity, price = number(item.get("quantity")) or Decimal(0), number(item.get("item_price"))
        currency = clean(item.get("currency"), 8)
        currencies.add(currency)
        if price is not None:
            total += quantity * price
        lines.append({"ProductRetailerID": clean(item.get("product_retailer_id"), 200), "Quantity": int(quantity),
                      "ItemPrice": str(price) if price is not None else None, "Currency": currency or None})
    single = currencies.pop() if len(currencies) == 1 else None
    note = clean(body.get("text"), 4096)
    content = {"Type": "Order", "CatalogID": clean(body.get("catalog_id"), 100) or None, "Items": lines,
               "Total": str(total) if single else None, "Currency": single or None, "Text": note or None}
    words = "; ".join(f"{line['Quantity']} × {line['ProductRetailerID']}"
                      + (f" at {line['ItemPrice']} {line['Currency'] or ''}".rstrip() if line["ItemPrice"] else "")
                      for line in lines)
    text = f"Order: {words or 'no items'}"
    if single:
        text += f". Total {total} {single}"
    if note:
        text += f". Note: {note}"
    return clean(text), content


def flow_reply(reply: dict) -> tuple[str, dict]:
    try:
        answers = json.loads(reply.get("response_json") or "{}")
    except (TypeError, ValueError):
        answers = {}
    # The flow token is ours (sent with the Flow), not something the customer answered.
    answers = {clean(k, 100): v for k, v in obj(answers).items() if k != "flow_token"}
    shown = {k: clean(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False), 1000)
             for k, v in list(answers.items())[:MAX_ANSWERS]}
    words = "; ".join(f"{k}: {v}" for k, v in shown.items())
    name = clean(reply.get("name"), 100) or "flow"
    content = {"Type": "FlowReply", "Name": name, "Body": clean(reply.get("body"), 1000) or None, "Answers": shown}
    return clean(f"Form answers: {words or '(none)'}"), content


def referral(body: Any) -> dict | None:
    """A click-to-WhatsApp ad's referral, as kept on the message and the chat."""
    if not isinstance(body, dict):
        return None
    found = {"Headline": clean(body.get("headline"), 500) or None, "Body": clean(body.get("body"), 2000) or None,
             "SourceURL": clean(body.get("source_url"), 2000) or None,
             "SourceType": clean(body.get("source_type"), 20) or None,
             "SourceID": clean(body.get("source_id"), 100) or None,
             "CtwaClid": clean(body.get("ctwa_clid"), 500) or None,
             "MediaType": clean(body.get("media_type"), 20) or None}
    return found if any(found.values()) else None


def referral_words(found: dict) -> str:
    parts = [f'"{found["Headline"]}"' if found.get("Headline") else None, found.get("SourceURL")]
    return "[From an ad" + (": " + " ".join(p for p in parts if p) if any(parts) else "") + "]"


def unsupported(kind: str, body: dict, raw: dict) -> tuple[str, dict]:
    errors = items(raw.get("errors"))
    what = clean(body.get("type"), 40) if kind == "unsupported" else kind[:40]
    reason = error_reason(errors[0]) if errors else None
    described = f"a message of a type WhatsApp does not pass on ({what})" if what else \
        "a message of a type WhatsApp does not pass on"
    text = f"[The customer sent {described}{': ' + reason if reason else ''}.]"
    return clean(text), {"Type": "Unsupported", "UnsupportedType": what or None, "Error": reason}

