"""The inbox as agents and managers triage and supervise, in a real browser (see test_console_browser.py for the
set-up: Debian's Chromium through Playwright, on the first backend only). Screenshots at 1440×900 and 390×844
go to test-artifacts/ (gitignored)."""

import base64
import re
from datetime import timedelta

import test_console_browser as browser_tests
from chat_helpers import add_department, customer_writes, queued_chat
from conftest import add_agent
from sqlalchemy import update
from test_console_browser import log_on, start_web_chat
from test_console_browser import shot as full_shot

from agentchat import clock
from agentchat.agents.models import ROLE_MANAGER
from agentchat.bot import service as bot
from agentchat.chats.models import WHATSAPP, Chat

# The browser fixtures of test_console_browser.py (pytest finds fixtures among a module's names).
browser, one_backend, console = browser_tests.browser, browser_tests.one_backend, browser_tests.console

LAPTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def shot(page, name: str) -> None:
    """What the user sees (the viewport), not the whole scrolled page."""
    page.screenshot(path=str(browser_tests.ARTIFACTS / f"{name}.png"))


def customer_sends_photo(server, customer_id: int, caption: str | None) -> None:
    async def work(db):
        await bot.receive_message(db, bot.Inbound(channel=WHATSAPP, customer_id=customer_id, text=caption, file={
            "file_name": "receipt.jpg", "file_type": "image/jpeg", "file_size": 2048, "file_key": "test/receipt"}))
    server.with_db(work)


def queued_minutes_ago(server, chat_id: int, minutes: int) -> None:
    async def work(db):
        await db.execute(update(Chat).where(Chat.id == chat_id).values(
            queued_at=clock.now() - timedelta(minutes=minutes)))
    server.with_db(work)


def no_chat_opened(requests: list[str]) -> bool:
    return not [url for url in requests if "/api/GetChat?" in url]


def test_an_agent_triages_every_row_without_opening_a_chat(console, api, manager, server):
    from playwright.sync_api import expect

    sales = add_department(server, "Sales", menu_option=1)
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    api.ok(api.post("UpdateSettings", manager, {"Settings": [{"UnassignedChatsWaitingMinutes": 4}]}))
    thandi = queued_chat(server, sales, phone="27821000001", name="Thandi Nkosi", first_text="Hi")
    customer_writes(server, thandi.customer_id, "My invoice is wrong, I was charged twice")
    sipho = queued_chat(server, sales, phone="27821000002", name="Sipho Dlamini", first_text="Hi")
    customer_sends_photo(server, sipho.customer_id, None)
    nameless = queued_chat(server, sales, phone="27821000003", name=None, first_text="Hi")
    customer_writes(server, nameless.customer_id, "hello?? anyone there")
    queued_minutes_ago(server, nameless.chat_id, 5)  # past the 4 minutes: late
    queued_minutes_ago(server, sipho.chat_id, 3)     # past half of them: soon
    sam = api.logon("sam@example.com")
    lerato = queued_chat(server, sales, phone="27821000004", name="Lerato Mokoena", first_text="Hi")
    api.ok(api.post("GrabChat", sam, {"ChatID": lerato.chat_id}))
    api.ok(api.post("SendMessage", sam, {"ChatID": lerato.chat_id, "Message": "Yes, we have the red one."}))
    pieter = queued_chat(server, sales, phone="27821000005", name="Pieter van Wyk", first_text="Hi")
    api.ok(api.post("GrabChat", sam, {"ChatID": pieter.chat_id}))
    customer_writes(server, pieter.customer_id, "Can I change my delivery address?")

    page = console("/", **LAPTOP)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    log_on(page, "sam@example.com")

    # Sam has chats of his own: the inbox opens on them, the one awaiting his reply first.
    mine = page.locator("#mine")
    expect(page.get_by_role("tab", name="Mine (2)")).to_have_attribute("aria-selected", "true")
    rows = mine.locator("li.chat-item")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Pieter van Wyk")
    expect(rows.nth(0)).to_contain_text("Can I change my delivery address?")
    expect(rows.nth(0)).to_contain_text("awaiting your reply")
    expect(rows.nth(1)).to_contain_text("Lerato Mokoena")
    expect(rows.nth(1)).to_contain_text("You: Yes, we have the red one.")
    expect(rows.nth(1)).not_to_contain_text("awaiting")
    shot(page, "inbox-mine-1440")

    page.get_by_role("tab", name="Waiting (3)").click()
    queue = page.locator("#queue li.chat-item")
    expect(queue).to_have_count(3)
    # Oldest first; each row says who, what they said last, and how long they have waited (red once too long).
    expect(queue.nth(0)).to_contain_text("27821000003")
    expect(queue.nth(0)).to_contain_text("hello?? anyone there")
    expect(queue.nth(0).locator(".wait")).to_have_text(re.compile(r"^waiting 5:\d\d — late$"))
    expect(queue.nth(0)).to_have_attribute("data-sla", "late")
    expect(queue.nth(1)).to_contain_text("Sipho Dlamini")
    expect(queue.nth(1)).to_contain_text("Photo")
    expect(queue.nth(1)).to_have_attribute("data-sla", "soon")
    expect(queue.nth(2)).to_contain_text("Thandi Nkosi")
    expect(queue.nth(2)).to_contain_text("My invoice is wrong, I was charged twice")
    expect(queue.nth(2).locator(".wait")).to_have_text(re.compile(r"^waiting 0:\d\d$"))
    expect(page).to_have_title("3 waiting · Inbox · AgentChat")
    shot(page, "inbox-waiting-1440")
    assert no_chat_opened(requests), "the inbox opened chats to draw its rows"

    # The search box narrows the list to what matches a name, a number or the last message.
    page.get_by_label("Search chats").fill("invoice")
    expect(queue).to_have_count(1)
    expect(queue.first).to_contain_text("Thandi Nkosi")
    page.get_by_label("Search chats").fill("")
    expect(queue).to_have_count(3)

    # A new customer arrives on the web chat: their row comes with their name and what they wrote.
    visitor = console("/chat", width=420, height=800)
    start_web_chat(visitor, "Cora Customer", "Do you deliver to Durban?")
    visitor.get_by_role("button", name="1. Sales").click()
    expect(queue).to_have_count(4)
    expect(page.locator("#queue li", has_text="Cora Customer")).to_contain_text("Sales")
    expect(page).to_have_title("4 waiting · Inbox · AgentChat")

    # He takes Cora's chat, then reads another: Cora's next message shows on her row, unread, and in the title.
    page.get_by_role("button", name="Grab chat with Cora Customer").click()
    expect(page.get_by_role("heading", name="Cora Customer")).to_be_visible()
    cora_url = page.url
    page.locator("#mine li", has_text="Lerato Mokoena").locator("a").click()
    expect(page.get_by_role("heading", name="Lerato Mokoena")).to_be_visible()
    assert page.url.endswith(f"#/inbox/{lerato.chat_id}")
    visitor.get_by_label("Your message").fill("Are you still there?")
    visitor.get_by_role("button", name="Send").click()
    cora = page.locator("#mine li", has_text="Cora Customer")
    expect(cora).to_contain_text("Are you still there?")
    expect(cora).to_contain_text("awaiting your reply")
    expect(cora.get_by_label("1 unread")).to_be_visible()
    expect(page).to_have_title("(1) 3 waiting · Inbox · AgentChat")
    # The browser's Back returns to the chat before.
    page.go_back()
    expect(page.get_by_role("heading", name="Cora Customer")).to_be_visible()
    assert page.url == cora_url
    expect(page).to_have_title("3 waiting · Inbox · AgentChat")

    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="‹ Chats").click()
    expect(page.get_by_role("tab", name="Mine (3)")).to_be_visible()
    shot(page, "inbox-mine-390")


def test_own_chats_stay_in_sight_when_the_queue_is_long(console, api, server):
    from playwright.sync_api import expect

    sales = add_department(server, "Sales", menu_option=1)
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    for n in range(30):
        queued_chat(server, sales, phone=f"278220000{n:02d}", name=f"Waiting Customer {n}", first_text="Hi")
    sam = api.logon("sam@example.com")
    mine = queued_chat(server, sales, phone="27823000000", name="Own Customer", first_text="Hi")
    api.ok(api.post("GrabChat", sam, {"ChatID": mine.chat_id}))

    page = console("/", **LAPTOP)
    log_on(page, "sam@example.com")
    own = page.locator("#mine li", has_text="Own Customer")
    expect(own).to_be_in_viewport()
    page.get_by_role("tab", name="Waiting (30)").click()
    expect(page.locator("#queue li.chat-item")).to_have_count(30)
    # One click away, whatever the length of the queue: the tab sits above the list.
    expect(page.get_by_role("tab", name="Mine (1)")).to_be_in_viewport()
    page.get_by_role("tab", name="Mine (1)").click()
    expect(own).to_be_in_viewport()
    full_shot(page, "inbox-long-queue")


def test_a_manager_opens_another_agents_chat_and_reassigns_it(console, api, server):
    from playwright.sync_api import expect

    sales = add_department(server, "Sales", menu_option=1)
    support = add_department(server, "Support", menu_option=2)
    add_agent(server, name="Mia Manager", email="mia@example.com", role_id=ROLE_MANAGER)
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    olga = add_agent(server, name="Olga Other", email="olga@example.com", department_ids=(sales, support))
    sam = api.logon("sam@example.com")
    chat = queued_chat(server, sales, phone="27821000001", name="Thandi Nkosi", first_text="Hi")
    api.ok(api.post("GrabChat", sam, {"ChatID": chat.chat_id}))
    customer_writes(server, chat.customer_id, "Still waiting for the refund")
    waiting = queued_chat(server, support, phone="27821000002", name="Sipho Dlamini", first_text="Hi")
    customer_writes(server, waiting.customer_id, "Where is my order?")

    page = console("/", **LAPTOP)
    log_on(page, "mia@example.com")
    page.get_by_role("tab", name="All open (2)").click()
    every = page.locator("#all-open li.chat-item")
    expect(every).to_have_count(2)
    expect(every.filter(has_text="Thandi Nkosi")).to_contain_text("with Sam Agent")
    expect(every.filter(has_text="Thandi Nkosi")).to_contain_text("awaiting a reply")
    page.get_by_label("Agent", exact=True).select_option(label="Sam Agent")
    expect(every).to_have_count(1)
    page.get_by_label("Agent", exact=True).select_option(label="Every agent")
    page.get_by_label("Department", exact=True).select_option(label="Support")
    expect(every).to_have_count(1)
    expect(every.first).to_contain_text("Sipho Dlamini")
    page.get_by_label("Department", exact=True).select_option(label="Every department")
    shot(page, "inbox-all-open-1440")

    every.filter(has_text="Thandi Nkosi").locator("a").click()
    conversation = page.get_by_role("region", name="Conversation")
    expect(conversation.get_by_role("list", name="Messages")).to_contain_text("Still waiting for the refund")
    expect(conversation).to_contain_text("with Sam Agent")
    conversation.get_by_role("button", name="Reassign").click()
    dialog = page.get_by_role("dialog", name="Reassign chat")
    dialog.get_by_label("Agent").select_option(label="Olga Other — Offline, 0 of 5 chats")
    dialog.get_by_role("button", name="Reassign chat").click()
    expect(dialog).to_be_hidden()
    expect(conversation).to_contain_text("with Olga Other")
    expect(every.filter(has_text="Thandi Nkosi")).to_contain_text("with Olga Other")
    assert api.ok(api.get("GetChat", sam, {"ChatID": chat.chat_id}))["AgentID"] == olga


def test_a_manager_follows_the_dashboard_and_the_live_board_to_the_chats(console, api, server):
    from playwright.sync_api import expect

    sales = add_department(server, "Sales", menu_option=1)
    support = add_department(server, "Support", menu_option=2)
    add_agent(server, name="Mia Manager", email="mia@example.com", role_id=ROLE_MANAGER)
    sam_id = add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    add_agent(server, name="Olga Other", email="olga@example.com", department_ids=(sales, support))
    sam = api.logon("sam@example.com")
    taken = queued_chat(server, sales, phone="27821000001", name="Thandi Nkosi", first_text="Hi")
    api.ok(api.post("GrabChat", sam, {"ChatID": taken.chat_id}))
    customer_writes(server, taken.customer_id, "Still waiting for the refund")
    queued_chat(server, support, phone="27821000002", name="Sipho Dlamini", first_text="Where is my order?")

    page = console("/", **LAPTOP)
    log_on(page, "mia@example.com")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    tiles = page.locator(".tiles")
    expect(tiles.get_by_role("link", name="1 Waiting")).to_be_visible()
    shot(page, "dashboard-1440")
    page.set_viewport_size(PHONE)
    shot(page, "dashboard-390")
    page.set_viewport_size(LAPTOP)

    tiles.get_by_role("link", name="1 Waiting").click()
    expect(page.get_by_role("tab", name="Waiting (1)")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#queue li.chat-item")).to_contain_text("Sipho Dlamini")
    page.go_back()
    tiles.get_by_role("link", name="1 In progress").click()
    expect(page.get_by_role("tab", name="All open (2)")).to_have_attribute("aria-selected", "true")
    every = page.locator("#all-open li.chat-item")
    expect(every).to_have_count(1)
    expect(every.first).to_contain_text("Thandi Nkosi")

    page.get_by_role("link", name="Live board", exact=True).click()
    agents = page.get_by_role("table", name="Agents now")
    sam_row = agents.get_by_role("row", name=re.compile("Sam Agent"))
    expect(sam_row).to_contain_text("Online")
    expect(sam_row.get_by_role("link", name="Sam Agent: 1 of 5 chats")).to_be_visible()
    expect(sam_row.get_by_role("cell").nth(3)).to_have_text("1")  # Thandi wrote last: awaiting his reply
    expect(agents.get_by_role("row", name=re.compile("Olga Other"))).to_contain_text("Offline")
    departments = page.get_by_role("table", name="Departments now")
    expect(departments.get_by_role("link", name="Support: 1 waiting")).to_be_visible()

    # Live: Sam takes a new Sales chat, then goes Busy.
    more = queued_chat(server, sales, phone="27821000003", name="Lerato Mokoena", first_text="Hi")
    api.ok(api.post("GrabChat", sam, {"ChatID": more.chat_id}))
    expect(sam_row.get_by_role("link", name="Sam Agent: 2 of 5 chats")).to_be_visible()
    api.ok(api.post("UpdateAgent", sam, {"AgentID": sam_id, "StatusID": 2}))
    expect(sam_row).to_contain_text("Busy")
    shot(page, "board-1440")
    page.set_viewport_size(PHONE)
    shot(page, "board-390")
    page.set_viewport_size(LAPTOP)

    sam_row.get_by_role("link", name="Sam Agent: 2 of 5 chats").click()
    expect(page.get_by_label("Agent", exact=True)).to_have_value(str(sam_id))
    expect(every).to_have_count(2)
    expect(every.filter(has_text="Lerato Mokoena")).to_contain_text("with Sam Agent")


def topmost(page, locator) -> bool:
    """Whether a click at the middle of `locator` would land on it (nothing drawn over it)."""
    return locator.evaluate("""(node) => {
        const box = node.getBoundingClientRect();
        const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        return node === hit || node.contains(hit);
    }""")


def test_errors_show_where_they_happen(console, api, server):
    from playwright.sync_api import expect

    sales = add_department(server, "Sales", menu_option=1)
    add_agent(server, name="Mia Manager", email="mia@example.com", role_id=ROLE_MANAGER)
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    add_agent(server, name="Olga Other", email="olga@example.com", department_ids=(sales,))
    sam = api.logon("sam@example.com")
    olga = api.logon("olga@example.com")  # Online: offered in the transfer dialog
    chat = queued_chat(server, sales, phone="27821000001", name="Thandi Nkosi", first_text="Hi")
    api.ok(api.post("GrabChat", sam, {"ChatID": chat.chat_id}))

    console.expect_refusal("CreateAgent", 422)
    console.expect_refusal("TransferChatToAgent", 409)
    page = console("/", **LAPTOP)
    log_on(page, "mia@example.com")
    browser_tests.go_to(page, "Agents")
    page.get_by_role("button", name="New agent").click()
    dialog = page.get_by_role("dialog", name="New agent")
    expect(dialog.locator("label.required")).to_have_text(["Name", "E-mail address"])
    expect(dialog).to_contain_text("Fields marked * are required.")
    dialog.get_by_role("button", name="Create agent").click()
    name = dialog.get_by_label("Name", exact=True)
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name.locator("xpath=..")).to_contain_text("Fill this in.")

    name.fill("Nandi New")
    email = dialog.get_by_label("E-mail address", exact=True)
    email.fill("nandi@")
    dialog.get_by_role("button", name="Create agent").click()
    # The service refuses the address: said beside it, in words, with the focus there; nothing else pops up.
    expect(email).to_be_focused()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email.locator("xpath=..")).to_contain_text("Enter an e-mail address like name@example.com.")
    expect(dialog).not_to_contain_text("EmailAddress")
    expect(name).not_to_have_attribute("aria-invalid", "true")
    assert page.locator(".toast").count() == 0
    shot(page, "error-inline-1440")
    dialog.get_by_role("button", name="Close").click()

    # An error inside a dialog shows above its backdrop.
    page.get_by_role("link", name="Inbox", exact=True).click()
    page.get_by_role("tab", name="All open (1)").click()
    page.locator("#all-open li", has_text="Thandi Nkosi").locator("a").click()
    page.get_by_role("button", name="Transfer").click()
    transfer = page.get_by_role("dialog", name="Transfer chat")
    transfer.get_by_label("Agent (online, in this department)").select_option(label="Olga Other (Online)")
    api.ok(api.get("AgentLogoff", olga))
    transfer.get_by_role("button", name="Transfer to agent").click()
    error = page.locator(".toast.error")
    expect(error).to_contain_text("not Online")
    shot(page, "error-toast-over-dialog-1440")
    assert topmost(page, error), "the error toast is hidden behind the dialog"
    shot(page, "error-toast-over-dialog-1440")
    transfer.get_by_role("button", name="Close").click()

    # It does not follow the manager to the next page.
    page.get_by_role("link", name="History", exact=True).click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(page.locator(".toast")).to_have_count(0)

    # An empty reply is refused beside the box; a toast never covers Send.
    agent = console("/", **LAPTOP)
    log_on(agent, "sam@example.com")
    agent.locator("#mine li", has_text="Thandi Nkosi").locator("a").click()
    reply = agent.get_by_label("Message", exact=True)
    agent.get_by_role("button", name="Send").click()
    expect(reply).to_be_focused()
    expect(reply).to_have_attribute("aria-invalid", "true")
    expect(agent.locator(".compose")).to_contain_text("Type a message or attach a file.")
    agent.get_by_role("complementary", name="Customer").get_by_role("button", name="Save customer").click()
    expect(agent.locator(".toast")).to_contain_text("Customer saved.")
    assert topmost(agent, agent.get_by_role("button", name="Send"))
    agent.set_viewport_size(PHONE)
    assert topmost(agent, agent.get_by_role("button", name="Send"))
    reply.fill("Hello Thandi")
    reply.press("Enter")
    expect(agent.get_by_role("list", name="Messages")).to_contain_text("Hello Thandi")
    expect(reply).not_to_have_attribute("aria-invalid", "true")


def test_an_agent_answers_with_canned_responses_from_the_keyboard(console, api, manager, server):
    from playwright.sync_api import expect

    sales = add_department(server, "Sales", menu_option=1)
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    for name, code, text in (("Greeting", "greet", "Hello {CustomerName}, how can I help?"),
                             ("Refund", "refund", "Your refund is on its way: allow 3 working days."),
                             ("Regards", "regards", "Kind regards, {AgentName}"),
                             ("Opening hours", "", "We are open from 8 to 5.")):
        api.ok(api.post("CreateCannedResponse", manager, {"Name": name, "ShortCode": code, "Text": text}))
    sam = api.logon("sam@example.com")
    chat = queued_chat(server, sales, phone="27821000001", name="Thandi Nkosi", first_text="Hi")
    api.ok(api.post("GrabChat", sam, {"ChatID": chat.chat_id}))

    page = console("/", **LAPTOP)
    log_on(page, "sam@example.com")
    page.locator("#mine li", has_text="Thandi Nkosi").locator("a").click()
    messages = page.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("Hi")
    sent_before = messages.locator("li").count()
    reply = page.get_by_role("combobox", name="Message")
    options = page.get_by_role("listbox", name="Canned responses").get_by_role("option")

    # "/re": both matches, their text shown, the first chosen; Down, then Enter takes the second, nothing is sent.
    reply.press_sequentially("/re")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_contain_text("Your refund is on its way")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    shot(page, "canned-suggestions-1440")
    reply.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    reply.press("Enter")
    expect(reply).to_have_value("Kind regards, Sam Agent")
    expect(options).to_have_count(0)

    # Tab takes the first one as well.
    reply.fill("")
    reply.press_sequentially("/gr")
    expect(options).to_have_count(1)
    reply.press("Tab")
    expect(reply).to_have_value("Hello Thandi Nkosi, how can I help?")
    expect(reply).to_be_focused()

    # Escape closes the list; Enter on the bare code opens it again rather than sending "/re".
    reply.fill("")
    reply.press_sequentially("/re")
    reply.press("Escape")
    expect(page.get_by_role("listbox", name="Canned responses")).to_be_hidden()
    expect(reply).to_have_value("/re")
    reply.press("Enter")
    expect(options).to_have_count(2)
    reply.press("Escape")
    # A code that matches nothing is never sent either.
    reply.fill("/zz")
    reply.press("Enter")
    expect(page.locator(".compose")).to_contain_text("No canned response has the short code /zz.")
    assert messages.locator("li").count() == sent_before

    # The button browses them all, with their text, searchable.
    page.get_by_role("button", name="Canned responses").click()
    browse = page.get_by_role("dialog", name="Canned responses")
    expect(browse).to_contain_text("We are open from 8 to 5.")
    browse.get_by_label("Search canned responses").fill("open")
    expect(browse.get_by_role("button", name=re.compile("^Use "))).to_have_count(1)
    browse.get_by_role("button", name="Use Opening hours").click()
    expect(reply).to_have_value("We are open from 8 to 5.")
    reply.press("Enter")
    expect(messages).to_contain_text("We are open from 8 to 5.")
    assert not [m for m in api.ok(api.get("GetChat", sam, {"ChatID": chat.chat_id}))["Messages"]
                if (m["Text"] or "").startswith("/")]


def test_place_alerts_and_keyboard(console, api, server):
    from playwright.sync_api import expect

    sales = add_department(server, "Sales", menu_option=1)
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    browser_tests.closed_chat(api, server, sales, "sam@example.com", phone="27821000001", name="Thandi Nkosi",
                              text="My invoice is wrong")
    sam = api.logon("sam@example.com")
    for phone, name, text in (("27821000001", "Thandi Nkosi", "Me again, about the invoice"),
                              ("27821000002", "Lerato Mokoena", "Is the red bike in stock?")):
        chat = queued_chat(server, sales, phone=phone, name=name, first_text=text)
        api.ok(api.post("GrabChat", sam, {"ChatID": chat.chat_id}))
    queued_chat(server, sales, phone="27821000003", name="Sipho Dlamini", first_text="Where is my order?")

    page = console("/", **LAPTOP)
    log_on(page, "sam@example.com")
    # The alert choice is remembered by the browser.
    page.get_by_role("button", name="Turn on alerts").click()
    expect(page.locator("#alerts")).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.locator("#live")).to_have_text("Live")
    expect(page.locator("#alerts")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#alerts")).not_to_have_text("Turn on alerts")

    # Keyboard: ? lists the shortcuts; j and k walk the list; each chat has its address.
    page.locator("body").press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_contain_text("Grab the next waiting chat")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    rows = page.locator("#mine li.chat-item")
    expect(rows).to_have_count(2)
    first, second = (rows.nth(n).locator(".name").inner_text() for n in (0, 1))
    page.locator("body").press("j")
    expect(page.locator("#chat-title")).to_have_text(first)
    page.locator("body").press("j")
    expect(page.locator("#chat-title")).to_have_text(second)
    page.locator("body").press("k")
    expect(page.locator("#chat-title")).to_have_text(first)
    page.go_back()
    expect(page.locator("#chat-title")).to_have_text(second)
    page.go_back()
    expect(page.locator("#chat-title")).to_have_text(first)

    # Thandi's chat: her earlier chat is listed in the customer panel and readable there.
    page.locator("#mine li", has_text="Thandi Nkosi").locator("a").click()
    earlier = page.get_by_role("complementary", name="Customer").locator("#earlier-chats")
    expect(earlier).to_contain_text("closed")
    earlier.get_by_role("button", name=re.compile("^Read the chat of")).click()
    reading = page.get_by_role("dialog", name=re.compile("^Chat of"))
    expect(reading.get_by_role("list", name="Messages")).to_contain_text("My invoice is wrong")
    reading.get_by_role("button", name="Close").click()

    # Another view and back: the open chat is still open.
    page.get_by_role("link", name="History", exact=True).click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    page.get_by_role("link", name="Inbox", exact=True).click()
    expect(page.locator("#chat-title")).to_have_text("Thandi Nkosi")

    # Focus: the message list takes it (to scroll by keyboard); the file button shows it; a row is one Tab stop.
    messages = page.get_by_role("list", name="Messages")
    messages.focus()
    expect(messages).to_be_focused()
    page.get_by_label("Message", exact=True).focus()
    page.keyboard.press("Tab")
    expect(page.locator("#attach")).to_be_focused()
    outline = page.locator("label[for=attach]").evaluate("(n) => getComputedStyle(n).outlineStyle")
    assert outline == "solid"
    page.get_by_role("tab", name="Waiting (1)").click()
    waiting = page.locator("#queue li.chat-item").first
    assert waiting.locator("a[href], button:not([tabindex='-1'])").count() == 1
    page.get_by_role("tab", name="Mine (2)").click()

    # c closes the open chat, after asking; g grabs the next waiting one.
    page.locator("body").press("c")
    confirm = page.get_by_role("dialog", name="Close the chat with Thandi Nkosi?")
    confirm.get_by_role("button", name="Cancel").click()
    expect(rows).to_have_count(2)
    page.locator("body").press("c")
    confirm.get_by_role("button", name="Close chat").click()
    expect(rows).to_have_count(1)
    page.locator("body").press("g")
    expect(page.locator("#chat-title")).to_have_text("Sipho Dlamini")
    expect(rows).to_have_count(2)
    shot(page, "inbox-conversation-1440")

    # The connection drops: a banner says so until it is back.
    page.context.set_offline(True)
    expect(page.get_by_role("alert").filter(has_text="Connection lost")).to_be_visible()
    shot(page, "inbox-offline-1440")
    page.context.set_offline(False)
    expect(page.locator("#offline")).to_have_count(0, timeout=60_000)
    expect(page.locator("#live")).to_have_text("Live")


PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR42mP8z8DwnwEJMDKgAxQBAK4SAv8hr"
                       "gAzAAAAAElFTkSuQmCC")  # 2×2 pixels


def test_attachments_show_as_pictures_players_and_cards(console, api, manager, server):
    from playwright.sync_api import expect

    api.ok(api.post("CreateDepartment", manager, {"Name": "Sales", "IncludeInWelcomeMenu": True,
                                                  "WelcomeMenuName": "Buy something", "MenuOption": 1}))
    sales = next(d["DepartmentID"] for d in api.ok(api.get("GetDepartments", manager))["Items"])
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    agent = console("/", **LAPTOP)
    log_on(agent, "sam@example.com")
    visitor = console("/chat", **PHONE)
    start_web_chat(visitor, "Cora Customer", "Hello")
    visitor.get_by_role("button", name="1. Buy something").click()
    agent.get_by_role("button", name="Grab chat with Cora Customer").click()
    messages = agent.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("Hello")

    # The customer attaches a picture on /chat: the agent sees it, opens it large.
    visitor.locator("#file").set_input_files(files=[{"name": "bike.png", "mimeType": "image/png", "buffer": PNG}])
    expect(visitor.locator("#file-name")).to_have_text("Attached: bike.png")
    visitor.get_by_label("Your message").fill("This one")
    visitor.get_by_role("button", name="Send").click()
    picture = messages.get_by_role("button", name="View picture bike.png")
    expect(picture.locator("img")).to_have_js_property("naturalWidth", 2)
    picture.click()
    viewer = agent.get_by_role("dialog", name="bike.png")
    expect(viewer.locator("img")).to_have_js_property("naturalWidth", 2)
    viewer.get_by_role("button", name="Close", exact=True).first.click()
    expect(visitor.get_by_role("list", name="Conversation").get_by_role("button", name="Picture bike.png")
           .locator("img")).to_have_js_property("naturalWidth", 2)

    # A pasted screenshot goes too.
    visitor.get_by_label("Your message").evaluate("""(box, png) => {
        const data = new DataTransfer();
        data.items.add(new File([Uint8Array.from(atob(png), (c) => c.charCodeAt(0))], 'screenshot.png',
                                {type: 'image/png'}));
        box.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true}));
    }""", base64.b64encode(PNG).decode())
    expect(visitor.locator("#file-name")).to_have_text("Attached: screenshot.png")
    visitor.get_by_role("button", name="Send").click()
    expect(messages.get_by_role("button", name="View picture screenshot.png")).to_be_visible()

    # The agent drops a PDF on the conversation, and sends a voice note: a card and a player.
    drop = agent.evaluate_handle("""() => {
        const data = new DataTransfer();
        data.items.add(new File(['%PDF-1.4 terms'], 'terms.pdf', {type: 'application/pdf'}));
        return data;
    }""")
    agent.dispatch_event(".conversation", "dragover", {"dataTransfer": drop})
    agent.dispatch_event(".conversation", "drop", {"dataTransfer": drop})
    expect(agent.locator(".compose .file-name")).to_have_text("terms.pdf")
    agent.get_by_role("button", name="Send").click()
    card = messages.locator(".file-card", has_text="terms.pdf")
    expect(card).to_contain_text("PDF")
    expect(card.get_by_role("button", name=re.compile("^Download terms.pdf"))).to_be_visible()
    agent.locator("#attach").set_input_files(files=[{"name": "note.ogg", "mimeType": "audio/ogg", "buffer": b"OggS"}])
    agent.get_by_role("button", name="Send").click()
    expect(messages.locator("audio[controls]")).to_have_attribute("aria-label", "Audio note.ogg")
    expect(visitor.get_by_role("list", name="Conversation")).to_contain_text("Download terms.pdf")
    shot(agent, "attachments-1440")
    shot(visitor, "webchat-attachments-390")


def add_messages_at(server, chat_id: int, *specs: tuple) -> None:
    """(sender_type, text, when) rows written straight into the chat, for dates in the past."""
    from agentchat.chats.models import Message

    async def work(db):
        for sender, text, when in specs:
            db.add(Message(chat_id=chat_id, sender_type=sender, text=text, created_at=when))
    server.with_db(work)


def yesterday_messages(server, chat_id: int) -> None:
    from agentchat.chats.models import Message

    async def work(db):
        await db.execute(update(Message).where(Message.chat_id == chat_id).values(
            created_at=clock.now() - timedelta(days=1)))
    server.with_db(work)


def test_layout_days_folded_updates_and_saves(console, api, server):
    from playwright.sync_api import expect

    sales = add_department(server, "Sales", menu_option=1)
    add_agent(server, name="Mia Manager", email="mia@example.com", role_id=ROLE_MANAGER)
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    sam = api.logon("sam@example.com")
    chat = queued_chat(server, sales, phone="27821000001", name="Thandi Nkosi", first_text="Hi")
    now = clock.now()
    yesterday_messages(server, chat.chat_id)  # the customer's greeting and the bot's welcome came yesterday
    queue = "Thank you. You are number {} in the queue; an agent will be with you shortly."
    add_messages_at(server, chat.chat_id, ("Bot", queue.format(2), now), ("Bot", queue.format(1), now))
    api.ok(api.post("GrabChat", sam, {"ChatID": chat.chat_id}))
    add_messages_at(server, chat.chat_id, *(("Customer", f"line {n}", now) for n in range(25)))

    page = console("/", width=1024, height=768)
    log_on(page, "sam@example.com")
    page.locator("#mine li", has_text="Thandi Nkosi").locator("a").click()
    messages = page.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("line 24")
    # At 1024 px the page does not scroll: the conversation's header stays in view, the customer panel too.
    page.mouse.move(500, 500)
    page.mouse.wheel(0, 2000)
    expect(page.locator("#chat-title")).to_be_in_viewport()
    expect(page.get_by_role("complementary", name="Customer")).to_be_in_viewport()
    assert page.evaluate("document.scrollingElement.scrollTop") == 0
    # Day separators; the bot's three queue updates folded to the latest.
    expect(messages.get_by_role("separator")).to_have_text(["Yesterday", "Today"])
    updates = messages.locator(".msg.Bot", has_text="in the queue")
    expect(updates).to_have_count(3)
    expect(updates.locator("visible=true")).to_have_count(1)
    expect(updates.locator("visible=true")).to_contain_text("number 1 in the queue")
    messages.get_by_role("button", name="Show 2 earlier queue updates").click()
    expect(updates.locator("visible=true")).to_have_count(3)
    shot(page, "inbox-conversation-1024")

    manager = console("/", **PHONE)
    log_on(manager, "mia@example.com")
    manager.get_by_role("button", name="Menu").click()
    browser_tests.go_to(manager, "Working hours")
    expect(manager.get_by_label("Monday")).to_be_visible()
    # No stray labels in the hours grid on a phone.
    stray = manager.locator(".hours-grid td").evaluate_all(
        "(cells) => cells.map((c) => getComputedStyle(c, '::before').content).filter((c) => c !== 'none')")
    assert stray == []
    expect(manager.locator("main")).to_contain_text("The time zone is chosen in Settings.")

    # The time zone is chosen from a list; every save says it worked.
    manager.get_by_role("button", name="Menu").click()
    browser_tests.go_to(manager, "Settings")
    manager.get_by_label("Time zone").select_option("Africa/Johannesburg")
    manager.get_by_role("button", name="Save settings").click()
    expect(manager.locator(".toast")).to_contain_text("Settings saved.")
    settings = api.ok(api.get("GetSettings", api.logon("mia@example.com")))["Settings"]
    assert {"TimeZone": "Africa/Johannesburg"} in settings
    manager.get_by_role("button", name="Menu").click()
    browser_tests.go_to(manager, "Tags")
    manager.get_by_role("button", name="New tag group").click()
    manager.get_by_role("dialog", name="New tag group").get_by_label("Name", exact=True).fill("Topics")
    manager.get_by_role("dialog", name="New tag group").get_by_role("button", name="Save").click()
    expect(manager.locator(".toast")).to_contain_text("Tag group created.")

    # /chat has an icon of its own: the browser asks for no /favicon.ico.
    requests: list[str] = []
    visitor = console("/chat", **PHONE)
    visitor.on("request", lambda r: requests.append(r.url))
    expect(visitor.locator("link[rel=icon]")).to_have_count(1)
    visitor.reload()
    expect(visitor.get_by_label("Your name")).to_be_visible()
    assert not [url for url in requests if url.endswith("/favicon.ico")]


def test_the_web_chat_looks_like_a_chat_widget(console, api, manager, server):
    from playwright.sync_api import expect

    api.ok(api.post("CreateDepartment", manager, {"Name": "Sales", "IncludeInWelcomeMenu": True,
                                                  "WelcomeMenuName": "Buy something", "MenuOption": 1}))
    sales = next(d["DepartmentID"] for d in api.ok(api.get("GetDepartments", manager))["Items"])
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    api.ok(api.post("UpdateSettings", manager, {"Settings": [
        {"CompanyName": "Acme Bikes"}, {"WebChatColour": "#8a1538"},
        {"WelcomeMessageNewCustomer": "Hi! We keep this conversation to help you. How can we help?"}]}))

    # A company's own page with the one script tag: a launcher opens the chat in a panel.
    site = console("/healthz", **LAPTOP)
    site.evaluate("""(src) => { const tag = document.createElement('script'); tag.src = src;
                                tag.dataset.colour = '#8a1538'; tag.dataset.label = 'Chat with Acme';
                                document.body.append(tag); }""", "/webchat/widget.js")
    launcher = site.get_by_role("button", name="Chat with Acme")
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    panel = site.frame_locator("#agentchat-panel iframe")
    expect(panel.get_by_role("heading", name="Chat with Acme Bikes")).to_be_visible()
    shot(site, "webchat-launcher-1440")

    visitor = console("/chat", **PHONE)
    # Company name, colour and greeting before anyone writes.
    expect(visitor.get_by_role("heading", name="Chat with Acme Bikes")).to_be_visible()
    expect(visitor).to_have_title("Chat with Acme Bikes")
    expect(visitor.locator("#greeting")).to_have_text("Hi! We keep this conversation to help you. How can we help?")
    assert visitor.locator("header").evaluate("(n) => getComputedStyle(n).backgroundColor") == "rgb(138, 21, 56)"
    shot(visitor, "webchat-start-390")
    start_web_chat(visitor, "Cora Customer", "Hello")
    conversation = visitor.get_by_role("list", name="Conversation")
    # The menu once: as buttons, not also as numbered lines.
    expect(visitor.get_by_role("button", name="1. Buy something")).to_be_visible()
    assert "1. Buy something" not in conversation.locator("li.Bot").first.evaluate(
        "(n) => [...n.childNodes].filter((c) => c.nodeType === 3).map((c) => c.textContent).join('')")
    visitor.get_by_role("button", name="1. Buy something").click()

    agent = console("/", **LAPTOP)
    log_on(agent, "sam@example.com")
    agent.get_by_role("button", name="Grab chat with Cora Customer").click()
    agent.get_by_label("Message", exact=True).fill("Hi Cora, Sam here.")
    agent.get_by_label("Message", exact=True).press("Enter")
    # "Sam Agent joined the chat", then his words.
    expect(conversation.locator("li.joined")).to_have_text("Sam Agent joined the chat")
    expect(conversation).to_contain_text("Hi Cora, Sam here.")
    # Emoji from a picker.
    visitor.get_by_role("button", name="Emoji").click()
    visitor.get_by_role("button", name="Insert \U0001F44D").click()
    expect(visitor.get_by_label("Your message")).to_have_value("\U0001F44D")
    visitor.get_by_role("button", name="Send").click()
    expect(agent.get_by_role("list", name="Messages")).to_contain_text("\U0001F44D")
    shot(visitor, "webchat-390")
    visitor.set_viewport_size(LAPTOP)
    shot(visitor, "webchat-1440")


def lifelike_chat(server, department_id: int, department: str, phone: str, name: str, *texts: str):
    """A queued WhatsApp chat as a real one reads: the tapped menu choice carries its title, then the customer's
    words."""
    from agentchat.chats.models import Message

    chat = queued_chat(server, department_id, phone=phone, name=name, first_text="Hi")

    async def titled(db):
        await db.execute(update(Message).where(Message.chat_id == chat.chat_id, Message.sender_type == "Customer",
                                               Message.text.is_(None)).values(text=department))
    server.with_db(titled)
    for text in texts:
        customer_writes(server, chat.customer_id, text)
    return chat


def test_screenshots_of_the_inbox_board_dashboard_and_web_chat(console, api, manager, server):
    """The pictures in docs/console.md, taken as a team would see a busy morning (test-artifacts/docs-*.png)."""
    from playwright.sync_api import expect

    sales = add_department(server, "Sales", menu_option=1)
    support = add_department(server, "Support", menu_option=2)
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales, support))
    add_agent(server, name="Olga Other", email="olga@example.com", department_ids=(sales,))
    api.ok(api.post("UpdateSettings", manager, {"Settings": [{"CompanyName": "Acme Bikes"}]}))
    sam, olga = api.logon("sam@example.com"), api.logon("olga@example.com")
    thandi = lifelike_chat(server, sales, "Sales", "27821000001", "Thandi Nkosi", "Do you have the red bike in medium?")
    api.ok(api.post("GrabChat", sam, {"ChatID": thandi.chat_id}))
    api.ok(api.post("SendMessage", sam, {"ChatID": thandi.chat_id, "Message": "Hi Thandi! Yes, one left in medium."}))
    customer_writes(server, thandi.customer_id, "Great, can you keep it for me until Saturday?")
    lerato = lifelike_chat(server, support, "Support", "27821000002", "Lerato Mokoena", "My order hasn't arrived")
    api.ok(api.post("GrabChat", sam, {"ChatID": lerato.chat_id}))
    api.ok(api.post("SendMessage", sam, {"ChatID": lerato.chat_id, "Message": "Sorry! Let me check the courier."}))
    pieter = lifelike_chat(server, sales, "Sales", "27821000003", "Pieter van Wyk", "Is there a discount for 3 bikes?")
    api.ok(api.post("GrabChat", olga, {"ChatID": pieter.chat_id}))
    for n, (name, text, minutes) in enumerate((("Sipho Dlamini", "Where is my refund? It has been two weeks", 7),
                                               ("Naledi Khumalo", "Can I change my delivery address?", 3),
                                               (None, "hello, anyone there?", 1))):
        chat = lifelike_chat(server, support if n != 1 else sales, "Support" if n != 1 else "Sales",
                             f"2782200000{n}", name, text)
        queued_minutes_ago(server, chat.chat_id, minutes)

    page = console("/", **LAPTOP)
    log_on(page, "sam@example.com")
    page.locator("#mine li", has_text="Thandi Nkosi").locator("a").click()
    expect(page.get_by_role("list", name="Messages")).to_contain_text("keep it for me until Saturday")
    shot(page, "docs-inbox-1440")
    page.get_by_role("tab", name="Waiting (3)").click()
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="‹ Chats").click()
    expect(page.locator("#queue li.chat-item")).to_have_count(3)
    shot(page, "docs-inbox-390")

    boss = console("/", **LAPTOP)
    log_on(boss, "mia@example.com")
    boss.get_by_role("link", name="Live board", exact=True).click()
    expect(boss.get_by_role("table", name="Agents now")).to_contain_text("Sam Agent")
    shot(boss, "docs-board-1440")
    boss.set_viewport_size(PHONE)
    shot(boss, "docs-board-390")
    boss.set_viewport_size(LAPTOP)
    boss.get_by_role("link", name="Dashboard", exact=True).click()
    expect(boss.locator(".tiles")).to_contain_text("Waiting")
    boss.wait_for_load_state("networkidle")
    shot(boss, "docs-dashboard-1440")
    boss.set_viewport_size(PHONE)
    shot(boss, "docs-dashboard-390")

    visitor = console("/chat", **LAPTOP)
    start_web_chat(visitor, "Cora Customer", "Hello, do you deliver to Durban?")
    visitor.get_by_role("button", name="1. Sales").click()
    boss.set_viewport_size(LAPTOP)
    boss.get_by_role("link", name="Inbox", exact=True).click()
    boss.get_by_role("tab", name=re.compile("^Waiting")).click()
    boss.get_by_role("button", name="Grab chat with Cora Customer").click()
    boss.get_by_label("Message", exact=True).fill("Hi Cora, Mia here. Yes, we deliver to Durban in 2 days.")
    boss.get_by_label("Message", exact=True).press("Enter")
    conversation = visitor.get_by_role("list", name="Conversation")
    expect(conversation).to_contain_text("we deliver to Durban")
    shot(visitor, "docs-webchat-1440")
    visitor.set_viewport_size(PHONE)
    conversation.locator("li").last.scroll_into_view_if_needed()
    shot(visitor, "docs-webchat-390")


def test_history_filtered_by_customer_agent_and_tag(console, api, server):
    from chat_helpers import add_tag
    from playwright.sync_api import expect

    sales = add_department(server, "Sales", menu_option=1)
    refund = add_tag(server, "Refund")
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    add_agent(server, name="Olga Other", email="olga@example.com", department_ids=(sales,))
    browser_tests.closed_chat(api, server, sales, "sam@example.com", phone="27821000001", name="Thandi Nkosi",
                              text="Refund please", tag_id=refund)
    browser_tests.closed_chat(api, server, sales, "olga@example.com", phone="27821000002", name="Sipho Dlamini",
                              text="Where is my order?")
    browser_tests.closed_chat(api, server, sales, "sam@example.com", phone="27821000003", name="Lerato Mokoena",
                              text="Thanks!")

    page = console("/", **LAPTOP)
    log_on(page, "sam@example.com")
    page.get_by_role("link", name="History", exact=True).click()
    history = page.get_by_role("table", name="Closed chats")
    expect(history.get_by_role("row")).to_have_count(4)
    show = page.get_by_role("button", name="Show")

    page.get_by_label("Agent", exact=True).select_option(label="Olga Other")
    show.click()
    expect(history.get_by_role("row")).to_have_count(2)
    expect(history).to_contain_text("Sipho Dlamini")
    page.get_by_label("Agent", exact=True).select_option(label="Any agent")
    page.get_by_label("Tag", exact=True).select_option(label="Topics: Refund")
    show.click()
    expect(history.get_by_role("row")).to_have_count(2)
    expect(history).to_contain_text("Thandi Nkosi")
    page.get_by_label("Tag", exact=True).select_option(label="Any tag")
    page.get_by_label("Customer", exact=True).fill("mokoena")
    show.click()
    expect(history.get_by_role("row")).to_have_count(2)
    expect(history).to_contain_text("Lerato Mokoena")
    page.get_by_label("Customer", exact=True).fill("nobody at all")
    show.click()
    customer = page.get_by_label("Customer", exact=True)
    expect(customer).to_have_attribute("aria-invalid", "true")
    expect(customer.locator("xpath=..")).to_contain_text("No customer matches “nobody at all”.")
    shot(page, "history-filters-1440")
