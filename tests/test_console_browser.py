"""The web console in a real browser: headless Chromium (Debian's package) driven by Playwright, against the live
server. An agent and a web chat customer talk end to end (and the agent sees the customer typing); a manager's
new department reaches the bot's menu; an agent finds a customer and reads their closed chats (Customers,
History); a manager erases a customer.

Screenshots of the main views are saved in test-artifacts/ (gitignored). Without /usr/bin/chromium these tests
fail (install it with `apt-get install -y chromium`; .ci/run does) unless AGENTCHAT_SKIP_BROWSER=1.
"""

import os
import re
from pathlib import Path

import pytest
from conftest import BACKENDS, PASSWORD, add_agent

from agentchat.agents.models import ROLE_MANAGER

CHROMIUM = os.environ.get("AGENTCHAT_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Waiting for the page to show something (not a speed requirement: a slow CI machine is fine well within it).
PATIENCE_MS = 20_000


# Per test: Playwright's sync API keeps an event loop running in this thread while it is open, which must not
# overlap the setup of other (session-scoped) fixtures that call asyncio.run.
@pytest.fixture
def browser():
    if os.environ.get("AGENTCHAT_SKIP_BROWSER") == "1":
        pytest.skip("AGENTCHAT_SKIP_BROWSER=1")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `apt-get install -y chromium` (bash .ci/run does), "
                    "or set AGENTCHAT_SKIP_BROWSER=1 to skip the browser tests.")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=PATIENCE_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def one_backend(server):
    if server.settings.database_url.split("+", 1)[0] != BACKENDS[0]:
        pytest.skip("the browser tests run on the first backend only")


@pytest.fixture
def console(one_backend, server, browser):
    """Browser pages on the live server (one backend only: the console is the same on both)."""
    contexts, errors, refusals = [], [], []

    def open_page(path: str = "/", *, width: int = 1366, height: int = 850):
        context = browser.new_context(base_url=server.base_url, viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(PATIENCE_MS)
        page.on("pageerror", lambda error: errors.append(f"{path}: {error}"))
        page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
                and errors.append(f"{path}: {m.text}"))
        # The browser asks every site for /favicon.ico; the web chat page has none, which is no fault.
        page.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico")
                and not any(f"/api/{call}" in r.url and r.status == status for call, status in refusals)
                and errors.append(f"{path}: {r.status} {r.url}"))
        page.goto(path)
        return page

    # A test that provokes a refusal on purpose names it: open_page.expect_refusal("CreateAgent", 422).
    open_page.expect_refusal = lambda call, status: refusals.append((call, status))
    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"the browser reported errors: {errors}"


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_on(page, email: str) -> None:
    from playwright.sync_api import expect

    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log on").click()
    expect(page.locator("#live")).to_have_text("Live")


def go_to(page, name: str) -> None:
    """Open a view from the top bar: the manager's setup pages are under its Setup menu."""
    link = page.get_by_role("navigation", name="Views").get_by_role("link", name=name, exact=True)
    if not link.is_visible():
        page.locator("nav details.setup > summary").click()
    link.click()


def search_customers(console, email: str, search: str):
    """Log on as `email`, open Customers and search for `search`; the page."""
    page = console("/")
    log_on(page, email)
    go_to(page, "Customers")
    page.get_by_label("Search customers").fill(search)
    page.get_by_role("button", name="Search", exact=True).click()
    return page


def start_web_chat(page, name: str, first_message: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Start chat").click()
    page.get_by_label("Your message").fill(first_message)
    page.get_by_role("button", name="Send").click()


def test_agent_and_web_chat_customer_hold_a_conversation(console, api, manager, server):
    from playwright.sync_api import expect

    sales = api.ok(api.post("CreateDepartment", manager, {"Name": "Sales", "IncludeInWelcomeMenu": True,
                                                          "WelcomeMenuName": "Buy something", "MenuOption": 1}))
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales["DepartmentID"],))

    agent = console("/")
    expect(agent.get_by_role("heading", name="AgentChat")).to_be_visible()
    shot(agent, "logon")
    log_on(agent, "sam@example.com")
    expect(agent.locator("#queue")).to_contain_text("No one is waiting")

    customer = console("/chat", width=420, height=800)
    start_web_chat(customer, "Cora Customer", "Hello, I would like to buy a bike")
    customer.get_by_role("button", name="1. Buy something").click()

    waiting = agent.locator("#queue li", has_text="Cora Customer")
    expect(waiting).to_contain_text("waiting")
    expect(waiting).to_contain_text("Sales")
    shot(agent, "agent-queue")
    agent.get_by_role("button", name="Grab chat with Cora Customer").click()

    messages = agent.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("Hello, I would like to buy a bike")
    expect(agent.locator("#mine")).to_contain_text("Cora Customer")
    agent.get_by_label("Message", exact=True).fill("Hi Cora, I am Sam. Which bike?")
    agent.get_by_role("button", name="Send").click()

    expect(customer.locator("#log")).to_contain_text("Hi Cora, I am Sam. Which bike?")
    customer.get_by_label("Your message").fill("The <b>red</b> one")
    customer.get_by_role("button", name="Send").click()
    # Live, and as text: markup in a message is shown, never interpreted.
    expect(messages).to_contain_text("The <b>red</b> one")
    assert messages.locator("b").count() == 0

    agent.get_by_label("New comment").fill("Wants the red bike")
    agent.get_by_role("button", name="Add comment").click()
    expect(agent.get_by_role("complementary", name="Customer")).to_contain_text("Wants the red bike")
    shot(agent, "agent-conversation")
    shot(customer, "webchat-customer")
    agent.set_viewport_size({"width": 390, "height": 844})
    expect(agent.get_by_role("button", name="‹ Chats")).to_be_visible()
    shot(agent, "agent-conversation-phone")
    agent.set_viewport_size({"width": 1366, "height": 850})

    agent.get_by_role("button", name="Close chat").click()
    confirm = agent.get_by_role("dialog", name="Close the chat with Cora Customer?")
    confirm.get_by_role("button", name="Close chat").click()
    expect(agent.locator("#mine")).to_contain_text("No open chats")
    chats = api.ok(api.get("GetChats", manager, {"CustomerID": messages_customer_id(api, manager)}))["Items"]
    assert [chat["Status"] for chat in chats] == ["Closed"]

    agent.set_viewport_size({"width": 390, "height": 844})
    expect(agent.get_by_role("tab", name="Waiting")).to_be_visible()
    shot(agent, "agent-inbox-phone")


def messages_customer_id(api, token) -> int:
    found = api.ok(api.get("SearchCustomer", token, {"Search": "Cora"}))["Items"]
    assert len(found) == 1
    return found[0]["CustomerID"]


def test_manager_creates_a_department_that_the_bot_offers(console, api, server):
    from playwright.sync_api import expect

    add_agent(server, name="Mia Manager", email="mia@example.com", role_id=ROLE_MANAGER)
    page = console("/")
    log_on(page, "mia@example.com")
    go_to(page, "Departments")
    page.get_by_role("button", name="New department").click()
    dialog = page.get_by_role("dialog", name="New department")
    dialog.get_by_label("Name", exact=True).fill("Support")
    dialog.get_by_label("Menu title").fill("Get help")
    dialog.get_by_label("Menu number").fill("2")
    dialog.get_by_role("button", name="Create department").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("table", name="Departments")).to_contain_text("Support")
    expect(page.locator("#menu-preview")).to_contain_text("2. Get help")
    support = next(d for d in api.ok(api.get("GetDepartments", api.logon("mia@example.com")))["Items"]
                   if d["Name"] == "Support")
    assert (support["IncludeInWelcomeMenu"], support["WelcomeMenuName"], support["MenuOption"]) == (True, "Get help", 2)
    shot(page, "manager-departments")

    customer = console("/chat", width=420, height=800)
    start_web_chat(customer, "Nina Newcomer", "hi")
    expect(customer.get_by_role("button", name="2. Get help")).to_be_visible()

    go_to(page, "Agents")
    page.get_by_role("button", name="New agent").click()
    dialog = page.get_by_role("dialog", name="New agent")
    dialog.get_by_label("Name", exact=True).fill("Sam Agent")
    dialog.get_by_label("E-mail address").fill("sam@example.com")
    dialog.get_by_label("Support").check()
    dialog.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("table", name="Agents")).to_contain_text("sam@example.com")
    sam = [a for a in api.ok(api.get("GetAgents", api.logon("mia@example.com")))["Items"] if a["Name"] == "Sam Agent"]
    assert [(a["RoleID"], a["DepartmentIDs"]) for a in sam] == [(1, [support["DepartmentID"]])]

    go_to(page, "Working hours")
    page.get_by_label("Monday").fill("08:00-12:00, 13:00-17:00")
    page.get_by_role("button", name="Save hours").click()
    expect(page.get_by_label("Monday")).to_have_value("08:00-12:00, 13:00-17:00")

    for view, heading in [("dashboard", "Dashboard"), ("board", "Live board"), ("agents", "Agents"), ("tags", "Tags"),
                          ("canned", "Canned responses"), ("hours", "Working hours"), ("reports", "Reports"),
                          ("settings", "Settings")]:
        go_to(page, heading)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("Loading")
        page.wait_for_load_state("networkidle")
        shot(page, f"manager-{view}")
    go_to(page, "Dashboard")
    expect(page.locator(".tiles")).to_contain_text("Waiting")
    # Mia has been Online with no chat: in the per-agent table, occupied 0 % of it (and of the part within the
    # working hours set above, or a dash when none of it was: they are Mondays' only).
    mia_row = page.get_by_role("table", name="Per agent").get_by_role("row", name="Mia Manager")
    expect(mia_row.get_by_role("cell").nth(5)).to_have_text("0 %")
    expect(mia_row.get_by_role("cell").nth(6)).to_have_text(re.compile(r"^(0 %|–)$"))
    shot(page, "manager-dashboard")


def test_agent_uses_canned_responses_tags_files_and_transfers(console, api, manager, server):
    from chat_helpers import add_department, add_tag, queued_chat
    from playwright.sync_api import expect

    billing = add_department(server, "Billing", menu_option=1)
    add_tag(server, "Refund")
    api.ok(api.post("CreateCannedResponse", manager, {"Name": "Greeting", "ShortCode": "greet",
                                                      "Text": "Hello {CustomerName}, how can I help?"}))
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(billing,))
    colleague = add_agent(server, name="Olga Other", email="olga@example.com", department_ids=(billing,))
    api.logon("olga@example.com")  # Online, so a chat can be transferred to her
    chat = queued_chat(server, billing, name="Thandi Nkosi", first_text="My invoice is wrong")

    page = console("/")
    log_on(page, "sam@example.com")
    expect(page.locator("#queue")).to_contain_text("Thandi Nkosi")
    page.get_by_role("button", name="Grab next").click()
    expect(page.get_by_role("list", name="Messages")).to_contain_text("My invoice is wrong")

    reply = page.get_by_label("Message", exact=True)
    reply.fill("/gr")
    page.get_by_role("option", name="/greet Greeting").click()
    expect(reply).to_have_value("Hello Thandi Nkosi, how can I help?")
    reply.press("Enter")
    expect(page.get_by_role("list", name="Messages")).to_contain_text("Hello Thandi Nkosi, how can I help?")

    page.get_by_label("Add a tag").select_option(label="Topics: Refund")
    expect(page.get_by_role("list", name="Tags")).to_contain_text("Topics: Refund")

    page.locator("#attach").set_input_files(files=[{"name": "invoice.txt", "mimeType": "text/plain",
                                                    "buffer": b"corrected invoice"}])
    page.get_by_role("button", name="Send").click()
    attachment = page.get_by_role("button", name="Download invoice.txt (17 bytes)")
    with page.expect_download() as download:
        attachment.click()
    assert Path(download.value.path()).read_bytes() == b"corrected invoice"
    shot(page, "agent-canned-tag-file")

    page.get_by_role("button", name="Transfer").click()
    dialog = page.get_by_role("dialog", name="Transfer chat")
    dialog.get_by_label("Agent (online, in this department)").select_option(label="Olga Other (Online)")
    dialog.get_by_role("button", name="Transfer to agent").click()
    expect(page.locator("#mine")).to_contain_text("No open chats")
    detail = api.ok(api.get("GetChat", manager, {"ChatID": chat.chat_id}))
    assert detail["AgentID"] == colleague
    assert [m["File"]["FileName"] for m in detail["Messages"] if m["File"]] == ["invoice.txt"]


def closed_chat(api, server, department_id: int, agent_email: str, *, phone: str, name: str, text: str,
                tag_id: int | None = None) -> int:
    """A WhatsApp chat that an agent grabbed, tagged (if tag_id) and closed; returns its ChatID."""
    from chat_helpers import queued_chat

    chat = queued_chat(server, department_id, phone=phone, name=name, first_text=text)
    token = api.logon(agent_email)
    api.ok(api.post("GrabChat", token, {"ChatID": chat.chat_id}))
    if tag_id:
        api.ok(api.post("AddTag", token, {"ChatID": chat.chat_id, "TagID": tag_id}))
    api.ok(api.post("CloseChat", token, {"ChatID": chat.chat_id}))
    return chat.chat_id


def test_agent_finds_a_customer_and_reads_their_closed_chat_in_history(console, api, server):
    from chat_helpers import add_department, add_tag
    from playwright.sync_api import expect

    billing = add_department(server, "Billing", menu_option=1)
    refund = add_tag(server, "Refund")
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(billing,))
    closed_chat(api, server, billing, "sam@example.com", phone="27821234567", name="Thandi Nkosi",
                text="My invoice is wrong", tag_id=refund)
    closed_chat(api, server, billing, "sam@example.com", phone="27829876543", name="Sipho Dlamini",
                text="Where is my order?")

    page = search_customers(console, "sam@example.com", "nkos")
    found = page.get_by_role("table", name="Customers")
    expect(found).to_contain_text("Thandi Nkosi")
    expect(found).to_contain_text("27821234567")
    expect(found).not_to_contain_text("Sipho")
    expect(page.get_by_role("navigation", name="Customer pages")).to_contain_text("1–1 of 1")

    found.get_by_role("button", name="Thandi Nkosi").click()
    customer = page.get_by_role("region", name="Customer")
    expect(customer.get_by_role("heading", name="Thandi Nkosi")).to_be_focused()
    expect(customer.get_by_role("table", name="Chats")).to_contain_text("Billing · WhatsApp · closed")
    customer.get_by_label("E-mail address").fill("thandi@example.com")
    customer.get_by_role("button", name="Save customer").click()
    expect(found).to_contain_text("thandi@example.com")
    customer.get_by_role("button", name="View chat of").click()
    conversation = page.get_by_role("region", name="Conversation")
    expect(conversation.get_by_role("list", name="Messages")).to_contain_text("My invoice is wrong")
    expect(conversation.get_by_role("list", name="Tags")).to_contain_text("Topics: Refund")
    shot(page, "agent-customers")
    sam = api.logon("sam@example.com")
    assert [c["EmailAddress"] for c in api.ok(api.get("SearchCustomer", sam, {"Search": "Thandi"}))["Items"]] \
        == ["thandi@example.com"]

    go_to(page, "History")
    history = page.get_by_role("table", name="Closed chats")
    expect(history).to_contain_text("Sipho Dlamini")
    page.get_by_label("Started from").fill("2999-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#history")).to_contain_text("No closed chats started in those days.")
    page.get_by_label("Started from").fill("")
    page.get_by_role("button", name="Show").click()
    history.get_by_role("button", name="View chat with Thandi Nkosi").click()
    conversation = page.get_by_role("region", name="Conversation")
    expect(conversation.get_by_role("list", name="Messages")).to_contain_text("My invoice is wrong")
    expect(conversation).not_to_contain_text("Where is my order?")
    with page.expect_download() as download:
        conversation.get_by_role("button", name="Export CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "MessageID,CreatedAt,SenderType,SenderName,Text,FileName,DeliveryStatus"
    assert any("My invoice is wrong" in line for line in lines[1:])
    shot(page, "agent-history")


def test_manager_erases_a_customer_from_the_customer_panel(console, api, server):
    from chat_helpers import add_department, queued_chat
    from playwright.sync_api import expect

    billing = add_department(server, "Billing", menu_option=1)
    add_agent(server, name="Mia Manager", email="mia@example.com", role_id=ROLE_MANAGER)
    chat = queued_chat(server, billing, name="Thandi Nkosi", first_text="My ID number is 8001015009087")

    page = search_customers(console, "mia@example.com", "thandi")
    found = page.get_by_role("table", name="Customers")
    found.get_by_role("button", name="Thandi Nkosi").click()
    customer = page.get_by_role("region", name="Customer")
    customer.get_by_label("New comment").fill("Asked us to forget her")
    customer.get_by_role("button", name="Add comment").click()
    expect(customer.get_by_role("list")).to_contain_text("Asked us to forget her")

    customer.get_by_role("button", name="Erase personal data").click()
    confirm = page.get_by_role("dialog", name="Erase Thandi Nkosi?")
    shot(page, "manager-erase-confirm")
    confirm.get_by_role("button", name="Erase personal data").click()
    expect(confirm).to_be_hidden()
    expect(customer).to_contain_text("Personal data erased")
    expect(customer).not_to_contain_text("Thandi")
    expect(page.locator("#customer-results")).to_contain_text("No customer matches “thandi”.")
    customer.get_by_role("button", name="View chat of").click()
    messages = page.get_by_role("region", name="Conversation").get_by_role("list", name="Messages")
    expect(messages).to_contain_text("[erased]")
    expect(messages).not_to_contain_text("8001015009087")
    shot(page, "manager-customer-erased")

    mia = api.logon("mia@example.com")
    assert api.ok(api.get("SearchCustomer", mia, {"Search": "Thandi"}))["Items"] == []
    assert api.ok(api.get("GetChat", mia, {"ChatID": chat.chat_id}))["Status"] == "Closed"


def test_agent_and_web_chat_customer_see_each_other_typing(console, api, manager, server):
    from playwright.sync_api import expect

    api.ok(api.post("CreateDepartment", manager, {"Name": "Sales", "IncludeInWelcomeMenu": True,
                                                  "WelcomeMenuName": "Buy something", "MenuOption": 1}))
    sales = next(d["DepartmentID"] for d in api.ok(api.get("GetDepartments", manager))["Items"])
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    agent = console("/")
    log_on(agent, "sam@example.com")
    customer = console("/chat", width=420, height=800)
    start_web_chat(customer, "Cora Customer", "Hello")
    customer.get_by_role("button", name="1. Buy something").click()
    agent.get_by_role("button", name="Grab chat with Cora Customer").click()
    expect(agent.get_by_role("list", name="Messages")).to_contain_text("Hello")

    typing = agent.locator(".conversation .typing")
    expect(typing).to_have_text("")
    # Key by key over a few seconds: the page sends Typing at most every 2 s, and its first one went with "Hello".
    customer.get_by_label("Your message").press_sequentially("Is the red one in stock?", delay=150)
    expect(typing).to_have_text("Customer is typing…")
    shot(agent, "agent-customer-typing")
    customer.get_by_role("button", name="Send").click()
    expect(agent.get_by_role("list", name="Messages")).to_contain_text("Is the red one in stock?")
    expect(typing).to_have_text("")

    # And the other way: the agent types, the customer's page says so until the answer arrives.
    agent_typing = customer.locator("#typing")
    expect(agent_typing).to_have_text("")
    reply = agent.get_by_label("Message", exact=True)
    reply.press_sequentially("Let me check", delay=50)
    expect(agent_typing).to_have_text("Agent is typing…")
    reply.press("Enter")
    expect(customer.get_by_role("list", name="Conversation")).to_contain_text("Let me check")
    expect(agent_typing).to_have_text("")


def test_customer_search_pages_through_more_matches_than_are_counted(console, server):
    from playwright.sync_api import expect

    from agentchat.customers import service as customers

    async def many(db):
        for n in range(205):
            await customers.customer_by_phone(db, phone_number=f"2782000{n:04d}", profile_name=f"Bulk Buyer {n}")
    server.with_db(many)
    add_agent(server, name="Sam Agent", email="sam@example.com")

    page = search_customers(console, "sam@example.com", "bulk buyer")
    pages = page.get_by_role("navigation", name="Customer pages")
    # The service stops counting at 200: "200+", and Next as long as a page follows.
    expect(pages).to_contain_text("1–25 of 200+")
    expect(pages.get_by_role("button", name="Previous")).to_be_disabled()
    pages.get_by_role("button", name="Next").click()
    expect(pages).to_contain_text("26–50 of 200+")
    expect(page.get_by_role("table", name="Customers").get_by_role("row")).to_have_count(26)
    pages.get_by_role("button", name="Previous").click()
    expect(pages).to_contain_text("1–25 of 200+")


def test_history_and_customers_follow_changes_made_elsewhere(console, api, manager, server):
    """Closed chats arrive in History, and the chosen customer's details, comments and chats change in Customers,
    as others work: without reloading, and without wiping what the agent is typing."""
    from chat_helpers import add_department, queued_chat
    from playwright.sync_api import expect

    billing = add_department(server, "Billing", menu_option=1)
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(billing,))
    closed_chat(api, server, billing, "sam@example.com", phone="27821234567", name="Thandi Nkosi", text="Invoice")
    page = console("/")
    log_on(page, "sam@example.com")
    go_to(page, "History")
    history = page.get_by_role("table", name="Closed chats")
    expect(history).to_contain_text("Thandi Nkosi")
    expect(history).not_to_contain_text("Sipho Dlamini")
    history.get_by_role("button", name="View chat with Thandi Nkosi").focus()  # a keyboard user, on a row
    closed_chat(api, server, billing, "sam@example.com", phone="27829876543", name="Sipho Dlamini", text="Order?")
    expect(history).to_contain_text("Sipho Dlamini")
    expect(history.get_by_role("button", name="View chat with Thandi Nkosi")).to_be_focused()

    waiting = queued_chat(server, billing, phone="27821234567", name="Thandi Nkosi", first_text="Me again")
    go_to(page, "Customers")
    page.get_by_label("Search customers").fill("nkosi")
    page.get_by_role("button", name="Search", exact=True).click()
    found = page.get_by_role("table", name="Customers")
    found.get_by_role("button", name="Thandi Nkosi").click()
    customer = page.get_by_role("region", name="Customer")
    expect(customer.get_by_role("table", name="Chats")).to_contain_text("unassigned")

    api.ok(api.post("UpdateCustomer", manager, {"CustomerID": waiting.customer_id, "Name": "Thandi Mokoena-Nkosi",
                                                "Comments": "Called back about the invoice"}))
    expect(customer.get_by_role("heading", name="Thandi Mokoena-Nkosi")).to_be_visible()
    expect(customer.get_by_role("list").first).to_contain_text("Called back about the invoice")
    expect(found).to_contain_text("Thandi Mokoena-Nkosi")

    # Sam starts typing a new e-mail address; a colleague's comment arrives meanwhile and leaves it be.
    customer.get_by_label("E-mail address").fill("thandi@example")
    api.ok(api.post("AddComment", manager, {"CustomerID": waiting.customer_id, "Comment": "Prefers e-mail"}))
    expect(customer).to_contain_text("Prefers e-mail")
    expect(customer.get_by_label("E-mail address")).to_have_value("thandi@example")

    # The chat ends while Sam is still in the form: the chats list follows, the form stays.
    api.ok(api.post("GrabChat", manager, {"ChatID": waiting.chat_id}))
    api.ok(api.post("CloseChat", manager, {"ChatID": waiting.chat_id}))
    chats = customer.get_by_role("table", name="Chats")
    expect(chats).not_to_contain_text("unassigned")
    expect(chats.get_by_text("closed", exact=False)).to_have_count(2)
    expect(customer.get_by_label("E-mail address")).to_have_value("thandi@example")
    shot(page, "agent-customers-live")
