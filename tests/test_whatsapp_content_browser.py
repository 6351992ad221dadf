"""A WhatsApp conversation's structured messages in the console, in a real browser (Chromium via Playwright, as
tests/test_console_browser.py): an order as a table with its total, a location with a map link, contact cards,
the ad the chat came from, a reply with the message it quotes, the customer's reaction, and a file that arrives
after its message (the message is redrawn on MessageUpdated). The agent answers quoting a message, and Meta
receives the quote."""
# ruff: noqa: F811 (fixtures imported from other test modules)

import secrets

from conftest import add_agent
from test_console_browser import browser, console, log_on, one_backend, shot  # noqa: F401 (fixtures)
from test_whatsapp import WA_ID, chat_of, departments, messages, new_wamid, payload, post_webhook  # noqa: F401

from agentchat.db import drain_background


def deliver(server, fixture: str, **values) -> None:
    response = post_webhook(server, payload(fixture, **values), drain=False)
    assert response.status_code == 200, response.text
    server.run(drain_background())


def test_agent_reads_orders_locations_cards_ads_replies_reactions_and_late_files(console, api, server, graph_api,
                                                                                departments):
    from playwright.sync_api import expect

    question = new_wamid()
    deliver(server, "referral.json", body="Hi, about the boots", wamid=question)
    deliver(server, "text.json", body="1")
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(departments["Sales"],))
    token = api.logon("sam@example.com")
    chat_id = chat_of(server).id
    api.ok(api.post("GrabChat", token, {"ChatID": chat_id}))
    menu = messages(server)[1]
    deliver(server, "order.json", body="Size 42 please")
    deliver(server, "location_named.json")
    deliver(server, "contacts.json")
    deliver(server, "text_reply.json", body="That one", context_id=menu.external_id)
    picture = b"\xff\xd8\xff\xe0" + secrets.token_bytes(1024)
    media_id = graph_api.add_media(picture, "image/jpeg")
    graph_api.stalled.set()

    page = console("/")
    log_on(page, "sam@example.com")
    page.evaluate(f"location.hash = '#/inbox/{chat_id}'")
    listed = page.get_by_role("list", name="Messages")
    expect(listed).to_contain_text("Hi, about the boots")
    expect(page.locator(".chat-head")).to_contain_text("From an ad: Winter sale: 30% off boots")
    order = listed.locator(".content.order")
    expect(order).to_contain_text("SKU-RED-SHOE")
    expect(order).to_contain_text("Total: 105.48 USD")
    location = listed.locator(".content.location")
    expect(location).to_contain_text("Facebook HQ, 1 Hacker Way")
    expect(location.get_by_role("link", name="Open in a map")).to_have_attribute(
        "href", "https://maps.google.com/?q=37.4611978,-122.2164385")
    expect(listed.locator(".content.contacts")).to_contain_text("Barbara J. Johnson")
    expect(listed.locator("blockquote.quoted")).to_contain_text("In reply to:")

    deliver(server, "image.json", media_id=media_id, body="The broken part")
    broken = listed.locator("li", has_text="The broken part")
    expect(broken).to_contain_text("File on its way from WhatsApp")
    graph_api.stalled.clear()
    expect(broken.get_by_role("button", name="Download")).to_be_visible()
    expect(broken).not_to_contain_text("File on its way")

    deliver(server, "reaction.json", body="❤️", context_id=menu.external_id)
    expect(listed.locator(f'li[data-id="{menu.id}"] .reaction')).to_have_text("❤️")
    shot(page, "agent-whatsapp-content")

    listed.locator("li", has_text="Hi, about the boots").get_by_role("button", name="Reply to this").click()
    expect(page.locator(".replying")).to_contain_text("Replying to: Hi, about the boots")
    page.get_by_label("Message", exact=True).fill("Yes, we have them in 42")
    page.get_by_role("button", name="Send").click()
    expect(listed).to_contain_text("Yes, we have them in 42")
    sent = graph_api.wait_for(lambda s: [b for b in s.sent(WA_ID) if b.get("context")])
    assert sent[-1]["context"] == {"message_id": question}
