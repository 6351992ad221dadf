"""The web chat page in a real browser (headless Chromium, as in test_console_browser.py): it acknowledges what
it shows (Received, and Read while the tab is visible), shows "Agent is typing…" and tells agents the visitor
types. The agent side is the API and the agent WebSocket."""

import json
import os
from pathlib import Path

import pytest
from conftest import BACKENDS, add_agent
from realtime_helpers import AgentSocket

CHROMIUM = os.environ.get("AGENTCHAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PATIENCE_MS = 20_000


@pytest.fixture
def page(server):
    if server.settings.database_url.split("+", 1)[0] != BACKENDS[0]:
        pytest.skip("the browser tests run on the first backend only")
    if os.environ.get("AGENTCHAT_SKIP_BROWSER") == "1":
        pytest.skip("AGENTCHAT_SKIP_BROWSER=1")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `apt-get install -y chromium`, "
                    "or set AGENTCHAT_SKIP_BROWSER=1 to skip the browser tests.")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=PATIENCE_MS)
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=server.base_url, viewport={"width": 420, "height": 800})
        page = context.new_page()
        page.set_default_timeout(PATIENCE_MS)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("/chat")
        yield page
        context.close()
        browser.close()
    assert not errors, f"the page reported errors: {errors}"


def test_the_page_acknowledges_reads_and_shows_typing(page, server, api, manager):
    from playwright.sync_api import expect

    department_id = api.ok(api.post("CreateDepartment", manager, {
        "Name": "Sales", "IncludeInWelcomeMenu": True, "MenuOption": 1}))["DepartmentID"]
    add_agent(server, name="Ann Agent", email="ann@example.com", department_ids=(department_id,))
    token = api.logon("ann@example.com")

    page.get_by_label("Your name").fill("Vera Visitor")
    page.get_by_role("button", name="Start chat").click()
    page.get_by_label("Your message").fill("Hello")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("button", name="1. Sales").click()
    expect(page.get_by_role("list", name="Conversation")).to_contain_text("You are number 1 in the queue")
    chat_id = api.ok(api.get("GetChats", token, params={"Status": "Unassigned"}))["Items"][0]["ChatID"]
    api.ok(api.post("GrabChat", token, {"ChatID": chat_id}))

    with AgentSocket(server, token) as agent:
        agent.ws.send(json.dumps({"Type": "Typing", "ChatID": chat_id}))
        expect(page.locator("#typing")).to_have_text("Agent is typing…")
        expect(page.locator("#typing")).to_have_attribute("aria-live", "polite")
        sent = api.ok(api.post("SendMessage", token, {"ChatID": chat_id, "Message": "Hi Vera, Ann here."}))
        expect(page.get_by_role("list", name="Conversation")).to_contain_text("Hi Vera, Ann here.")
        expect(page.locator("#typing")).to_have_text("")
        # The page is visible: it reports the message received and then read; the agent hears both.
        statuses = []
        while "Read" not in statuses:
            statuses.append(agent.wait_for("MessageStatusChanged", MessageID=sent["MessageID"])
                            ["Data"]["DeliveryStatus"])
        # Forward only (the page's Received may even overtake the channel's Sent).
        assert statuses == [s for s in ("Sent", "Delivered", "Read") if s in statuses]
        # The page announces typing at most every 2 seconds (its first one, "Hello", had no chat yet): keep
        # typing until the agent hears it.
        for _ in range(30):
            page.get_by_label("Your message").press("a")
            try:
                typing = agent.wait_for("CustomerTyping", timeout=0.5)
                break
            except (AssertionError, TimeoutError):
                continue
        else:
            raise AssertionError("the agent never heard the visitor typing")
    assert typing["Data"]["ChatID"] == chat_id


def test_the_visitor_sees_the_chat_closed_and_starts_a_new_one_that_reaches_the_queue(page, server, api, manager):
    from playwright.sync_api import expect

    department_id = api.ok(api.post("CreateDepartment", manager, {
        "Name": "Sales", "IncludeInWelcomeMenu": True, "MenuOption": 1}))["DepartmentID"]
    add_agent(server, name="Ann Agent", email="ann@example.com", department_ids=(department_id,))
    token = api.logon("ann@example.com")
    conversation = page.get_by_role("list", name="Conversation")

    page.get_by_label("Your name").fill("Vera Visitor")
    page.get_by_role("button", name="Start chat").click()
    page.get_by_label("Your message").fill("Hello")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("button", name="1. Sales").click()
    expect(conversation).to_contain_text("You are number 1 in the queue")
    [first] = api.ok(api.get("GetChats", token, params={"Status": "Unassigned"}))["Items"]
    api.ok(api.post("GrabChat", token, {"ChatID": first["ChatID"]}))
    api.ok(api.post("SendMessage", token, {"ChatID": first["ChatID"], "Message": "Sorted, Vera. Bye!"}))
    expect(conversation).to_contain_text("Sorted, Vera. Bye!")
    expect(page.get_by_role("heading", name="This chat has ended")).to_be_hidden()

    api.ok(api.post("CloseChat", token, {"ChatID": first["ChatID"]}))
    expect(page.get_by_role("heading", name="This chat has ended")).to_be_visible()
    expect(page.get_by_label("Your message")).to_be_hidden()  # nothing to write into a closed chat
    page.reload()  # a page that was away learns it too
    expect(page.get_by_role("heading", name="This chat has ended")).to_be_visible()
    expect(conversation).to_contain_text("Sorted, Vera. Bye!")

    page.get_by_role("button", name="Start a new chat").click()
    expect(page.get_by_role("heading", name="This chat has ended")).to_be_hidden()
    expect(page.get_by_role("button", name="1. Sales")).to_be_visible()  # the bot's welcome, at once
    expect(conversation).not_to_contain_text("Sorted, Vera. Bye!")  # a clean page
    expect(page.get_by_label("Your message")).to_be_focused()
    page.get_by_role("button", name="1. Sales").click()
    expect(conversation).to_contain_text("You are number 1 in the queue")
    page.get_by_label("Your message").fill("One more thing")
    page.get_by_role("button", name="Send").click()
    expect(conversation).to_contain_text("One more thing")
    [second] = api.ok(api.get("GetChats", token, params={"Status": "Unassigned"}))["Items"]
    assert second["ChatID"] != first["ChatID"]
    messages = api.ok(api.get("GetChat", token, params={"ChatID": second["ChatID"]}))
    assert "One more thing" in str(messages)


def test_the_visitor_rates_the_closed_chat_with_one_click_then_starts_again(page, server, api, manager):
    from playwright.sync_api import expect
    from test_csat import ratings

    department_id = api.ok(api.post("CreateDepartment", manager, {
        "Name": "Support", "IncludeInWelcomeMenu": True, "MenuOption": 1, "CsatEnabled": True}))["DepartmentID"]
    add_agent(server, name="Ann Agent", email="ann@example.com", department_ids=(department_id,))
    token = api.logon("ann@example.com")
    conversation = page.get_by_role("list", name="Conversation")
    page.get_by_label("Your name").fill("Vera Visitor")
    page.get_by_role("button", name="Start chat").click()
    page.get_by_label("Your message").fill("My order is late")
    page.get_by_role("button", name="Send").click()
    page.get_by_role("button", name="1. Support").click()
    expect(conversation).to_contain_text("You are number 1 in the queue")
    [chat] = api.ok(api.get("GetChats", token, params={"Status": "Unassigned"}))["Items"]
    api.ok(api.post("GrabChat", token, {"ChatID": chat["ChatID"]}))
    api.ok(api.post("CloseChat", token, {"ChatID": chat["ChatID"]}))

    expect(page.get_by_role("heading", name="This chat has ended")).to_be_visible()
    rate = page.get_by_role("group", name="Rate this chat")
    expect(rate.get_by_role("button")).to_have_text(["5 Excellent", "4 Good", "3 Okay", "2 Poor", "1 Very poor"])
    rate.get_by_role("button", name="4 Good").click()  # one click
    expect(conversation).to_contain_text("Thank you for your rating!")
    expect(rate.get_by_role("button", name="4 Good")).to_be_disabled()
    assert [(r.chat_id, r.rating) for r in ratings(server)] == [(chat["ChatID"], 4)]

    page.get_by_role("button", name="Start a new chat").click()
    page.get_by_role("button", name="1. Support").click()
    expect(conversation).to_contain_text("You are number 1 in the queue")
    page.get_by_label("Your message").fill("And another thing")  # a new chat's words, not the rating's comment
    page.get_by_role("button", name="Send").click()
    expect(conversation).to_contain_text("And another thing")
    [second] = api.ok(api.get("GetChats", token, params={"Status": "Unassigned"}))["Items"]
    assert second["ChatID"] != chat["ChatID"]
    assert [r.comment for r in ratings(server)] == [None]
