"""The console's template picker in a real browser (Chromium via Playwright, as tests/test_console_browser.py): on
a WhatsApp chat whose 24-hour window has closed the agent is told why free text is off, fills in an approved
template, sends it (the Graph API stand-in receives Meta's template message), and gets the reply box back when the
customer answers."""

from chat_helpers import add_department, queued_chat
from conftest import add_agent
from test_console_browser import browser, console, log_on, one_backend, shot  # noqa: F401 (fixtures)
from test_templates import WA_ID, close_window, sent_templates
from test_whatsapp import send_text


def test_agent_sends_a_template_on_a_closed_window_and_replies_freely_after_the_answer(console, api, manager,  # noqa: F811
                                                                                         server, graph_api):
    from playwright.sync_api import expect

    api.ok(api.post("SyncTemplates", manager))
    sales = add_department(server, "Sales", menu_option=1)
    add_agent(server, name="Sam Agent", email="sam@example.com", department_ids=(sales,))
    chat_id = queued_chat(server, sales, phone=WA_ID, name="Thandi Nkosi", first_text="Is my order ready?").chat_id
    api.ok(api.post("GrabChat", api.logon("sam@example.com"), {"ChatID": chat_id}))
    close_window(server, chat_id)

    page = console("/")
    log_on(page, "sam@example.com")
    page.evaluate(f"location.hash = '#/inbox/{chat_id}'")
    picker = page.get_by_role("form", name="Send a template")
    expect(picker).to_contain_text("Free text is off")
    expect(picker).to_contain_text("24 hours")
    expect(page.get_by_label("Message", exact=True)).to_have_count(0)

    picker.get_by_label("Template").select_option(label="seasonal_promotion (en_US)")
    picker.get_by_label("Header {{1}}").fill("Summer Sale")
    for placeholder, value in (("1", "the end of August"), ("2", "25OFF"), ("3", "25%")):
        picker.get_by_label(f"Body {{{{{placeholder}}}}}").fill(value)
    expect(page.locator("#template-preview")).to_contain_text("Our Summer Sale is on!")
    shot(page, "agent-template-picker")
    picker.get_by_role("button", name="Send template").click()

    messages = page.get_by_role("list", name="Messages")
    expect(messages).to_contain_text("Shop now through the end of August and use code 25OFF")
    sent = graph_api.wait_for(lambda standin: sent_templates(standin))
    assert sent[0]["template"]["name"] == "seasonal_promotion"
    assert sent[0]["template"]["components"][0] == {"type": "header", "parameters": [
        {"type": "text", "text": "Summer Sale"}]}

    send_text(server, "Yes please, tell me more", wa_id=WA_ID)
    expect(messages).to_contain_text("Yes please, tell me more")
    expect(page.get_by_label("Message", exact=True)).to_be_visible()
    expect(page.get_by_role("form", name="Send a template")).to_have_count(0)
