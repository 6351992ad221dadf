"""The console's screens for issue 23's features in a real browser (fixtures from test_console_browser.py): the
audit log; internal notes and mentions; search."""

from conftest import add_agent
from test_console_browser import browser, console, go_to, log_on, one_backend, shot  # noqa: F401, F811 (fixtures)

from agentchat.agents.models import ROLE_MANAGER


def test_manager_reads_and_filters_the_audit_log_and_sees_new_entries_live(console, api, server):  # noqa: F811
    from playwright.sync_api import expect

    add_agent(server, name="Mia Manager", email="mia@example.com", role_id=ROLE_MANAGER)
    add_agent(server, name="Ann", email="ann@example.com")
    api.post("AgentLogon", json={"EmailAddress": "ann@example.com", "Password": "not her password"})
    page = console("/")
    log_on(page, "mia@example.com")
    go_to(page, "Audit log")
    entries = page.get_by_role("table", name="Audit log")
    expect(entries).to_contain_text("AgentLogonFailed")
    expect(entries).to_contain_text("ann@example.com")
    expect(entries).not_to_contain_text("not her password")
    # A change made elsewhere arrives on the open page.
    mia = api.logon("mia@example.com")
    api.ok(api.post("UpdateSettings", mia, {"Settings": [{"CompanyName": "Channel"}]}))
    expect(entries).to_contain_text("SettingsUpdated")
    page.get_by_label("Action").select_option("AgentLogonFailed")
    page.get_by_role("button", name="Show").click()
    expect(entries).not_to_contain_text("SettingsUpdated")
    expect(entries).to_contain_text("AgentLogonFailed")
    shot(page, "manager-audit-log")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename == "audit-log.csv"


def test_agent_writes_a_note_mentioning_a_colleague_who_is_told_and_opens_it(console, api, server):  # noqa: F811
    from chat_helpers import add_department, queued_chat
    from playwright.sync_api import expect

    billing = add_department(server, "Billing", menu_option=1)
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(billing,))
    add_agent(server, name="Olga Other", email="olga@example.com", department_ids=(billing,))
    chat = queued_chat(server, billing, name="Thandi Nkosi", first_text="My invoice is wrong")

    olga = console("/")
    log_on(olga, "olga@example.com")
    sam = console("/")
    log_on(sam, "sam@example.com")
    sam.get_by_role("button", name="Grab next").click()
    messages = sam.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("My invoice is wrong")
    sam.get_by_text("Add an internal note").click()  # the note box is folded under the reply box
    sam.get_by_label("Internal note", exact=True).fill("@olga please check the refund rules")
    sam.get_by_role("button", name="Add note").click()
    shown = messages.locator("li.msg.Note")
    expect(shown).to_contain_text("Internal note · You")
    expect(shown).to_contain_text("@olga please check the refund rules")
    shot(sam, "agent-internal-note")

    expect(olga.locator("body")).to_contain_text("Sam Agent mentioned you")
    go_to(olga, "Mentions")
    mentions = olga.get_by_role("table", name="Your mentions")
    expect(mentions).to_contain_text("@olga please check the refund rules")
    mentions.get_by_role("button", name="Open the chat of this mention").click()
    expect(olga.get_by_role("list", name="Messages").locator("li.msg.Note")).to_contain_text("refund rules")
    olga_token = api.logon("olga@example.com")
    assert api.ok(api.get("GetMentions", olga_token, {"Unseen": "true"}))["Items"] == []
    transcript = api.ok(api.get("GetChat", olga_token, {"ChatID": chat.chat_id}))["Messages"]
    assert [m["SenderType"] for m in transcript].count("Note") == 1


def test_agent_searches_messages_and_opens_the_chat_found(console, api, server):  # noqa: F811
    from chat_helpers import add_department, queued_chat
    from playwright.sync_api import expect

    billing = add_department(server, "Billing", menu_option=1)
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(billing,))
    chat = queued_chat(server, billing, name="Thandi Nkosi", first_text="My <b>invoice</b> number 4411 is wrong")
    queued_chat(server, billing, phone="27820000009", name="Other Person", first_text="Something else entirely")

    page = console("/")
    log_on(page, "sam@example.com")
    go_to(page, "Search")
    page.get_by_label("Words").fill("invoice")
    page.get_by_role("button", name="Search", exact=True).click()
    found = page.get_by_role("list", name="Chats found")
    expect(found).to_contain_text("Thandi Nkosi")
    expect(found).not_to_contain_text("Other Person")
    # The customer's words are text: the <b> is shown, the match marked by the console alone.
    expect(found.locator("mark")).to_have_text("invoice")
    expect(found).to_contain_text("<b>")
    shot(page, "agent-search")
    found.get_by_role("link", name="Thandi Nkosi").click()
    expect(page.get_by_role("list", name="Messages")).to_contain_text("number 4411")
    assert f"#/inbox/{chat.chat_id}" in page.url
